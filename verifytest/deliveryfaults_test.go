package verifytest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestDuplicateNextDelivery: the next event goes out twice with the same
// uuid; NewWebhookHandler answers 204, then 200 for the duplicate, and
// calls back once. The event after it goes out once.
func TestDuplicateNextDelivery(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	rc := newReceiver(t, srv, "/hooks")
	srv.DuplicateNextDelivery()
	first := oneEvent(t, srv, rc.hookURL)
	settle(t, srv)

	d := srv.Deliveries()
	if len(d) != 2 || d[0].EventUUID != d[1].EventUUID || d[0].FactorSID != first ||
		d[0].Duplicate || d[0].Attempt != 1 || d[0].StatusCode != http.StatusNoContent ||
		!d[1].Duplicate || d[1].Attempt != 1 || d[1].StatusCode != http.StatusOK {
		t.Fatalf("deliveries %+v, want the event answered 204, then its duplicate 200", d)
	}
	requests, events := rc.got()
	if len(requests) != 2 || string(requests[0].body) != string(requests[1].body) || requests[0].signature != requests[1].signature {
		t.Errorf("the two requests differ: %+v", requests)
	}
	if len(events) != 1 {
		t.Errorf("callback ran %d times, want once", len(events))
	}

	if _, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil); err != nil {
		t.Fatal(err)
	}
	settle(t, srv)
	if d := srv.Deliveries(); len(d) != 3 || d[2].Duplicate || d[2].StatusCode != http.StatusNoContent {
		t.Errorf("the next event: %+v, want one more delivery, not a duplicate", d)
	}
}

// TestDropNextDelivery: the next event is never sent, nor retried, nor
// listed; the one after it arrives.
func TestDropNextDelivery(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	rc := newReceiver(t, srv, "/hooks")
	srv.DropNextDelivery()
	oneEvent(t, srv, rc.hookURL) // lost
	second, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, srv)

	requests, events := rc.got()
	if len(requests) != 1 || len(events) != 1 || events[0].FactorSID != second.SID {
		t.Fatalf("receiver got %d requests, events %+v; want only the second factor's", len(requests), events)
	}
	if d := srv.Deliveries(); len(d) != 1 || d[0].FactorSID != second.SID {
		t.Errorf("deliveries %+v, want only the second factor's", d)
	}
}

// TestDelayDeliveries: held deliveries are neither sent nor listed, and
// WaitForDeliveries still counts them; DelayDeliveries(0) releases them.
func TestDelayDeliveries(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	rc := newReceiver(t, srv, "/hooks")
	srv.DelayDeliveries(time.Hour)
	factorSID := oneEvent(t, srv, rc.hookURL)

	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := srv.WaitForDeliveries(stopped); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitForDeliveries with a delivery held: %v, want the context's error", err)
	}
	if requests, _ := rc.got(); len(requests) != 0 || len(srv.Deliveries()) != 0 {
		t.Fatalf("a delivery held for an hour was sent: %d requests", len(requests))
	}
	srv.DelayDeliveries(0)
	settle(t, srv)
	if _, events := rc.got(); len(events) != 1 || events[0].FactorSID != factorSID {
		t.Errorf("after DelayDeliveries(0): %+v, want the held event", events)
	}
}

// TestDeliveriesDoNotWaitForTheReceiver: while the receiver holds the
// first delivery, API calls that raise more events still answer, and the
// later events wait their turn; once released, all arrive in order.
func TestDeliveriesDoNotWaitForTheReceiver(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	rc := newReceiver(t, srv, "/hooks")
	arrived, release := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before the receiver closes, if the test fails early
	rc.front = func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n == 1 {
			close(arrived)
			<-release
		}
		return 0
	}
	if _, err := srv.WebhookURL(rc.hookURL, verify.EventChallengeApproved); err != nil {
		t.Fatal(err)
	}
	f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, &verifytest.TOTPOptions{Skew: verify.Ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for range 3 {
		ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(f.Code())})
		if err != nil || !ch.Status.IsApproved() {
			t.Fatalf("create: %v %v", ch, err)
		}
		sids = append(sids, ch.SID)
	}
	<-arrived
	if requests, _ := rc.got(); len(requests) != 1 {
		t.Fatalf("%d requests while the first is unanswered, want 1", len(requests))
	}
	unblock()
	settle(t, srv)
	requests, events := rc.got()
	var order []string
	for _, r := range requests {
		order = append(order, r.form.Get("challenge_sid"))
	}
	if !slices.Equal(order, sids) || len(events) != 3 {
		t.Errorf("arrived in order %v with %d events, want %v", order, len(events), sids)
	}
}

// TestCloseDropsPendingDeliveries: Close returns with a try in flight to a
// receiver that never answers, a retry an hour away, a delivery held by
// DelayDeliveries, and more queued behind them; none of them is sent
// afterwards and no goroutine is left.
func TestCloseDropsPendingDeliveries(t *testing.T) { // not parallel: it counts goroutines
	before := goleak.IgnoreCurrent()
	hung := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that net/http notices the fake hanging up
		select {
		case hung <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := "http://" + l.Addr().String() + "/hooks"
	l.Close()

	srv := verifytest.NewServer(verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{Backoff: time.Hour, Timeout: time.Hour}))
	for _, u := range []string{hang.URL + "/hooks", refusing} {
		if _, err := srv.WebhookURL(u); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil); err != nil { // two events each
			t.Fatal(err)
		}
	}
	<-hung
	refused, err := srv.WaitForDelivery(ctx, func(d verifytest.Delivery) bool { return errors.Is(d.Err, syscall.ECONNREFUSED) })
	if err != nil {
		t.Fatal(err)
	}
	delayed := verifytest.NewServer()
	delayed.DelayDeliveries(time.Hour)
	if _, err := delayed.WebhookURL(hang.URL + "/delayed"); err != nil {
		t.Fatal(err)
	}
	if _, err := delayed.NewTOTPFactor(delayed.ServiceSID(), identity, nil); err != nil {
		t.Fatal(err)
	}

	srv.Close()
	delayed.Close()
	if err := srv.WaitForDeliveries(ctx); err != nil {
		t.Errorf("WaitForDeliveries after Close: %v", err)
	}
	if d := srv.Deliveries(); len(d) != 1 || d[0] != refused {
		t.Errorf("deliveries after Close: %+v, want only the refused try", d)
	}
	if len(delayed.Deliveries()) != 0 {
		t.Errorf("a delayed delivery was sent")
	}
	if _, err := srv.WaitForDelivery(ctx, func(verifytest.Delivery) bool { return false }); err == nil {
		t.Errorf("WaitForDelivery on a closed server with nothing pending returned no error")
	}
	hang.Close()
	goleak.VerifyNone(t, before)
}

// TestDeliveriesSkipHTTPMockAndAPIFaults: deliveries use their own
// transport, so httpmock.Activate does not catch them, and they neither
// use up nor suffer the faults queued for API requests.
func TestDeliveriesSkipHTTPMockAndAPIFaults(t *testing.T) { // not parallel: httpmock swaps http.DefaultTransport
	srv, _ := newFake(t, nil)
	rc := newReceiver(t, srv, "/hooks")
	if _, err := srv.WebhookURL(rc.hookURL); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, http.StatusServiceUnavailable, 0)
	httpmock.Activate()
	t.Cleanup(httpmock.DeactivateAndReset)
	if _, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil); err != nil {
		t.Fatal(err)
	}
	settle(t, srv)
	if n := httpmock.GetTotalCallCount(); n != 0 {
		t.Errorf("httpmock caught %d deliveries", n)
	}
	httpmock.DeactivateAndReset()
	if _, events := rc.got(); len(events) != 2 {
		t.Errorf("receiver verified %d events, want factor.created and factor.verified", len(events))
	}
	status, body := raw(t, srv, "GET", servicePath(srv.ServiceSID())+"/Entities/"+identity, nil, srv.AccountSID(), srv.AuthToken())
	if status != http.StatusServiceUnavailable || code(body) != 20500 {
		t.Errorf("the API request after the deliveries: %d %v, want the queued 503", status, body)
	}
}
