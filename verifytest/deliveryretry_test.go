package verifytest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// oneEvent registers hookURL for factor.created only and raises that one
// event with a helper factor; it returns the factor's SID.
func oneEvent(t *testing.T, srv *verifytest.Server, hookURL string) string {
	t.Helper()
	if _, err := srv.WebhookURL(hookURL, verify.EventFactorCreated); err != nil {
		t.Fatal(err)
	}
	f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.SID
}

// sameEvent fails unless every delivery carries one event uuid and the
// attempts count 1, 2, 3, … in order.
func sameEvent(t *testing.T, deliveries []verifytest.Delivery) {
	t.Helper()
	for i, d := range deliveries {
		if d.EventUUID != deliveries[0].EventUUID || d.Attempt != i+1 || d.Duplicate {
			t.Errorf("delivery %d: uuid %s attempt %d, want uuid %s attempt %d", i, d.EventUUID, d.Attempt, deliveries[0].EventUUID, i+1)
		}
	}
}

// TestDeliveryRetriesUntilTheHandlerSucceeds: the handler's callback fails
// twice, so NewWebhookHandler answers 500 twice; the fake tries again with
// the same uuid, body and signature until the 204, and the event is
// handled once.
func TestDeliveryRetriesUntilTheHandlerSucceeds(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	rc := newReceiver(t, srv, "/hooks")
	rc.fail = func(n int, _ *verify.Event) error {
		if n <= 2 {
			return errors.New("database down")
		}
		return nil
	}
	factorSID := oneEvent(t, srv, rc.hookURL)
	settle(t, srv)

	deliveries := srv.Deliveries()
	statuses := []int{}
	for _, d := range deliveries {
		statuses = append(statuses, d.StatusCode)
		if d.FactorSID != factorSID || d.Type != verify.EventFactorCreated || d.Err != nil {
			t.Errorf("delivery %+v", d)
		}
	}
	if want := []int{500, 500, 204}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	sameEvent(t, deliveries)
	requests, events := rc.got()
	if len(requests) != 3 || len(events) != 1 || events[0].UUID != deliveries[0].EventUUID {
		t.Fatalf("%d requests, events %v; want 3 requests and the event handled once", len(requests), events)
	}
	for i, r := range requests {
		if string(r.body) != string(requests[0].body) || r.signature != requests[0].signature {
			t.Errorf("request %d differs from the first: %q %q", i, r.body, r.signature)
		}
	}
}

// TestDeliveryRetryRules: 5xx and 3xx answers are retried up to the
// policy's attempts, then the delivery is given up; 4xx answers are final.
// Either way the next event to the webhook still goes out.
func TestDeliveryRetryRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status, attempts int
	}{
		{http.StatusInternalServerError, 3},
		{http.StatusBadGateway, 3},
		{http.StatusServiceUnavailable, 3},
		{http.StatusFound, 3}, // not followed: Twilio signs the URL it calls
		{http.StatusBadRequest, 1},
		{http.StatusForbidden, 1},
		{http.StatusNotFound, 1},
		{http.StatusGone, 1},
		{http.StatusTooManyRequests, 1},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			srv, _ := newFake(t, []verifytest.Option{verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{Attempts: 3})})
			rc := newReceiver(t, srv, "/hooks")
			rc.front = func(n int, w http.ResponseWriter, _ *http.Request) int {
				if n > tc.attempts {
					return 0 // the next event: to the handler
				}
				w.Header().Set("Location", "/elsewhere") // only a 3xx makes it count
				return tc.status
			}
			oneEvent(t, srv, rc.hookURL)
			settle(t, srv)
			deliveries := srv.Deliveries()
			if len(deliveries) != tc.attempts {
				t.Fatalf("%d attempts, want %d: %+v", len(deliveries), tc.attempts, deliveries)
			}
			sameEvent(t, deliveries)
			for _, d := range deliveries {
				if d.StatusCode != tc.status || d.Err != nil {
					t.Errorf("attempt %d: %d %v, want %d", d.Attempt, d.StatusCode, d.Err, tc.status)
				}
			}

			if _, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil); err != nil {
				t.Fatal(err)
			}
			settle(t, srv)
			requests, _ := rc.got()
			for i, r := range requests {
				if r.path != "/hooks" {
					t.Errorf("request %d went to %s: a redirect was followed", i, r.path)
				}
			}
			deliveries = srv.Deliveries()
			if last := deliveries[len(deliveries)-1]; len(deliveries) != tc.attempts+1 || last.StatusCode != http.StatusNoContent ||
				last.EventUUID == deliveries[0].EventUUID {
				t.Errorf("the next event: %+v, want one more delivery, a new uuid, 204", deliveries)
			}
		})
	}
}

// TestDeliveryRetriesAfterConnectionRefused: nothing listens at the
// webhook's port at first; once a try has been refused, the receiver
// starts there, and a retry of the same event reaches it.
func TestDeliveryRetriesAfterConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens now: connections are refused
	srv, _ := newFake(t, []verifytest.Option{verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{
		Attempts: 1000, Backoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})})
	oneEvent(t, srv, "http://"+addr+"/hooks")

	refused, err := srv.WaitForDelivery(ctx, func(d verifytest.Delivery) bool { return d.Err != nil })
	if err != nil {
		t.Fatal(err)
	}
	if refused.Attempt != 1 || refused.StatusCode != 0 || !errors.Is(refused.Err, syscall.ECONNREFUSED) {
		t.Fatalf("first try: %+v, want connection refused", refused)
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", addr, err)
	}
	rc := startReceiver(t, srv, l, "/hooks")
	settle(t, srv)

	deliveries := srv.Deliveries()
	sameEvent(t, deliveries)
	last := deliveries[len(deliveries)-1]
	if last.StatusCode != http.StatusNoContent || last.Err != nil {
		t.Errorf("last try: %+v, want 204", last)
	}
	for _, d := range deliveries[:len(deliveries)-1] {
		if !errors.Is(d.Err, syscall.ECONNREFUSED) {
			t.Errorf("try %d: %v, want connection refused", d.Attempt, d.Err)
		}
	}
	if _, events := rc.got(); len(events) != 1 || events[0].UUID != refused.EventUUID {
		t.Errorf("handler got %v, want the refused event once", events)
	}
}

// TestDeliveryRetriesAfterTimeout: the receiver holds the first try past
// the policy's per-attempt timeout; the fake gives up on it and sends the
// event again.
func TestDeliveryRetriesAfterTimeout(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, []verifytest.Option{verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{Timeout: 250 * time.Millisecond})})
	rc := newReceiver(t, srv, "/hooks")
	rc.front = func(n int, _ http.ResponseWriter, r *http.Request) int {
		if n == 1 {
			<-r.Context().Done() // the fake hung up
			return http.StatusServiceUnavailable
		}
		return 0
	}
	oneEvent(t, srv, rc.hookURL)
	settle(t, srv)

	deliveries := srv.Deliveries()
	if len(deliveries) < 2 {
		t.Fatalf("%d tries, want a timeout then a retry: %+v", len(deliveries), deliveries)
	}
	sameEvent(t, deliveries)
	if first := deliveries[0]; first.StatusCode != 0 || !errors.Is(first.Err, context.DeadlineExceeded) {
		t.Errorf("first try: %d %v, want a timeout", first.StatusCode, first.Err)
	}
	if last := deliveries[len(deliveries)-1]; last.StatusCode/100 != 2 {
		t.Errorf("last try: %d %v, want 2xx", last.StatusCode, last.Err)
	}
	if _, events := rc.got(); len(events) != 1 {
		t.Errorf("handler ran the callback %d times, want 1", len(events))
	}
}
