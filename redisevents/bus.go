package redisevents

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	verify "github.com/verifykit/verify-go"
)

// Defaults of a Bus.
const (
	// DefaultPrefix starts every key and channel name a Bus uses.
	DefaultPrefix = "verify"
	// DefaultLease is how long a claim on a webhook uuid outlives the
	// instance holding it: a live holder renews it every third of it, so
	// only a dead one loses it, and Twilio's next retry runs the callback.
	DefaultLease = 15 * time.Second
)

const (
	// keptPerChallenge caps the events kept per challenge for late
	// subscribers, as verify.EventHub does: one answer, and its retries.
	keptPerChallenge = 4
	// perSubscription caps the events one subscription receives: each
	// makes Wait Fetch, so junk written to Redis cannot make it Fetch more.
	perSubscription = 4
	// subscriptionBuffer is each subscription's channel capacity.
	subscriptionBuffer = perSubscription
	// opTimeout bounds what the bus does in the background, where no
	// caller's context applies: reading kept events, renewing and
	// releasing claims.
	opTimeout = 2 * time.Second
	// readBatch caps the challenges read in one pipeline.
	readBatch = 512
)

// Option configures New.
type Option func(*Bus)

// WithPrefix starts every key and channel name with prefix and a colon
// instead of "verify:", so that several services, or a service's
// environments, can share one Redis. Buses that are to hear each other
// need the same prefix.
func WithPrefix(prefix string) Option {
	return func(b *Bus) { b.prefix = prefix }
}

// WithRetention sets how long a challenge's events stay in Redis for a
// Wait that subscribes after its webhook came: verify.EventHubRetention
// (a minute) by default. Zero or less keeps the default.
func WithRetention(d time.Duration) Option {
	return func(b *Bus) {
		if d > 0 {
			b.retention = d
		}
	}
}

// WithLease sets how long a claim on a webhook uuid survives the instance
// holding it (DefaultLease, 15 s): a live holder renews it every third of
// the lease, so this is how long a delivery whose instance died keeps
// Twilio's retries waiting. Zero or less keeps the default.
func WithLease(d time.Duration) Option {
	return func(b *Bus) {
		if d > 0 {
			b.lease = d
		}
	}
}

// WithLogger logs what goes wrong in the background, where no caller sees
// an error: messages on the channel that do not decode, reads of kept
// events, renewing or releasing a claim. Silent without it.
func WithLogger(l *slog.Logger) Option {
	return func(b *Bus) { b.log = l }
}

// Bus carries verified webhook events between the instances of a service
// over Redis pub/sub, and remembers which webhook uuids were handled. It is
// a verify.EventSource (for WaitOptions.Events) and a verify.Dedup (for
// WebhookConfig.Dedup); Publish fits NewWebhookHandler. It is safe for use
// by many goroutines. Close stops it.
type Bus struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
	lease     time.Duration
	log       *slog.Logger
	holder    string // this Bus in the claims it holds

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	ps     *redis.PubSub
	wg     sync.WaitGroup
	wake   chan struct{} // the worker has reads to do

	mu      sync.Mutex
	closed  bool
	subs    map[string]map[*subscription]struct{} // challenge SID -> its subscriptions
	toRead  map[string]struct{}                   // challenge SIDs whose kept events are to be read
	claims  map[string]string                     // key -> value of the claims this Bus holds
	nclaims uint64                                // claims made, for their values
	resubs  int                                   // subscriptions confirmed by Redis, for tests
	// subscribed is closed and replaced at each confirmation, for tests.
	subscribed chan struct{}
}

type subscription struct {
	ch      chan *verify.Event
	stopped bool
	got     []string // uuids delivered, at most perSubscription
}

// New returns a Bus over rdb: a single node, Sentinel or Cluster client
// (redis.NewClient, NewFailoverClient, NewClusterClient or
// NewUniversalClient). It subscribes in the background and returns at
// once, even if Redis is down: the subscription starts, and resumes after
// an outage, by itself. rdb stays yours: Close the Bus before it.
func New(rdb redis.UniversalClient, opts ...Option) *Bus {
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bus{
		rdb: rdb, prefix: DefaultPrefix, retention: verify.EventHubRetention, lease: DefaultLease,
		holder: rand.Text(), ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1),
		subs: map[string]map[*subscription]struct{}{}, toRead: map[string]struct{}{}, claims: map[string]string{},
		subscribed: make(chan struct{}),
	}
	for _, o := range opts {
		o(b)
	}
	b.ps = rdb.Subscribe(ctx) // no channel yet: no connection either
	b.wg.Add(2)
	go b.receive()
	go b.work()
	return b
}

// Names of the keys and the channel.
func (b *Bus) channel() string                   { return b.prefix + ":events" }
func (b *Bus) recentKey(challenge string) string { return b.prefix + ":recent:" + challenge }
func (b *Bus) uuidKey(uuid string) string        { return b.prefix + ":uuid:" + uuid }

// publishScript keeps the event in the challenge's list (its last few, for
// the retention) and publishes it, in one step, so that a subscriber that
// reads the list after subscribing misses nothing.
var publishScript = redis.NewScript(`
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[4]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('PUBLISH', ARGV[3], ARGV[1])
`)

// Publish sends a verified event to the Waits for its challenge on every
// instance whose Bus shares this prefix, and keeps it in Redis for the
// retention for those that subscribe later. Events without a challenge
// SID (factor events) are ignored, as verify.EventHub does. Its signature
// fits NewWebhookHandler, which answers 500 when it fails (Redis
// unreachable), so that Twilio retries the delivery.
func (b *Bus) Publish(ctx context.Context, ev *verify.Event) error {
	if ev == nil {
		return errors.New("redisevents: Publish got a nil event")
	}
	if ev.ChallengeSID == "" {
		return nil
	}
	payload, err := encode(ev)
	if err != nil {
		return err
	}
	err = publishScript.Run(ctx, b.rdb, []string{b.recentKey(ev.ChallengeSID)},
		payload, b.retention.Milliseconds(), b.channel(), keptPerChallenge).Err()
	if err != nil {
		return fmt.Errorf("redisevents: publishing the event for challenge %s: %w", ev.ChallengeSID, err)
	}
	return nil
}

// Subscribe implements verify.EventSource: the channel receives the events
// for challengeSID that any instance publishes from now on, and those kept
// in Redis from before (read just after subscribing, in the background),
// each uuid once and at most 4 in all. It never blocks: the events reach
// it through the Bus's one subscription. stop ends it and closes the
// channel; after Close the channel comes closed.
func (b *Bus) Subscribe(challengeSID string) (<-chan *verify.Event, func()) {
	s := &subscription{ch: make(chan *verify.Event, subscriptionBuffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	set := b.subs[challengeSID]
	if set == nil {
		set = map[*subscription]struct{}{}
		b.subs[challengeSID] = set
	}
	set[s] = struct{}{}
	b.toRead[challengeSID] = struct{}{}
	b.signal()
	return s.ch, func() { b.unsubscribe(challengeSID, s) }
}

func (b *Bus) unsubscribe(challengeSID string, s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	close(s.ch)
	set := b.subs[challengeSID]
	delete(set, s)
	if len(set) == 0 {
		delete(b.subs, challengeSID)
	}
}

// signal wakes the worker; the caller holds b.mu.
func (b *Bus) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// deliver offers ev to the subscriptions of its challenge, never waiting.
func (b *Bus) deliver(ev *verify.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[ev.ChallengeSID] {
		s.offer(ev)
	}
}

// offer sends ev unless the subscription had it, had its fill, or has no
// room (its reader has events it has not read; one is enough for Wait).
// The caller holds b.mu.
func (s *subscription) offer(ev *verify.Event) {
	if s.stopped || len(s.got) >= perSubscription {
		return
	}
	for _, u := range s.got {
		if u == ev.UUID {
			return
		}
	}
	select {
	case s.ch <- ev:
		s.got = append(s.got, ev.UUID)
	default:
	}
}

// receive reads the Bus's subscription until Close. Each time Redis
// confirms it (at the start, and after every reconnection), the kept
// events of every challenge waited on are read again: what was published
// while the subscription was down is not lost.
func (b *Bus) receive() {
	defer b.wg.Done()
	if err := b.ps.Subscribe(b.ctx, b.channel()); err != nil && b.ctx.Err() == nil {
		b.logf(slog.LevelWarn, "subscribing; retrying in the background", "error", err)
	}
	for m := range b.ps.ChannelWithSubscriptions() {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			b.mu.Lock()
			b.resubs++
			close(b.subscribed)
			b.subscribed = make(chan struct{})
			for sid := range b.subs {
				b.toRead[sid] = struct{}{}
			}
			b.signal()
			b.mu.Unlock()
		case *redis.Message:
			ev, err := decode([]byte(m.Payload))
			if err != nil {
				b.logf(slog.LevelDebug, "ignoring a message on the channel", "error", err)
				continue
			}
			b.deliver(ev)
		}
	}
}

// work reads kept events for new subscriptions and renews claims, until
// Close.
func (b *Bus) work() {
	defer b.wg.Done()
	renew := time.NewTicker(b.lease / 3)
	defer renew.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.wake:
			b.readKept()
		case <-renew.C:
			b.renewClaims()
			b.readKept() // what a failed read left
		}
	}
}

// readKept reads the kept events of the challenges waiting for it, in
// batches, and delivers them. What fails is read again on the next wake.
func (b *Bus) readKept() {
	for {
		b.mu.Lock()
		sids := make([]string, 0, min(len(b.toRead), readBatch))
		for sid := range b.toRead {
			if len(sids) == readBatch {
				break
			}
			delete(b.toRead, sid)
			if len(b.subs[sid]) > 0 {
				sids = append(sids, sid)
			}
		}
		b.mu.Unlock()
		if len(sids) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(b.ctx, opTimeout)
		cmds, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, sid := range sids {
				p.LRange(ctx, b.recentKey(sid), 0, -1)
			}
			return nil
		})
		cancel()
		if err != nil && !errors.Is(err, redis.Nil) {
			if b.ctx.Err() == nil {
				b.logf(slog.LevelWarn, "reading kept events; retrying later", "challenges", len(sids), "error", err)
			}
			b.mu.Lock()
			for _, sid := range sids {
				b.toRead[sid] = struct{}{}
			}
			b.mu.Unlock()
			return
		}
		for _, c := range cmds {
			for _, payload := range c.(*redis.StringSliceCmd).Val() {
				if ev, err := decode([]byte(payload)); err == nil {
					b.deliver(ev)
				}
			}
		}
	}
}

// Close stops the Bus: every subscription's channel is closed (Waits in
// flight poll on), its goroutines end and its subscription connection is
// closed. Claims it still holds expire after the lease. It does not close
// rdb. Later calls do nothing.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, set := range b.subs {
		for s := range set {
			s.stopped = true
			close(s.ch)
		}
	}
	clear(b.subs)
	b.mu.Unlock()
	b.cancel()
	err := b.ps.Close()
	b.wg.Wait()
	return err
}

func (b *Bus) logf(level slog.Level, msg string, args ...any) {
	if b.log != nil {
		b.log.Log(context.Background(), level, "redisevents: "+msg, args...)
	}
}

// String names the Bus by its prefix.
func (b *Bus) String() string { return "redisevents.Bus(" + strconv.Quote(b.prefix) + ")" }
