package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
)

// TestPushEndsOnWebhook: an approved and a denied push each end the login
// on their webhook event. Each login Fetches its challenge exactly twice:
// once when it starts waiting, once when the event arrives. The safety-net
// poll (every 10 s) would come after the 5 s the fixture's logins wait.
func TestPushEndsOnWebhook(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")

	for _, tc := range []struct {
		approve bool
		status  int
		body    string
	}{{true, 200, "welcome"}, {false, 401, "push denied"}} {
		b := f.login(ada)
		from := f.api.mark()
		if status, body := b.pushAnswered(ada.phone, tc.approve, nil); status != tc.status || body != tc.body {
			t.Errorf("approve=%t: %d %q, want %d %q", tc.approve, status, body, tc.status, tc.body)
		}
		if n := f.fetches(from, b.lastPush); n != 2 {
			t.Errorf("approve=%t: the login fetched its challenge %d times, want 2 (start, then the event)", tc.approve, n)
		}
	}
	f.settle()
	approved, denied := f.deliveries(verify.EventChallengeApproved), f.deliveries(verify.EventChallengeDenied)
	if len(approved) != 1 || !strings.HasSuffix(approved[0], "attempt 1: 204") ||
		len(denied) != 1 || !strings.HasSuffix(denied[0], "attempt 1: 204") {
		t.Errorf("deliveries %q and %q, want one each, answered 204 at the first attempt", approved, denied)
	}
}

// TestDuplicateDeliveryChangesNothing: Twilio sends an approval twice. The
// first copy ends the login; the second is answered 200 without reaching
// the app, and the session stays as the first left it.
func TestDuplicateDeliveryChangesNothing(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	f.settle() // the seeded factors' events are out of the way: the next delivery is the push's

	f.fake.DuplicateNextDelivery()
	b := f.login(ada)
	from := f.api.mark()
	if status, body := b.pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Fatalf("approved push: %d %q, want 200 welcome", status, body)
	}
	f.settle()
	sid := b.lastPush
	want := []string{
		"challenge.approved " + sid + " attempt 1: 204",
		"challenge.approved " + sid + " attempt 1: 200 (duplicate)",
	}
	if got := f.deliveries(verify.EventChallengeApproved); !slices.Equal(got, want) {
		t.Errorf("deliveries %q, want %q", got, want)
	}
	if n := f.fetches(from, sid); n != 2 {
		t.Errorf("the login fetched its challenge %d times, want 2: the duplicate must not reach it", n)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 || body != "logged in as ada" {
		t.Errorf("/me after the duplicate: %d %q", status, body)
	}
}

// TestDelayedDeliveryEndsTheWait: the approval's webhook comes 300 ms
// late. The login waits for it and ends on it, not on a poll: exactly two
// Fetches, and the second can only have been the event's.
func TestDelayedDeliveryEndsTheWait(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	f.settle()

	f.fake.DelayDeliveries(300 * time.Millisecond)
	b := f.login(ada)
	from := f.api.mark()
	if status, body := b.pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Fatalf("approved push, its webhook delayed: %d %q, want 200 welcome", status, body)
	}
	sid := b.lastPush
	if n := f.fetches(from, sid); n != 2 {
		t.Errorf("the login fetched its challenge %d times, want 2 (start, then the delayed event)", n)
	}
	f.settle()
	if got, want := f.deliveries(verify.EventChallengeApproved), []string{"challenge.approved " + sid + " attempt 1: 204"}; !slices.Equal(got, want) {
		t.Errorf("deliveries %q, want %q", got, want)
	}
}

// TestForgedDeliveryIsRefused: an approval for a waiting push that Twilio
// did not sign (no signature, another token, or signed for another URL)
// is refused with 403 and neither approves nor wakes the login; the same
// form signed right is accepted.
func TestForgedDeliveryIsRefused(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	b := f.login(ada)

	from := f.api.mark()
	done := make(chan string, 1)
	go func() {
		status, body := b.post("/login/push", nil)
		done <- fmt.Sprint(status, " ", body)
	}()
	sid := f.pushWaiting(from, ada.identity)
	forged := f.event(verify.EventChallengeApproved, ada.identity, ada.phone.FactorSID)
	forged.Set("challenge_sid", sid)
	forged.Set("challenge_status", "approved")
	for name, signature := range map[string]string{
		"no signature":  "",
		"another token": verify.SignWebhook("fedcba9876543210fedcba9876543210", f.hookURL, forged),
		"another URL":   verify.SignWebhook(f.fake.AuthToken(), "https://login.example.com/hooks/verify", forged),
	} {
		status, body := f.deliver(forged, signature)
		if status != 403 || !strings.HasPrefix(body, "verify: webhook signature invalid") {
			t.Errorf("%s: %d %q, want 403", name, status, body)
		}
	}
	if _, err := ada.phone.Deny(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != "401 push denied" {
		t.Errorf("login after forged approvals and a real denial: %q, want 401 push denied", got)
	}
	if n := f.fetches(from, sid); n != 2 {
		t.Errorf("the login fetched its challenge %d times, want 2: a forged event must not wake it", n)
	}

	other := f.event(verify.EventFactorDeleted, ada.identity, ada.phone.FactorSID) // harmless: the app ignores it
	if status, body := f.deliver(other, verify.SignWebhook(f.fake.AuthToken(), f.hookURL, other)); status != 204 || body != "" {
		t.Errorf("a rightly signed event: %d %q, want 204", status, body)
	}
}

// TestWebhookTokenRotation: mid-rotation the app lists a new auth token
// first and the old one second. The fake still signs with the old one, and
// pushes still end on its webhooks; a delivery signed with the new one is
// accepted too.
func TestWebhookTokenRotation(t *testing.T) {
	f := newFixture(t, true)
	ada := f.addUser("ada", "user-0001-ada")
	b := f.login(ada)
	from := f.api.mark()
	if status, body := b.pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Fatalf("approved push, signed with the previous token: %d %q, want 200 welcome", status, body)
	}
	if n := f.fetches(from, b.lastPush); n != 2 {
		t.Errorf("the login fetched its challenge %d times, want 2", n)
	}
	ev := f.event(verify.EventFactorDeleted, ada.identity, ada.phone.FactorSID)
	if status, _ := f.deliver(ev, verify.SignWebhook(newAuthToken, f.hookURL, ev)); status != 204 {
		t.Errorf("an event signed with the new token: %d, want 204", status)
	}
}

// event is a webhook event's form as the fake would send it, with a fresh
// uuid.
func (f *fixture) event(typ verify.EventType, identity, factorSID string) url.Values {
	return url.Values{
		"uuid": {rand.Text()}, "type": {string(typ)}, "account_sid": {f.fake.AccountSID()},
		"service_sid": {f.fake.ServiceSID()}, "entity_identity": {identity},
		"factor_sid": {factorSID}, "factor_type": {"push"},
	}
}

// deliver posts form to the login server's /hooks/verify with signature
// (none when empty), as a webhook delivery, and returns its answer.
func (f *fixture) deliver(form url.Values, signature string) (int, string) {
	f.t.Helper()
	req, err := http.NewRequest("POST", f.hookURL, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set(verify.SignatureHeader, signature)
	}
	resp, body := f.browser().sendRequest(req)
	if resp == nil {
		return 0, ""
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}
