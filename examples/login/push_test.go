package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHangingUpKeepsThePushSlot: the push's challenge expires when the
// login stops waiting for it, not 5 minutes later; a client that hangs up
// does not free the one-push-at-a-time slot while the prompt is still on
// the phone. The slot is free again once the phone answers (the webhook
// says so) or the wait is over.
func TestHangingUpKeepsThePushSlot(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	sid := f.pushHungUp(ada)
	ch, err := f.look.Challenges.Fetch(ctx, f.fake.ServiceSID(), ada.identity, sid)
	if err != nil {
		t.Fatal(err)
	}
	if life := ch.ExpirationDate.Sub(ch.DateCreated); life > f.app.pushTimeout+time.Second {
		t.Errorf("the challenge expires %s after it was made, want the login's wait, %s", life, f.app.pushTimeout)
	}
	if status, body := f.login(ada).post("/login/push", nil); status != 429 || body != "a push is already waiting on your phone" {
		t.Errorf("a push after the first one's client hung up: %d %q, want 429", status, body)
	}
	if _, err := ada.phone.Deny(ctx, sid); err != nil {
		t.Fatal(err)
	}
	f.settle()
	if status, body := f.login(ada).pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Errorf("a push once the phone denied the first one: %d %q, want 200 welcome", status, body)
	}

	f.pushHungUp(ada)
	f.clock.Advance(f.app.pushTimeout)
	if status, body := f.login(ada).pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Errorf("a push once an unanswered one's wait is over: %d %q, want 200 welcome", status, body)
	}
}

// pushHungUp starts a push login for a and hangs up once it waits for
// the phone; it returns the push's challenge.
func (f *fixture) pushHungUp(a *account) string {
	f.t.Helper()
	b := f.login(a)
	from := f.api.mark()
	hangUp, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(hangUp, "POST", b.base+"/login/push", nil)
		if err == nil {
			req.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
			var resp *http.Response
			if resp, err = b.client.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		done <- err
	}()
	sid := f.pushWaiting(from, a.identity)
	cancel()
	if err := <-done; err == nil {
		f.t.Fatal("the hung-up request got an answer")
	}
	return sid
}

// TestPushBudgets: someone with ada's password, from one address, gets a
// few pushes that nobody approves, then waits longer and longer; ada,
// from her own address, still gets hers. Spread over many addresses,
// unapproved pushes stop at 30 for the day, and an approved push is given
// back.
func TestPushBudgets(t *testing.T) {
	f := setup(t)
	f.trustProxy()
	ada := f.addUser("ada", "user-0001-ada")
	thief := f.login(ada)
	for i := range pushesPerAddress.free {
		if status, body := thief.pushAnsweredFrom(ada.phone, false, "203.0.113.7"); status != 401 {
			t.Fatalf("the thief's push %d: %d %q, want 401 push denied", i+1, status, body)
		}
	}
	if status, body := thief.postWith("/login/push", nil, from("203.0.113.7")); status != 429 || body != "too many attempts; try again in 1m0s" {
		t.Errorf("the thief's next push: %d %q, want 429", status, body)
	}
	if status, body := f.login(ada).pushAnsweredFrom(ada.phone, true, "198.51.100.1"); status != 200 || body != "welcome" {
		t.Errorf("ada's push from her address: %d %q, want 200 welcome", status, body)
	}

	for i := pushesPerAddress.free; i < pushesPerUserDaily.free; i++ {
		if status, body := thief.pushAnsweredFrom(ada.phone, false, fmt.Sprintf("203.0.114.%d", i)); status != 401 {
			t.Fatalf("unapproved push %d, from a new address: %d %q, want 401 push denied", i+1, status, body)
		}
	}
	unapproved := pushesPerUserDaily.free
	if status, body := thief.postWith("/login/push", nil, from("203.0.115.1")); status != 429 {
		t.Errorf("unapproved push %d in a day: %d %q, want 429", unapproved+1, status, body)
	}
	if status, body := f.login(ada).postWith("/login/push", nil, from("198.51.100.1")); status != 429 || !strings.HasPrefix(body, "too many attempts; try again in ") {
		t.Errorf("ada's push after %d unapproved ones: %d %q, want 429", unapproved, status, body)
	}
}

// TestFailedPushFreesTheSlot: a push that Verify refused put nothing on
// the phone, so it neither holds the slot nor counts.
func TestFailedPushFreesTheSlot(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	b := f.login(ada)
	f.fake.FailNext(1, 404, 0)
	if status, body := b.post("/login/push", nil); status != 503 {
		t.Errorf("a push Verify refused with a bare 404: %d %q, want 503", status, body)
	}
	if status, body := b.pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Errorf("the next push: %d %q, want 200 welcome", status, body)
	}
}
