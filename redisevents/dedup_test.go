package redisevents

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// The Bus is what the handler takes as WebhookConfig.Dedup.
var _ verify.Dedup = (*Bus)(nil)
var _ verify.EventSource = (*Bus)(nil)

type claimResult struct {
	handled bool
	release func(bool)
	err     error
}

// claimAsync starts a Claim and returns where its result will come.
func claimAsync(ctx context.Context, b *Bus, uuid string) <-chan claimResult {
	out := make(chan claimResult, 1)
	go func() {
		h, r, err := b.Claim(ctx, uuid, time.Minute)
		out <- claimResult{h, r, err}
	}()
	return out
}

// getResult is what a claimAsync got, failing after testTimeout.
func getResult(t *testing.T, ch <-chan claimResult) claimResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(testTimeout):
		t.Fatalf("Claim still waiting after %s", testTimeout)
	}
	return claimResult{}
}

// TestClaimAcrossInstances: a uuid claimed on one instance makes a Claim
// on another wait; handled there, it is a duplicate on every instance for
// the window; not handled, the other one gets it.
func TestClaimAcrossInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.bus(), f.bus()
	admin := f.admin()
	for _, handled := range []bool{true, false} {
		uuid := "uuid-" + strings.ToUpper(newSID())
		got, release, err := a.Claim(ctx, uuid, 42*time.Second)
		if got || err != nil || release == nil {
			t.Fatalf("first Claim: handled %v, err %v", got, err)
		}
		second := claimAsync(ctx, b, uuid)
		select {
		case r := <-second:
			t.Fatalf("second Claim returned %+v while the first holds the uuid", r)
		case <-time.After(50 * time.Millisecond): // it looks again every 5 to 100 ms
		}
		release(handled)
		r := getResult(t, second)
		if r.err != nil || r.handled != handled || (r.release == nil) == !handled {
			t.Fatalf("handled=%v: the waiting Claim got handled %v, err %v", handled, r.handled, r.err)
		}
		key := "verify:uuid:" + uuid
		if handled {
			if ttl := admin.PTTL(ctx, key).Val(); ttl <= 40*time.Second || ttl > 42*time.Second {
				t.Errorf("a handled uuid is kept for %v, want the window, 42s", ttl)
			}
			if h, _, _ := a.Claim(ctx, uuid, time.Minute); !h {
				t.Error("the instance that handled it does not see it handled")
			}
			continue
		}
		if ttl := admin.PTTL(ctx, key).Val(); ttl <= 0 || ttl > DefaultLease {
			t.Errorf("a claim lives %v, want at most the lease %v", ttl, DefaultLease)
		}
		r.release(false)
		if n := admin.Exists(ctx, key).Val(); n != 0 {
			t.Error("a released claim is still in Redis")
		}
		if a.held() != 0 || b.held() != 0 {
			t.Errorf("claims still held: %d, %d", a.held(), b.held())
		}
	}
}

// TestClaimOfADeadInstanceLapses: an instance that dies mid-callback stops
// renewing its claim, which lapses after the lease, so a retry on another
// instance runs the callback; a live holder keeps its claim past the lease.
func TestClaimOfADeadInstanceLapses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const lease = 600 * time.Millisecond
	live, dead, other := f.bus(WithLease(lease)), New(f.client(), WithLease(lease)), f.bus(WithLease(lease))
	_, releaseLive, err := live.Claim(ctx, "kept", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := dead.Claim(ctx, "lost", time.Minute); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = dead.Close() // its process is gone: nothing renews or releases
	lost := claimAsync(ctx, other, "lost")
	r := getResult(t, lost)
	if r.err != nil || r.handled || r.release == nil {
		t.Fatalf("Claim after the holder died: %+v", r)
	}
	if waited := time.Since(start); waited > lease+time.Second {
		t.Errorf("the dead instance's claim lasted %v, want about the lease %v", waited, lease)
	}
	r.release(true)
	// The live holder renewed its claim all along: past twice the lease it
	// still holds it.
	short, cancel := context.WithTimeout(ctx, 2*lease)
	defer cancel()
	if _, _, err := other.Claim(short, "kept", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Claim of a uuid a live instance holds: %v, want to wait until ctx ends", err)
	}
	releaseLive(true)
	if h, _, err := other.Claim(ctx, "kept", time.Minute); !h || err != nil {
		t.Errorf("after the live holder handled it: handled %v, err %v", h, err)
	}
}

// TestClaimWithRedisDown: Claim fails (the handler answers 503), a Claim
// waiting on another holder ends with its ctx, and a release that cannot
// reach Redis does not hang.
func TestClaimWithRedisDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bus := f.bus()
	_, release, err := bus.Claim(ctx, "held", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Kill()
	if h, r, err := bus.Claim(ctx, "another", time.Minute); err == nil || h || r != nil {
		t.Errorf("Claim with Redis down: handled %v, err %v", h, err)
	}
	start := time.Now()
	release(true)
	if d := time.Since(start); d > opTimeout+time.Second {
		t.Errorf("release took %v with Redis down", d)
	}
	f.srv.Restart()
	if h, r, err := bus.Claim(ctx, "held", time.Minute); h || err != nil || r == nil {
		t.Errorf("after the restart (nothing kept): handled %v, err %v", h, err)
	} else {
		r(true)
	}
}

// TestHandlerWithRedisDownAnswers5xx: NewWebhookHandler with the Bus as
// Dedup and Publish: while Redis is unreachable a signed delivery is
// answered 503, never 2xx, and the callback does not run; once Redis is
// back the retry is handled (204), and a duplicate answers 200.
func TestHandlerWithRedisDownAnswers5xx(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bus := f.bus()
	const token, public = "0123456789abcdef0123456789abcdef", "https://login.example.com/hooks/verify"
	calls := 0
	h := verify.NewWebhookHandler(verify.WebhookConfig{AuthTokens: verify.Secrets(token), PublicURL: public, Dedup: bus},
		func(ctx context.Context, ev *verify.Event) error { calls++; return bus.Publish(ctx, ev) })
	form := url.Values{
		"uuid": {"7b1c3f3a-0000-4000-8000-000000000007"}, "type": {string(verify.EventChallengeApproved)},
		"account_sid": {"AC" + strings.Repeat("a", 32)}, "challenge_sid": {newSID()}, "challenge_status": {"approved"},
		"date_created": {time.Now().UTC().Format(time.RFC3339)},
	}
	deliver := func() int {
		req := httptest.NewRequest(http.MethodPost, public, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(verify.SignatureHeader, verifytest.SignWebhook(token, public, form))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	f.srv.Kill()
	if code := deliver(); code != http.StatusServiceUnavailable || calls != 0 {
		t.Errorf("with Redis down: %d, %d calls; want 503 and none", code, calls)
	}
	f.srv.Restart()
	if code := deliver(); code != http.StatusNoContent || calls != 1 {
		t.Errorf("Twilio's retry once Redis is back: %d, %d calls; want 204 and one", code, calls)
	}
	if code := deliver(); code != http.StatusOK || calls != 1 {
		t.Errorf("a duplicate: %d, %d calls; want 200 and still one", code, calls)
	}
}
