package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingDedup is a Dedup shared by several handlers, as a Redis one is
// by several instances: an in-memory guard that records what the handlers
// ask of it, or fails every Claim with fail.
type recordingDedup struct {
	guard *replayGuard
	fail  error

	mu       sync.Mutex
	windows  []time.Duration
	released []bool
}

func newRecordingDedup() *recordingDedup {
	return &recordingDedup{guard: newReplayGuard(time.Hour, 100, time.Now)}
}

func (d *recordingDedup) Claim(ctx context.Context, uuid string, window time.Duration) (bool, func(bool), error) {
	d.mu.Lock()
	d.windows = append(d.windows, window)
	d.mu.Unlock()
	if d.fail != nil {
		return false, nil, d.fail
	}
	handled, release, err := d.guard.Claim(ctx, uuid, window)
	if release == nil {
		return handled, nil, err
	}
	return handled, func(ok bool) {
		d.mu.Lock()
		d.released = append(d.released, ok)
		d.mu.Unlock()
		release(ok)
	}, err
}

func (d *recordingDedup) seen() ([]time.Duration, []bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.windows...), append([]bool(nil), d.released...)
}

// TestWebhookHandlersShareADedup: with WebhookConfig.Dedup, a uuid handled
// through one handler is a duplicate for another (two instances behind a
// load balancer); a failed callback releases the claim, so the retry runs
// it; the handler passes its ReplayWindow.
func TestWebhookHandlersShareADedup(t *testing.T) {
	t.Parallel()
	shared := newRecordingDedup()
	cfg := testConfig()
	cfg.ReplayWindow = 7 * time.Minute
	cfg.Dedup = shared
	var calls []string
	fails := true
	fn := func(_ context.Context, ev *Event) error {
		calls = append(calls, ev.UUID)
		if fails {
			fails = false
			return errors.New("first call fails")
		}
		return nil
	}
	a, b := NewWebhookHandler(cfg, fn), NewWebhookHandler(cfg, fn)
	var got []int
	for _, h := range []any{a, b, a, b} {
		rec := httptest.NewRecorder()
		h.(*webhookHandler).ServeHTTP(rec, formRequest(hookURL, eventForm(), testToken))
		got = append(got, rec.Code)
	}
	if want := []int{500, 204, 200, 200}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if len(calls) != 2 {
		t.Errorf("callback ran %d times, want 2 (a failure, then the retry)", len(calls))
	}
	windows, released := shared.seen()
	if fmt.Sprint(released) != "[false true]" {
		t.Errorf("released %v, want [false true]", released)
	}
	for _, w := range windows {
		if w != 7*time.Minute {
			t.Errorf("Claim got window %v, want the ReplayWindow 7m", w)
		}
	}
	if len(windows) != 4 {
		t.Errorf("%d Claims, want 4", len(windows))
	}
	if a.(*webhookHandler).seen.size() != 0 {
		t.Error("the handler's own memory was used beside the shared Dedup")
	}
}

// TestWebhookHandlerDedupFailureIs503: a Dedup that cannot answer (its
// store unreachable) makes the handler answer 503, never 2xx, without
// calling back; Twilio retries a 5xx. Its error text is not sent.
func TestWebhookHandlerDedupFailureIs503(t *testing.T) {
	t.Parallel()
	d := newRecordingDedup()
	d.fail = errors.New("dial tcp 10.1.2.3:6379: connection refused (password hunter2)")
	cfg := testConfig()
	cfg.Dedup = d
	called := false
	h := NewWebhookHandler(cfg, func(context.Context, *Event) error { called = true; return nil })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, formRequest(hookURL, eventForm(), testToken))
	if rec.Code != 503 || called {
		t.Errorf("status %d, callback called %v; want 503 and not called", rec.Code, called)
	}
	if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(rec.Body.String(), "10.1.2.3") {
		t.Errorf("the answer quotes the Dedup's error: %q", rec.Body.String())
	}
}

// TestWebhookHandlerPanicReleasesTheClaim: a callback that panics leaves
// the event unhandled in a shared Dedup, so a retry runs it.
func TestWebhookHandlerPanicReleasesTheClaim(t *testing.T) {
	t.Parallel()
	d := newRecordingDedup()
	cfg := testConfig()
	cfg.Dedup = d
	h := NewWebhookHandler(cfg, func(context.Context, *Event) error { panic("boom") })
	func() {
		defer func() { _ = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), formRequest(hookURL, eventForm(), testToken))
	}()
	if _, released := d.seen(); fmt.Sprint(released) != "[false]" {
		t.Errorf("released %v after a panic, want [false]", released)
	}
	handled, release, err := d.Claim(context.Background(), eventForm().Get("uuid"), time.Minute)
	if handled || err != nil || release == nil {
		t.Fatalf("Claim after the panic: handled %v, err %v", handled, err)
	}
	release(false)
}

// TestNewWebhookHandlerRefusesANilDedup: a Dedup field holding a nil
// pointer (a bus variable never set) panics at once, rather than falling
// back to the handler's memory behind the caller's back.
func TestNewWebhookHandlerRefusesANilDedup(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	var d *recordingDedup
	cfg.Dedup = d
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "Dedup holds a nil pointer") {
			t.Errorf("panic %v", p)
		}
	}()
	NewWebhookHandler(cfg, func(context.Context, *Event) error { return nil })
}

// TestWebhookConfigShowsItsDedupType: a configuration prints, logs and
// marshals its Dedup's type, never its value (a shared one may hold a
// connection with a password).
func TestWebhookConfigShowsItsDedupType(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	if s := fmt.Sprint(cfg); !strings.Contains(s, "Dedup: in-memory") {
		t.Errorf("printed %s; want Dedup: in-memory", s)
	}
	cfg.Dedup = newRecordingDedup()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprintf("%+v", cfg), string(b)} {
		if !strings.Contains(s, "*verify.recordingDedup") || strings.Contains(s, "guard") {
			t.Errorf("shown as %s; want the Dedup's type alone", s)
		}
	}
}
