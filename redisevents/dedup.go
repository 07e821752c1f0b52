package redisevents

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	verify "github.com/verifykit/verify-go"
)

// A uuid's key holds "claim:<holder>:<n>" while a delivery of it is being
// handled, for the lease, and "done" once one was, for the window.
const doneValue = "done"

// claimScript takes the uuid's key for the caller unless it is taken:
// 1 taken now, 0 handled already, 2 held by another.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
if v == 'done' then return 0 end
return 2
`)

// dropScript deletes the claim if it is still the caller's.
var dropScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// renewScript extends the claim if it is still the caller's.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// Waits between two looks at a uuid another instance holds.
const (
	firstClaimWait = 5 * time.Millisecond
	maxClaimWait   = 100 * time.Millisecond
)

// Claim implements verify.Dedup over Redis, for WebhookConfig.Dedup: one
// delivery of a uuid at a time across every instance sharing the prefix.
// It reports handled when any of them handled uuid within the window. If
// another holds it, Claim looks again, 5 ms then up to every 100 ms, until
// it is released or its lease runs out (its instance died), or ctx ends.
// A claim taken here is renewed every third of the lease until release,
// which marks the uuid done for window (handled) or frees it (not).
// Redis errors are returned, and the handler answers 503.
func (b *Bus) Claim(ctx context.Context, uuid string, window time.Duration) (bool, func(bool), error) {
	key := b.uuidKey(uuid)
	if window <= 0 {
		window = verify.DefaultReplayWindow
	}
	b.mu.Lock()
	b.nclaims++
	value := "claim:" + b.holder + ":" + strconv.FormatUint(b.nclaims, 10)
	b.mu.Unlock()
	wait := firstClaimWait
	for {
		got, err := claimScript.Run(ctx, b.rdb, []string{key}, value, b.lease.Milliseconds()).Int()
		if err != nil {
			return false, nil, fmt.Errorf("redisevents: claiming webhook event %s: %w", uuid, err)
		}
		switch got {
		case 0:
			return true, nil, nil
		case 1:
			b.mu.Lock()
			b.claims[key] = value
			b.mu.Unlock()
			var once sync.Once
			return false, func(handled bool) { once.Do(func() { b.release(key, value, handled, window) }) }, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, nil, fmt.Errorf("redisevents: waiting for another delivery of webhook event %s: %w", uuid, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, maxClaimWait)
	}
}

// release ends a claim: the uuid is done for window, or free again.
func (b *Bus) release(key, value string, handled bool, window time.Duration) {
	b.mu.Lock()
	delete(b.claims, key)
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var err error
	if handled {
		// Whoever holds it now (after a lapsed lease), the event was handled.
		err = b.rdb.Set(ctx, key, doneValue, window).Err()
	} else {
		err = dropScript.Run(ctx, b.rdb, []string{key}, value).Err()
	}
	if err != nil {
		// Not marked done: a retry runs the callback again once the lease
		// runs out. Not freed: the same, without the wait being any longer.
		b.logf(slog.LevelWarn, "releasing a webhook claim; it expires with its lease", "key", key, "handled", handled, "error", err)
	}
}

// renewClaims extends the lease of every claim this Bus holds.
func (b *Bus) renewClaims() {
	b.mu.Lock()
	held := make(map[string]string, len(b.claims))
	for k, v := range b.claims {
		held[k] = v
	}
	b.mu.Unlock()
	if len(held) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, opTimeout)
	defer cancel()
	lease := b.lease.Milliseconds()
	_, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, v := range held {
			renewScript.Eval(ctx, p, []string{k}, v, lease) // EVALSHA cannot fall back to EVAL in a pipeline
		}
		return nil
	})
	if err != nil && b.ctx.Err() == nil {
		b.logf(slog.LevelWarn, "renewing webhook claims", "claims", len(held), "error", err)
	}
}

// held is how many claims the Bus holds, for tests.
func (b *Bus) held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.claims)
}
