package verifytest_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestWaitOnAFakeClockInThePast: Wait judges expiry by the server's Date
// header, so the fake must send its own clock there. On a clock pinned in
// 2024, a push approved once Wait has read it pending (and so judged its
// expiry) is approved, not expired.
func TestWaitOnAFakeClockInThePast(t *testing.T) {
	t.Parallel()
	pinned := time.Date(2024, time.March, 14, 9, 26, 53, 0, time.UTC)
	// The client logs each request once answered: a GET is a Fetch of Wait's.
	polled := make(chan struct{}, 1)
	logged := onWrite(func(record []byte) {
		if bytes.Contains(record, []byte("method=GET")) {
			select {
			case polled <- struct{}{}:
			default:
			}
		}
	})
	logger := slog.New(slog.NewTextHandler(logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return pinned })}, verify.WithLogger(logger))
	dev, ch := newPush(t, srv, c)
	if !ch.DateCreated.Equal(pinned) {
		t.Fatalf("created at %v, want the fake's clock %v", ch.DateCreated, pinned)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-polled: // Wait read it pending: on the machine's clock it expired long ago
		case <-wctx.Done():
			t.Errorf("Wait never fetched the challenge")
			return
		}
		if _, err := dev.Approve(wctx, ch.SID); err != nil {
			t.Errorf("Approve: %v", err)
		}
	}()
	got, err := c.Challenges.Wait(wctx, srv.ServiceSID(), identity, ch.SID, &verify.WaitOptions{Interval: 50 * time.Millisecond})
	wg.Wait()
	if err != nil || !got.Status.IsApproved() {
		t.Fatalf("Wait on a fake clock in 2024: %v, %v; want approved", got, err)
	}
}

// TestDateHeaderIsTheFakesClock: every answer, an error or an injected
// fault included, carries the fake's time in Date, and follows Advance.
func TestDateHeaderIsTheFakesClock(t *testing.T) {
	t.Parallel()
	pinned := time.Date(2024, time.March, 14, 9, 26, 53, 0, time.UTC)
	srv := verifytest.NewServer(verifytest.WithClock(func() time.Time { return pinned }))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	date := func(path, user string) (int, time.Time) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, srv.AuthToken())
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("GET %s: Date %q: %v", path, resp.Header.Get("Date"), err)
		}
		return resp.StatusCode, d
	}
	list := servicePath(srv.ServiceSID()) + "/Entities"
	for _, tc := range []struct {
		what, path, user string
		status           int
	}{
		{"a list", list, srv.AccountSID(), http.StatusOK},
		{"a 404", servicePath(srv.ServiceSID()) + "/Nothing", srv.AccountSID(), http.StatusNotFound},
		{"a 401", list, "AC00000000000000000000000000000000", http.StatusUnauthorized},
	} {
		if status, d := date(tc.path, tc.user); status != tc.status || !d.Equal(pinned) {
			t.Errorf("%s: %d with Date %v, want %d with %v", tc.what, status, d, tc.status, pinned)
		}
	}
	srv.FailNext(1, http.StatusServiceUnavailable, 0)
	if status, d := date(list, srv.AccountSID()); status != http.StatusServiceUnavailable || !d.Equal(pinned) {
		t.Errorf("an injected 503: %d with Date %v, want %v", status, d, pinned)
	}
	srv.Advance(90 * time.Minute)
	if _, d := date(list, srv.AccountSID()); !d.Equal(pinned.Add(90 * time.Minute)) {
		t.Errorf("after Advance(90m): Date %v, want %v", d, pinned.Add(90*time.Minute))
	}
}

// onWrite is an io.Writer that hands each write to a function; a slog
// handler writes once per record.
type onWrite func([]byte)

func (f onWrite) Write(p []byte) (int, error) {
	f(p)
	return len(p), nil
}

// fetchLog is a transport that reports the status and the server's Date of
// every GET it carries.
type fetchLog struct {
	next http.RoundTripper
	gets chan fetched
}

type fetched struct {
	status int
	date   time.Time
}

func (f *fetchLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodGet {
		d, _ := http.ParseTime(resp.Header.Get("Date"))
		f.gets <- fetched{resp.StatusCode, d}
	}
	return resp, err
}

// TestWaitThroughABlipAtExpiry is issue 13 over loopback TCP: the phone
// approves a second or two before the challenge expires, while the API
// answers Wait's Fetches with 503s, until past the expiration date plus the
// 2 s grace on the server's clock. Wait must not call it expired from the
// pending read it took before the blip: the Fetch that works after the blip
// says approved, and so must Wait.
func TestWaitThroughABlipAtExpiry(t *testing.T) {
	t.Parallel()
	const grace = 2 * time.Second // Wait's expiryGrace
	srv := verifytest.NewServer()
	tr := &http.Transport{}
	log := &fetchLog{next: tr, gets: make(chan fetched, 64)}
	c := srv.Client(verify.WithHTTPClient(&http.Client{Transport: log}), verify.WithMaxRetries(0))
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	dev, err := srv.NewPushDevice(srv.ServiceSID(), identity)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{
		FactorSID: dev.FactorSID, Details: &verify.Details{Message: "Log in?"},
		ExpirationDate: time.Now().Add(2 * time.Second)}) // the fake keeps whole seconds: 1 to 2 s from now
	if err != nil {
		t.Fatal(err)
	}
	hub := verify.NewEventHub()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second) // only stops a broken test
	defer cancel()
	type result struct {
		ch  *verify.Challenge
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Polls an hour apart: Wait Fetches only for its looks at the
		// expiration date and past the grace, and on the event below.
		got, err := c.Challenges.Wait(wctx, srv.ServiceSID(), identity, ch.SID, &verify.WaitOptions{Events: hub, Interval: time.Hour})
		done <- result{got, err}
	}()
	next := func(what string) fetched {
		t.Helper()
		select {
		case f := <-log.gets:
			return f
		case r := <-done:
			t.Fatalf("waiting for %s, Wait returned: %v", what, r.err)
		case <-wctx.Done():
			t.Fatalf("waiting for %s: %v", what, wctx.Err())
		}
		return fetched{}
	}
	if f := next("the first Fetch"); f.status != http.StatusOK {
		t.Fatalf("first Fetch: %d, want 200", f.status)
	}
	srv.FailNext(1<<20, http.StatusServiceUnavailable, 0) // the blip
	if _, err := dev.Approve(ctx, ch.SID); err != nil {   // a Device's requests never fail
		t.Fatal(err)
	}
	failed := 0
	for {
		f := next("a Fetch past the grace")
		if f.status != http.StatusServiceUnavailable {
			t.Fatalf("a Fetch in the blip: %d, want 503", f.status)
		}
		failed++
		if !f.date.Before(ch.ExpirationDate.Add(grace)) {
			break // Wait read nothing past the grace: it cannot know the answer yet
		}
	}
	srv.FailNext(0, 0, 0) // the blip ends
	if err := hub.Publish(ctx, &verify.Event{UUID: "approved", Type: verify.EventChallengeApproved, ChallengeSID: ch.SID}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.ch == nil || !r.ch.Status.IsApproved() {
		status := verify.ChallengeStatus("no challenge")
		if r.ch != nil {
			status = r.ch.Status
		}
		t.Fatalf("approved during a blip at expiry: %s, %v; want approved", status, r.err)
	}
	if f := next("the Fetch after the blip"); f.status != http.StatusOK || failed < 2 {
		t.Errorf("after %d failed Fetches, the last %d; want 200 after at least 2 (at the expiration date, past the grace)", failed, f.status)
	}
	if got, err := c.Challenges.Fetch(ctx, srv.ServiceSID(), identity, ch.SID); err != nil || !got.Status.IsApproved() {
		t.Errorf("Fetch afterwards: %v; want approved", err)
	}
}
