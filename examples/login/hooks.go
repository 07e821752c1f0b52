package main

import (
	"context"
	"net/http"

	verify "github.com/verifykit/verify-go"
)

// onEvent gets each webhook event that NewWebhookHandler verified (signed
// with our auth token, not seen before) and logs it. A challenge's answer frees the
// user's push slot, even if the login that sent it hung up, and goes to
// the events (the hub, or the Redis bus that reaches every instance), which
// end the Wait of the push login at once. Other events are
// answered and ignored: a factor.verified event names an identity, not
// the session whose token made the factor, so a new phone is recorded
// only by /enroll/push/done in the session that asked for the token.
func (a *app) onEvent(ctx context.Context, ev *verify.Event) error {
	a.hookLog.Info("webhook event", "event", ev)
	if ev.Type == verify.EventChallengeApproved || ev.Type == verify.EventChallengeDenied {
		a.pushes.answered(ev.EntityIdentity, ev.ChallengeSID)
		return a.events.Publish(ctx, ev)
	}
	return nil
}

// onReject logs a delivery /hooks/verify refused, with the reason the
// answer leaves out: a wrong auth token or -public-url makes every delivery
// a 403 that only this line shows (pushes then end on the 10 s safety poll).
func (a *app) onReject(_ *http.Request, rej *verify.WebhookRejection) {
	a.hookLog.Info("webhook rejected", "rejection", rej)
}
