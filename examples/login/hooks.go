package main

import (
	"context"
	"errors"
	"net/http"

	verify "github.com/verifykit/verify-go"
)

// onEvent gets each webhook event that NewWebhookHandler verified (signed
// with our auth token, not seen before) and logs it. A challenge's answer
// goes to the hub, which ends the Wait of the push login at once (Wait then
// Fetches the challenge: the event only wakes it). A verified push factor is
// recorded on the user whose identity it names, only if that user's app was
// given an access token (users.expectsPush, recordPush) and once the API
// confirms that the factor is that identity's, verified and push, so that
// a stray event attaches nothing. The confirmation matters: Twilio's
// signature cannot bind where a free-text value such as the identity ends,
// so a captured event for user-0001-alex can be re-cut into one for
// user-0001-al. Other events are answered and ignored.
func (a *app) onEvent(ctx context.Context, ev *verify.Event) error {
	a.hookLog.Info("webhook event", "event", ev)
	switch {
	case ev.Type == verify.EventChallengeApproved, ev.Type == verify.EventChallengeDenied:
		return a.hub.Publish(ctx, ev)
	case ev.Type == verify.EventFactorVerified && ev.FactorType == verify.FactorTypePush && ev.ServiceSID == a.serviceSID &&
		a.users.expectsPush(ev.EntityIdentity, a.now()):
		f, err := a.verify.Factors.Fetch(ctx, a.serviceSID, ev.EntityIdentity, ev.FactorSID)
		switch {
		case errors.Is(err, verify.ErrNotFound):
			return nil // not that identity's factor: nothing to record, nothing to retry
		case err != nil:
			return err // 500: Twilio retries the event
		case f.Status == verify.FactorStatusVerified && f.FactorType == verify.FactorTypePush:
			a.users.recordPush(ev.EntityIdentity, f.SID, a.now())
		}
	}
	return nil
}

// onReject logs a delivery /hooks/verify refused, with the reason the
// answer leaves out: a wrong auth token or -public-url makes every delivery
// a 403 that only this line shows (pushes then end on the 10 s safety poll).
func (a *app) onReject(_ *http.Request, rej *verify.WebhookRejection) {
	a.hookLog.Info("webhook rejected", "rejection", rej)
}
