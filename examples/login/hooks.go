package main

import (
	"context"

	verify "github.com/verifykit/verify-go"
)

// onEvent gets each webhook event that NewWebhookHandler verified (signed
// with our auth token, not seen before). A challenge's answer goes to the
// hub, which ends the Wait of the push login at once; a verified push
// factor is recorded on the user whose identity it names, but only if
// that user's app was given an access token (users.recordPush), so that a
// stray event attaches nothing. Other events are answered and ignored.
func (a *app) onEvent(ctx context.Context, ev *verify.Event) error {
	switch {
	case ev.Type == verify.EventChallengeApproved, ev.Type == verify.EventChallengeDenied:
		return a.hub.Publish(ctx, ev)
	case ev.Type == verify.EventFactorVerified && ev.FactorType == verify.FactorTypePush && ev.ServiceSID == a.serviceSID:
		a.users.recordPush(ev.EntityIdentity, ev.FactorSID, a.now())
	}
	return nil
}
