package verify

import (
	"context"
	"errors"
	"sync"
	"time"
)

// EventSource delivers webhook events to Wait (WaitOptions.Events). *EventHub
// is the in-process one; a deployment with several instances behind a load
// balancer can implement it over a shared bus (Redis pub/sub, NATS, …) so
// that the instance running Wait hears of events another instance received.
type EventSource interface {
	// Subscribe starts delivering the events for challengeSID on the
	// returned channel, including any that arrived shortly before. The
	// source must never block on a slow reader (dropping an event while
	// others are unread is fine: Wait only needs one to Fetch). stop ends the
	// subscription; it may be called more than once, and the channel is
	// closed or simply never receives again afterwards.
	Subscribe(challengeSID string) (events <-chan *Event, stop func())
}

// Retention of an EventHub.
const (
	// EventHubRetention is how long an EventHub keeps a challenge's events
	// for a Wait that subscribes after the webhook arrived.
	EventHubRetention = time.Minute
	// eventHubMaxRecent caps the events kept for late subscribers.
	eventHubMaxRecent = 10_000
	// eventHubPerChallenge caps the events kept per challenge; a challenge
	// gets one answer, so more are retries or noise.
	eventHubPerChallenge = 4
	// subscriptionBuffer is each subscription's channel capacity.
	subscriptionBuffer = 8
)

// EventHub passes webhook events to the Waits of this process, by challenge
// SID. It is safe for use by many goroutines and starts none. Events for a
// challenge nobody waits on are kept for EventHubRetention (at most 10,000
// of them), then forgotten.
//
// It reaches only this process: behind a load balancer, the webhook may
// land on another instance than the one waiting. Run a single instance,
// route webhooks to it, or implement EventSource over a shared bus.
type EventHub struct {
	now func() time.Time

	mu     sync.Mutex
	subs   map[string]map[*subscription]struct{} // challenge SID -> its subscriptions
	recent map[string][]*Event                   // challenge SID -> events kept for late subscribers
	order  []recentEvent                         // recent's events, oldest first, from head on
	head   int
	kept   int // events in recent
}

type subscription struct {
	ch      chan *Event
	stopped bool
}

type recentEvent struct {
	sid string
	ev  *Event
	at  time.Time
}

// NewEventHub returns an empty hub; pass hub.Publish to NewWebhookHandler and
// the hub to WaitOptions.Events.
func NewEventHub() *EventHub {
	return &EventHub{now: time.Now, subs: make(map[string]map[*subscription]struct{}), recent: make(map[string][]*Event)}
}

// Publish hands a verified event to the Waits subscribed to its challenge,
// and keeps it briefly for those that subscribe later. It never blocks and
// returns an error only for a nil event. Events without a challenge SID
// (factor events) are ignored. Its signature fits NewWebhookHandler.
func (h *EventHub) Publish(_ context.Context, ev *Event) error {
	if ev == nil {
		return errors.New("verify: EventHub.Publish got a nil event")
	}
	if ev.ChallengeSID == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.init()
	now := h.now()
	h.prune(now)
	for s := range h.subs[ev.ChallengeSID] {
		select {
		case s.ch <- ev:
		default: // the reader has unread events; it needs only one
		}
	}
	if kept := h.recent[ev.ChallengeSID]; len(kept) < eventHubPerChallenge {
		h.recent[ev.ChallengeSID] = append(kept, ev)
		h.order = append(h.order, recentEvent{ev.ChallengeSID, ev, now})
		h.kept++
		h.prune(now)
	}
	return nil
}

// Subscribe implements EventSource: the channel first receives the events
// kept for challengeSID, then those published until stop is called, which
// closes it.
func (h *EventHub) Subscribe(challengeSID string) (<-chan *Event, func()) {
	s := &subscription{ch: make(chan *Event, subscriptionBuffer)}
	h.mu.Lock()
	h.init()
	h.prune(h.now())
	for _, ev := range h.recent[challengeSID] {
		s.ch <- ev // at most eventHubPerChallenge < subscriptionBuffer
	}
	set := h.subs[challengeSID]
	if set == nil {
		set = make(map[*subscription]struct{})
		h.subs[challengeSID] = set
	}
	set[s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() { h.unsubscribe(challengeSID, s) }
}

// init makes a zero EventHub usable, as NewEventHub's is; h.mu is held.
func (h *EventHub) init() {
	if h.now == nil {
		h.now = time.Now
	}
	if h.subs == nil {
		h.subs = make(map[string]map[*subscription]struct{})
		h.recent = make(map[string][]*Event)
	}
}

func (h *EventHub) unsubscribe(sid string, s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	close(s.ch)
	set := h.subs[sid]
	delete(set, s)
	if len(set) == 0 {
		delete(h.subs, sid)
	}
}

// prune forgets kept events older than the retention, and the oldest beyond
// the cap. The caller holds h.mu.
func (h *EventHub) prune(now time.Time) {
	for h.head < len(h.order) {
		e := h.order[h.head]
		if now.Sub(e.at) < EventHubRetention && h.kept <= eventHubMaxRecent {
			break
		}
		kept := h.recent[e.sid]
		if len(kept) > 0 && kept[0] == e.ev { // always true: both are in arrival order
			kept = kept[1:]
			h.kept--
		}
		if len(kept) == 0 {
			delete(h.recent, e.sid)
		} else {
			h.recent[e.sid] = kept
		}
		h.order[h.head] = recentEvent{}
		h.head++
	}
	if h.head > 64 && h.head*2 > len(h.order) {
		h.order = append(h.order[:0:0], h.order[h.head:]...)
		h.head = 0
	}
}

// subscribers and retained report the hub's size, for tests.
func (h *EventHub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *EventHub) retained() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kept
}
