package redisevents

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
)

var ctx = context.Background()

// TestEventsReachEveryInstance: an event published on one instance's Bus
// reaches the subscriptions for its challenge on every instance with the
// same prefix, its own included, and none with another prefix or for
// another challenge.
func TestEventsReachEveryInstance(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b, c := f.bus(), f.bus(), f.bus()
	other := f.bus(WithPrefix("another-service"))
	sid := newSID()
	chA, stopA := a.Subscribe(sid)
	defer stopA()
	chB, stopB := b.Subscribe(sid)
	defer stopB()
	chOther, stopOther := other.Subscribe(sid)
	defer stopOther()
	chElse, stopElse := b.Subscribe(newSID())
	defer stopElse()
	for _, bus := range []*Bus{a, b, other} {
		waitSubscribed(t, bus, 0)
	}
	sent := approved(sid, "uuid-1")
	if err := c.Publish(ctx, sent); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan *verify.Event{"A": chA, "B": chB} {
		got := receive(t, ch)
		if got.UUID != sent.UUID || got.Type != sent.Type || got.ChallengeSID != sid || got.ChallengeStatus != sent.ChallengeStatus ||
			got.EntityIdentity != sent.EntityIdentity || !got.DateCreated.Equal(sent.DateCreated) {
			t.Errorf("instance %s got %+v, want %+v", name, got, sent)
		}
	}
	nothing(t, chOther, other, other)
	nothing(t, chElse, c, b)
}

// TestLateSubscriberGetsTheKeptEvent: a Wait that subscribes after its
// event was published still gets it, from the list kept for the
// retention; the list keeps the last 4 and expires.
func TestLateSubscriberGetsTheKeptEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pub, sub := f.bus(), f.bus(WithRetention(time.Hour))
	pub.retention = 3 * time.Second
	sid := newSID()
	for i := range 6 {
		if err := pub.Publish(ctx, approved(sid, fmt.Sprint("uuid-", i))); err != nil {
			t.Fatal(err)
		}
	}
	admin := f.admin()
	key := "verify:recent:" + sid
	if n := admin.LLen(ctx, key).Val(); n != keptPerChallenge {
		t.Errorf("%d events kept, want %d", n, keptPerChallenge)
	}
	if ttl := admin.PTTL(ctx, key).Val(); ttl <= 0 || ttl > 3*time.Second {
		t.Errorf("kept events expire in %v, want at most the publisher's retention 3s", ttl)
	}
	ch, stop := sub.Subscribe(sid)
	defer stop()
	got := map[string]bool{}
	for range keptPerChallenge {
		got[receive(t, ch).UUID] = true
	}
	if len(got) != 4 || !got["uuid-5"] || got["uuid-0"] {
		t.Errorf("late subscriber got %v; want the last 4", got)
	}
	nothing(t, ch, pub, sub)
	// Factor events are not kept or sent.
	keys := admin.DBSize(ctx).Val()
	if err := pub.Publish(ctx, &verify.Event{UUID: "f", Type: verify.EventFactorVerified}); err != nil {
		t.Fatal(err)
	}
	if n := admin.DBSize(ctx).Val(); n != keys {
		t.Errorf("%d keys after a factor event, want %d as before", n, keys)
	}
}

// TestSubscriptionTakesEachUUIDOnceAndAtMostFour: an event heard twice
// (kept and published) arrives once; junk written to Redis can make a Wait
// Fetch at most 4 times.
func TestSubscriptionTakesEachUUIDOnceAndAtMostFour(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bus := f.bus()
	sid := newSID()
	ch, stop := bus.Subscribe(sid)
	defer stop()
	waitSubscribed(t, bus, 0)
	for i := range 10 {
		if err := bus.Publish(ctx, approved(sid, fmt.Sprint("uuid-", i/2))); err != nil {
			t.Fatal(err)
		}
	}
	got := []string{}
	for range perSubscription {
		got = append(got, receive(t, ch).UUID)
	}
	if fmt.Sprint(got) != "[uuid-0 uuid-1 uuid-2 uuid-3]" {
		t.Errorf("got %v, want each uuid once, in order, 4 at most", got)
	}
	nothing(t, ch, bus, bus)
}

// TestSlowReaderNeverBlocksTheBus: a subscription nobody reads loses what
// it has no room for, and the others still get theirs at once.
func TestSlowReaderNeverBlocksTheBus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bus := f.bus()
	slow := newSID()
	_, stopSlow := bus.Subscribe(slow) // never read
	defer stopSlow()
	waitSubscribed(t, bus, 0)
	for i := range 200 {
		if err := bus.Publish(ctx, approved(slow, fmt.Sprint("uuid-", i))); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip(t, bus, bus, newSID(), "fast")
}

// TestOneConnectionForAThousandWaits: 1,000 subscriptions on one Bus
// share its one subscription connection; reading their kept events
// borrows one more from the pool, not one each. Every one gets its event.
func TestOneConnectionForAThousandWaits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	admin := f.admin()
	pub := f.bus()
	waitSubscribed(t, pub, 0)
	if err := pub.Publish(ctx, approved(newSID(), "warm-up")); err != nil {
		t.Fatal(err)
	}
	base := connectedClients(t, admin) // admin, pub's subscription and its pooled connection
	bus := f.bus()
	const waits = 1000
	sids := make([]string, waits)
	chans := make([]<-chan *verify.Event, waits)
	var wg sync.WaitGroup
	for i := range waits {
		sids[i] = newSID()
		if i%2 == 0 { // half the events are published before their Wait subscribes
			if err := pub.Publish(ctx, approved(sids[i], "early")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, stop := bus.Subscribe(sids[i])
			t.Cleanup(stop)
			chans[i] = ch
		}()
	}
	wg.Wait()
	waitSubscribed(t, bus, 0)
	for i := range waits {
		if i%2 == 1 {
			if err := pub.Publish(ctx, approved(sids[i], "late")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range waits {
		if ev := receive(t, chans[i]); ev.ChallengeSID != sids[i] {
			t.Fatalf("wait %d got %v", i, ev)
		}
	}
	if n := connectedClients(t, admin) - base; n > 2 {
		t.Errorf("the bus with %d subscriptions holds %d connections, want at most 2 (its subscription, one pooled)", waits, n)
	} else {
		t.Logf("%d subscriptions: %d connections for the bus", waits, n)
	}
}

// TestCloseEndsSubscriptions: Close closes every subscription's channel,
// a Subscribe after it gets a closed channel, and a second Close does
// nothing.
func TestCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bus := New(f.client())
	ch, stop := bus.Subscribe(newSID())
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Error("channel open after Close")
	}
	stop()
	late, stopLate := bus.Subscribe(newSID())
	if _, ok := <-late; ok {
		t.Error("a Subscribe after Close got an open channel")
	}
	stopLate()
	if err := bus.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestNewReturnsWhileRedisIsDown: New does not wait for Redis; the
// subscription starts once Redis is there, and a Wait that subscribed
// meanwhile gets the event kept since.
func TestNewReturnsWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.Kill()
	start := time.Now()
	bus := f.bus()
	if d := time.Since(start); d > time.Second {
		t.Errorf("New took %v with Redis down", d)
	}
	sid := newSID()
	ch, stop := bus.Subscribe(sid)
	defer stop()
	if err := bus.Publish(ctx, approved(sid, "during")); err == nil {
		t.Error("Publish with Redis down: no error")
	}
	f.srv.Restart()
	pub := f.bus()
	if err := pub.Publish(ctx, approved(sid, "after")); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, bus, 0)
	if got := receive(t, ch); got.UUID != "after" {
		t.Errorf("got %v", got)
	}
}

// TestSubscriptionResumesAfterARestart: redis-server killed and started
// again: Publish fails meanwhile, the subscription resumes by itself, and
// an event published after the restart reaches a Wait subscribed before
// it, whether it comes before or after the subscription resumed.
func TestSubscriptionResumesAfterARestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sub, pub := f.bus(), f.bus()
	before, after := newSID(), newSID()
	chBefore, stopBefore := sub.Subscribe(before)
	defer stopBefore()
	waitSubscribed(t, sub, 0)
	n := subscribedCount(sub)
	f.srv.Kill()
	if err := pub.Publish(ctx, approved(before, "lost")); err == nil {
		t.Error("Publish with Redis down: no error")
	}
	f.srv.Restart()
	// Published as soon as Redis is back: the bus may not have resubscribed
	// yet, and gets it from the kept list when it does.
	if err := pub.Publish(ctx, approved(before, "kept")); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, sub, n)
	if got := receive(t, chBefore); got.UUID != "kept" {
		t.Errorf("got %v", got)
	}
	roundTrip(t, pub, sub, after, "published")
}
