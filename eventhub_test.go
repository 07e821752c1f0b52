package verify

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeClockHub is an EventHub whose clock the test moves.
func fakeClockHub() (*EventHub, *time.Time) {
	h := NewEventHub()
	now := time.Unix(1_700_000_000, 0)
	h.now = func() time.Time { return now }
	return h, &now
}

func approvedEvent(sid, uuid string) *Event {
	return &Event{UUID: uuid, Type: EventChallengeApproved, ChallengeSID: sid, ChallengeStatus: StatusApproved}
}

// drain returns the events ready on ch without waiting.
func drain(ch <-chan *Event) (got []*Event, closed bool) {
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return got, true
			}
			got = append(got, ev)
		default:
			return got, false
		}
	}
}

func TestEventHubDeliversByChallenge(t *testing.T) {
	t.Parallel()
	h, _ := fakeClockHub()
	ctx := context.Background()
	ch, stop := h.Subscribe(testChallenge)
	other, stopOther := h.Subscribe("YC03bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	defer stopOther()
	ev := approvedEvent(testChallenge, "u1")
	if err := h.Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got, _ := drain(ch); len(got) != 1 || got[0] != ev {
		t.Errorf("subscriber got %v, want the event", got)
	}
	if got, _ := drain(other); len(got) != 0 {
		t.Errorf("another challenge's subscriber got %v", got)
	}
	stop()
	stop() // twice is fine
	if _, closed := drain(ch); !closed {
		t.Error("stop did not close the channel")
	}
	if err := h.Publish(ctx, approvedEvent(testChallenge, "u2")); err != nil {
		t.Fatal(err)
	}
	if h.subscribers() != 1 {
		t.Errorf("%d challenges with subscribers, want 1", h.subscribers())
	}
	if err := h.Publish(ctx, nil); err == nil {
		t.Error("Publish(nil) = nil")
	}
}

func TestEventHubKeepsRecentEventsForLateSubscribers(t *testing.T) {
	t.Parallel()
	h, now := fakeClockHub()
	ctx := context.Background()
	ev := approvedEvent(testChallenge, "early")
	_ = h.Publish(ctx, ev)
	// A factor event has no challenge: nothing to keep.
	_ = h.Publish(ctx, &Event{UUID: "f", Type: EventFactorVerified, FactorSID: testFactor})
	if h.retained() != 1 {
		t.Fatalf("retained %d, want 1", h.retained())
	}
	*now = now.Add(EventHubRetention - time.Second)
	ch, stop := h.Subscribe(testChallenge)
	if got, _ := drain(ch); len(got) != 1 || got[0] != ev {
		t.Errorf("late subscriber got %v, want the early event", got)
	}
	stop()
	*now = now.Add(time.Second)
	ch, stop = h.Subscribe(testChallenge)
	defer stop()
	if got, _ := drain(ch); len(got) != 0 || h.retained() != 0 {
		t.Errorf("past the retention: got %v, %d retained; want none", got, h.retained())
	}
}

func TestEventHubMemoryIsBounded(t *testing.T) {
	t.Parallel()
	h, now := fakeClockHub()
	ctx := context.Background()
	for i := range eventHubMaxRecent + 50 {
		_ = h.Publish(ctx, approvedEvent("YC"+strconv.Itoa(i), "u"+strconv.Itoa(i)))
	}
	if h.retained() != eventHubMaxRecent || len(h.recent) != eventHubMaxRecent {
		t.Errorf("retained %d events for %d challenges, want %d", h.retained(), len(h.recent), eventHubMaxRecent)
	}
	for i := range 10 {
		_ = h.Publish(ctx, approvedEvent("YCsame", "r"+strconv.Itoa(i)))
	}
	if n := len(h.recent["YCsame"]); n != eventHubPerChallenge {
		t.Errorf("kept %d events of one challenge, want %d", n, eventHubPerChallenge)
	}
	*now = now.Add(EventHubRetention)
	_ = h.Publish(ctx, &Event{UUID: "f", Type: EventFactorCreated}) // no challenge: does not prune
	ch, stop := h.Subscribe("YCnew")                                // prunes
	stop()
	if _, closed := drain(ch); !closed || h.retained() != 0 || len(h.recent) != 0 || len(h.order)-h.head != 0 {
		t.Errorf("after the retention: %d retained, %d challenges, queue %d", h.retained(), len(h.recent), len(h.order)-h.head)
	}
}

func TestEventHubNeverBlocksOnASlowReader(t *testing.T) {
	t.Parallel()
	h := NewEventHub()
	ch, stop := h.Subscribe(testChallenge)
	defer stop()
	for i := range 100 {
		if err := h.Publish(context.Background(), approvedEvent(testChallenge, strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := drain(ch); len(got) != subscriptionBuffer || got[0].UUID != "0" {
		t.Errorf("reader got %d events starting %v, want the first %d", len(got), got[0], subscriptionBuffer)
	}
}

func TestEventHubConcurrentUse(t *testing.T) {
	t.Parallel()
	h := NewEventHub()
	var wg sync.WaitGroup
	got := make([]int, 50)
	for i := range 50 {
		sid := "YC" + strconv.Itoa(i%10)
		wg.Add(2)
		go func() {
			defer wg.Done()
			ch, stop := h.Subscribe(sid)
			defer stop()
			_ = h.Publish(context.Background(), approvedEvent(sid, "self-"+strconv.Itoa(i)))
			evs, _ := drain(ch)
			got[i] = len(evs)
		}()
		go func() {
			defer wg.Done()
			_ = h.Publish(context.Background(), approvedEvent(sid, "other-"+strconv.Itoa(i)))
		}()
	}
	wg.Wait()
	for i, n := range got {
		if n < 1 {
			t.Errorf("subscriber %d missed its own event", i)
		}
	}
	if h.subscribers() != 0 {
		t.Errorf("%d subscriptions left", h.subscribers())
	}
}
