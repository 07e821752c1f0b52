package redisevents

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/internal/redisserver"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{}) // go-redis logs each failed dial of the restart tests
	goleak.VerifyTestMain(m)
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// testTimeout bounds every wait of a test for something to happen.
const testTimeout = 20 * time.Second

// fixture is a redis-server of the test's own and the clients and buses
// made on it, all closed when the test ends.
type fixture struct {
	t   testing.TB
	srv *redisserver.Server
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return &fixture{t: t, srv: redisserver.Start(t)}
}

// client is a new go-redis client of the server, as each instance has.
func (f *fixture) client() *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: f.srv.Addr, MaxRetries: -1, DialTimeout: time.Second})
	f.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// bus is a new Bus on its own client, closed before that client is.
func (f *fixture) bus(opts ...Option) *Bus {
	b := New(f.client(), opts...)
	f.t.Cleanup(func() { _ = b.Close() })
	return b
}

// admin is a client for the test's own look at the server.
func (f *fixture) admin() *redis.Client { return f.client() }

// connectedClients is INFO's connected_clients: the connections open to
// the server, the asking one included.
func connectedClients(t testing.TB, rdb *redis.Client) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "connected_clients:"); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("no connected_clients in %q", info)
	return 0
}

// waitSubscribed waits until the bus's subscription has been confirmed
// by Redis more than before times.
func waitSubscribed(t testing.TB, b *Bus, before int) {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		n, changed := b.resubs, b.subscribed
		b.mu.Unlock()
		if n > before {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("the bus's subscription was not confirmed after %s", testTimeout)
		}
	}
}

// subscribedCount is how many times the bus's subscription was confirmed.
func subscribedCount(b *Bus) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resubs
}

var sidCounter atomic.Uint64

// newSID is a fresh challenge SID.
func newSID() string { return fmt.Sprintf("YC%032x", sidCounter.Add(1)) }

// approved is a challenge.approved event for sid.
func approved(sid, uuid string) *verify.Event {
	return &verify.Event{UUID: uuid, Type: verify.EventChallengeApproved, ChallengeSID: sid, ChallengeStatus: verify.StatusApproved,
		AccountSID: "AC" + strings.Repeat("a", 32), ServiceSID: "VA" + strings.Repeat("b", 32), FactorSID: "YF" + strings.Repeat("c", 32),
		FactorType: verify.FactorTypePush, EntityIdentity: "user-0001", DateCreated: time.Now().UTC().Truncate(time.Second)}
}

// receive returns the next event on ch, failing after testTimeout.
func receive(t testing.TB, ch <-chan *verify.Event) *verify.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the subscription's channel was closed")
		}
		return ev
	case <-time.After(testTimeout):
		t.Fatalf("no event after %s", testTimeout)
	}
	return nil
}

// roundTrip subscribes to sid on sub, publishes an event for it with
// uuid on pub, and checks that it arrives.
func roundTrip(t testing.TB, pub, sub *Bus, sid, uuid string) {
	t.Helper()
	ch, stop := sub.Subscribe(sid)
	defer stop()
	if err := pub.Publish(context.Background(), approved(sid, uuid)); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, ch); got.UUID != uuid {
		t.Errorf("got %v, want uuid %s", got, uuid)
	}
}

// nothing checks that ch holds no event now, once the bus has handled
// everything sent before: a marker event published after them, for
// another challenge, has been delivered.
func nothing(t testing.TB, ch <-chan *verify.Event, pub *Bus, sub *Bus) {
	t.Helper()
	roundTrip(t, pub, sub, newSID(), "marker")
	select {
	case ev := <-ch:
		t.Errorf("unexpected event %v", ev)
	default:
	}
}
