package verifytest

import (
	"testing"
	"time"
)

// TestDeliveryLogForgetsTheOldest drives the log past several compactions:
// it lists the last maxDeliveryRecords attempts in order, numbers them
// from the first ever recorded, and never holds twice that many.
func TestDeliveryLogForgetsTheOldest(t *testing.T) {
	d := newDeliverer("token", false, DeliveryPolicy{}, time.Now)
	defer d.close()
	const total = 4*maxDeliveryRecords + 123
	for i := range total {
		d.mu.Lock()
		d.record(Delivery{Attempt: i})
		if len(d.sent) >= 2*maxDeliveryRecords {
			t.Fatalf("after %d attempts the log holds %d", i+1, len(d.sent))
		}
		d.mu.Unlock()
	}
	d.mu.Lock()
	recs, first := d.listed()
	d.mu.Unlock()
	if len(recs) != maxDeliveryRecords || first != total-maxDeliveryRecords {
		t.Fatalf("listed %d attempts from #%d, want %d from #%d", len(recs), first, maxDeliveryRecords, total-maxDeliveryRecords)
	}
	for i, rec := range recs {
		if rec.Attempt != first+i {
			t.Fatalf("listed #%d is attempt %d, want %d", i, rec.Attempt, first+i)
		}
	}
}
