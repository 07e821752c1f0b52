package verifytest

import "time"

// Faults for webhook deliveries, to test a receiver against what Twilio
// may do. A delivery is one event queued for one webhook: with several
// webhooks subscribed, one event makes several deliveries, queued in the
// webhooks' creation order. Each call below affects one more delivery than
// the calls before it still have to.

// DuplicateNextDelivery sends the next delivery twice, with the same uuid
// and signature: once the first copy is done (answered, or given up on
// after its retries), the second follows, with retries of its own, as when
// Twilio sends again an event whose answer it missed. In Deliveries the
// second copy has Duplicate set.
func (s *Server) DuplicateNextDelivery() {
	d := s.hooks
	d.mu.Lock()
	d.duplicate++
	d.mu.Unlock()
}

// DropNextDelivery loses the next delivery: it is never sent, never
// retried, and not listed by Deliveries, as if it were lost on the way.
// Later deliveries to the same webhook go out as usual. If both are due,
// a drop wins over DuplicateNextDelivery.
func (s *Server) DropNextDelivery() {
	d := s.hooks
	d.mu.Lock()
	d.drop++
	d.mu.Unlock()
}

// DelayDeliveries holds every delivery until d after its event happened,
// before its first attempt (retries keep their own backoff); 0 turns it
// off. A change applies at once to deliveries already waiting, so
// DelayDeliveries(0) releases them. Since each webhook's deliveries go in
// order, a delayed one also holds back the later ones to its webhook.
func (s *Server) DelayDeliveries(d time.Duration) {
	h := s.hooks
	h.mu.Lock()
	h.delay = max(d, 0)
	close(h.delaySet)
	h.delaySet = make(chan struct{})
	h.mu.Unlock()
}
