package main

import (
	"context"
	"net/http"

	verify "github.com/verifykit/verify-go"
)

// onEvent gets each webhook event that NewWebhookHandler verified (signed
// with our auth token, not seen before) and logs it. A challenge's answer goes to the
// hub, which ends the Wait of the push login at once; a verified push
// factor is recorded on the user whose identity it names, but only if
// that user's app was given an access token (users.recordPush), so that a
// stray event attaches nothing. Other events are answered and ignored.
func (a *app) onEvent(ctx context.Context, ev *verify.Event) error {
	a.hookLog.Info("webhook event", "event", ev)
	switch {
	case ev.Type == verify.EventChallengeApproved, ev.Type == verify.EventChallengeDenied:
		return a.hub.Publish(ctx, ev)
	case ev.Type == verify.EventFactorVerified && ev.FactorType == verify.FactorTypePush && ev.ServiceSID == a.serviceSID:
		a.users.recordPush(ev.EntityIdentity, ev.FactorSID, a.now())
	}
	return nil
}

// onReject logs a delivery /hooks/verify refused, with the reason the
// answer leaves out: a wrong auth token or -public-url makes every delivery
// a 403 that only this line shows (pushes then end on the 10 s safety poll).
func (a *app) onReject(_ *http.Request, rej *verify.WebhookRejection) {
	a.hookLog.Info("webhook rejected", "rejection", rej)
}
