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
	"github.com/verifykit/verify-go/verifytest"
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
		"another token": verifytest.SignWebhook("fedcba9876543210fedcba9876543210", f.hookURL, forged),
		"another URL":   verifytest.SignWebhook(f.fake.AuthToken(), "https://login.example.com/hooks/verify", forged),
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
	if status, body := f.deliver(other, verifytest.SignWebhook(f.fake.AuthToken(), f.hookURL, other)); status != 204 || body != "" {
		t.Errorf("a rightly signed event: %d %q, want 204", status, body)
	}
}

// TestWebhookTokenRotation: mid-rotation the app lists a new auth token
// first and the old one second. The fake still signs with the old one, and
// pushes still end on its webhooks; a delivery signed with the new one is
// accepted too.
func TestWebhookTokenRotation(t *testing.T) {
	f := newFixture(t, fixtureOptions{rotated: true})
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
	if status, _ := f.deliver(ev, verifytest.SignWebhook(newAuthToken, f.hookURL, ev)); status != 204 {
		t.Errorf("an event signed with the new token: %d, want 204", status)
	}
}

// event is a webhook event's form as the fake would send it, with a fresh
// uuid, created now.
func (f *fixture) event(typ verify.EventType, identity, factorSID string) url.Values {
	return url.Values{
		"uuid": {rand.Text()}, "type": {string(typ)}, "account_sid": {f.fake.AccountSID()},
		"service_sid": {f.fake.ServiceSID()}, "entity_identity": {identity},
		"factor_sid": {factorSID}, "factor_type": {"push"},
		"date_created": {time.Now().UTC().Format(time.RFC3339)},
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

// TestWebhookDeliveriesAreLogged: each delivery the app gets is one info
// line naming the event, and each one /hooks/verify refuses is one info
// line with the status, why and the URL it checked; neither holds the auth
// token or the signature.
func TestWebhookDeliveriesAreLogged(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	f.settle()
	f.hookLogs.Reset()

	b := f.login(ada)
	if status, body := b.pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Fatalf("approved push: %d %q", status, body)
	}
	f.settle()
	want := fmt.Sprintf(`level=INFO msg="webhook event" event.type=challenge.approved event.uuid=%s event.challenge_sid=%s event.challenge_status=approved event.factor_sid=%s event.factor_type=push event.date_created=`,
		f.lastUUID(verify.EventChallengeApproved), b.lastPush, ada.phone.FactorSID)
	if got := f.hookLogs.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, want) {
		t.Errorf("log after an approved push:\n%s\nwant one line starting\n%s", got, want)
	}

	f.hookLogs.Reset()
	forged := f.event(verify.EventChallengeApproved, ada.identity, ada.phone.FactorSID)
	signature := verifytest.SignWebhook("fedcba9876543210fedcba9876543210", f.hookURL, forged)
	if status, _ := f.deliver(forged, signature); status != 403 {
		t.Fatalf("forged delivery: %d, want 403", status)
	}
	got := f.hookLogs.String()
	want = `level=INFO msg="webhook rejected" rejection.status=403 rejection.reason="verify: webhook signature invalid: X-Twilio-Signature matches none of the 1 auth token(s) for PublicURL (` +
		f.hookURL + `), nor for the URL the request came to: a wrong or outdated auth token`
	if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, want) || !strings.HasSuffix(got, " rejection.url="+f.hookURL+"\n") {
		t.Errorf("log after a forged delivery:\n%s\nwant one line starting\n%s\nand ending with its url", got, want)
	}
	for _, secret := range []string{f.fake.AuthToken(), signature} {
		if strings.Contains(f.hookLogs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// lastUUID is the uuid of the last event of type typ the fake delivered.
func (f *fixture) lastUUID(typ verify.EventType) string {
	uuid := ""
	for _, d := range f.fake.Deliveries() {
		if d.Type == typ {
			uuid = d.EventUUID
		}
	}
	return uuid
}

// TestRecutFactorEventAttachesNothing: Twilio's signature cannot bind where
// a free-text value ends, so a captured factor.verified for
// user-0001-alex can be re-cut, with the same signature, into one for
// user-0001-al beside an unknown key "ex". The app asks the API whether
// the factor is al's before recording it: al, who has a push enrollment
// pending, does not get alex's phone.
func TestRecutFactorEventAttachesNothing(t *testing.T) {
	f := setup(t)
	alex := f.addUser("alex", "user-0001-alex")
	al := f.addBareUser("al", "user-0001-al")
	b := f.login(al)
	f.pushToken(b)
	f.settle()

	captured := f.event(verify.EventFactorVerified, alex.identity, alex.phone.FactorSID)
	recut := url.Values{}
	for k, v := range captured {
		recut[k] = v
	}
	recut.Set("entity_identity", al.identity)
	recut.Set("ex", "")
	if a, b := verifytest.SignWebhook(f.fake.AuthToken(), f.hookURL, captured), verifytest.SignWebhook(f.fake.AuthToken(), f.hookURL, recut); a != b {
		t.Fatalf("the re-cut form is not signed alike: %s, %s", a, b)
	}
	if status, body := f.deliver(recut, verifytest.SignWebhook(f.fake.AuthToken(), f.hookURL, captured)); status != 204 {
		t.Errorf("re-cut delivery: %d %q, want 204 (accepted, attached to no one)", status, body)
	}
	if status, body := b.post("/login/push", nil); status != 400 || body != "this account has no push factor; use /login/totp" {
		t.Errorf("al's push after alex's re-cut event: %d %q, want 400: no push factor", status, body)
	}
}
