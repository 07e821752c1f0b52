package verifytest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestDeliveriesKeepTheLast10000: a long-running fake does not keep every
// attempt: Deliveries lists the last 10,000 to end, and for each webhook
// they are its latest ones, in order.
func TestDeliveriesKeepTheLast10000(t *testing.T) {
	t.Parallel()
	const hooks, factors = 4, 1263 // × 2 events (factor.created, factor.verified): 10,104 attempts
	hc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hc.Close()
	srv, _ := newFake(t, []verifytest.Option{verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{Attempts: 1})})
	var sids []string
	for i := 0; i < hooks; i++ {
		sid, err := srv.WebhookURL(hc.URL + "/hooks")
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, sid)
	}
	var order []string // the events' uuids are not known, so factors then types
	known := map[string]bool{}
	for i := 0; i < factors; i++ {
		f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
		if err != nil {
			t.Fatal(err)
		}
		known[f.SID] = true
		order = append(order, f.SID+" "+string(verify.EventFactorCreated), f.SID+" "+string(verify.EventFactorVerified))
	}
	settle(t, srv)
	got := srv.Deliveries()
	if len(got) != 10000 {
		t.Fatalf("Deliveries lists %d attempts of %d, want the last 10000", len(got), hooks*len(order))
	}
	per := map[string][]string{}
	for _, d := range got {
		if d.StatusCode != http.StatusNoContent {
			t.Fatalf("delivery %+v, want 204", d)
		}
		per[d.WebhookSID] = append(per[d.WebhookSID], d.FactorSID+" "+string(d.Type))
	}
	for _, sid := range sids {
		kept := per[sid]
		want := order[len(order)-len(kept):]
		for i := range kept {
			if kept[i] != want[i] {
				t.Fatalf("webhook %s keeps %d deliveries, not its latest in order: #%d is %s, want %s", sid, len(kept), i, kept[i], want[i])
			}
		}
	}

	// Once the log is full, WaitForDelivery still sees what comes next.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	scanned := make(chan struct{}) // closed once the waiter has looked at what is listed
	var once sync.Once
	found := make(chan verifytest.Delivery, 1)
	failed := make(chan error, 1)
	go func() {
		d, err := srv.WaitForDelivery(wctx, func(d verifytest.Delivery) bool {
			once.Do(func() { close(scanned) })
			return !known[d.FactorSID]
		})
		if err != nil {
			failed <- err
			return
		}
		found <- d
	}()
	<-scanned
	f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-found:
		if d.FactorSID != f.SID {
			t.Errorf("WaitForDelivery after the log was full: %+v, want a delivery for %s", d, f.SID)
		}
	case err := <-failed:
		t.Errorf("WaitForDelivery for a delivery after the log was full: %v", err)
	}
}
