package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

// statusResponder serves a challenge whose status is pending for the first
// `pending` fetches and then final; expires sets its expiration date.
func statusResponder(pending int32, final string, expires time.Time) (httpmock.Responder, *int32) {
	var n int32
	return func(*http.Request) (*http.Response, error) {
		status := "pending"
		if atomic.AddInt32(&n, 1) > pending {
			status = final
		}
		body := `{"sid":"` + testChallenge + `","status":"` + status + `","expiration_date":"` + expires.UTC().Format(time.RFC3339) + `"}`
		return httpmock.NewStringResponse(200, body), nil
	}, &n
}

func TestWaitReturnsWhenStatusLeavesPending(t *testing.T) {
	t.Parallel()
	for _, final := range []string{"approved", "denied", "expired"} {
		h := newHarness(t)
		r, n := statusResponder(2, final, time.Now().Add(time.Minute))
		h.mock.RegisterResponder("GET", oneURL, r)
		ch, err := h.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, &WaitOptions{Interval: 5 * time.Millisecond})
		if ch == nil || string(ch.Status) != final {
			t.Fatalf("%s: %v %v", final, ch, err)
		}
		// An expired challenge is a failed login: the error says so.
		if wantExpired := final == "expired"; errors.Is(err, ErrChallengeExpired) != wantExpired || (err != nil) != wantExpired {
			t.Errorf("%s: err = %v, want ErrChallengeExpired only for expired", final, err)
		}
		if got := atomic.LoadInt32(n); got != 3 {
			t.Errorf("%s: %d fetches, want 3", final, got)
		}
	}
}

func TestWaitStopsAtExpirationAndContext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r, _ := statusResponder(1<<30, "approved", time.Now().Add(30*time.Millisecond))
	h.mock.RegisterResponder("GET", oneURL, r)
	ch, err := h.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, &WaitOptions{Interval: 10 * time.Millisecond})
	if !errors.Is(err, ErrChallengeExpired) || ch == nil || !ch.Status.IsPending() {
		t.Fatalf("past expiry: %v %v", ch, err)
	}

	h2 := newHarness(t)
	r2, _ := statusResponder(1<<30, "approved", time.Now().Add(time.Hour))
	h2.mock.RegisterResponder("GET", oneURL, r2)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
	defer cancel()
	ch, err = h2.client.Challenges.Wait(ctx, testService, testIdentity, testChallenge, &WaitOptions{Interval: 5 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || ch == nil {
		t.Fatalf("ctx end: %v %v", ch, err)
	}

	h3 := newHarness(t, WithMaxRetries(0))
	h3.mock.RegisterResponder("GET", oneURL, twilioError(404, 20404, "gone"))
	_, err = h3.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, nil)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "20404") {
		t.Fatalf("fetch error: %v", err)
	}
}

func TestJitterStaysWithinTwentyPercent(t *testing.T) {
	t.Parallel()
	for i := 0; i < 1000; i++ {
		if d := jitter(time.Second); d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("jitter(1s) = %v", d)
		}
	}
}

// clockResponder is statusResponder with the server's Date header set
// offset from our clock, as a server with a skewed clock sends it.
func clockResponder(pending int32, final string, expires time.Time, offset time.Duration) httpmock.Responder {
	r, _ := statusResponder(pending, final, expires)
	return func(req *http.Request) (*http.Response, error) {
		resp, err := r(req)
		resp.Header.Set("Date", time.Now().Add(offset).UTC().Format(http.TimeFormat))
		return resp, err
	}
}

func TestWaitJudgesExpiryByTheServersClock(t *testing.T) {
	t.Parallel()
	// The server's clock is 2 minutes behind ours; the challenge expires a
	// minute from the server's now, which is already past on our clock.
	behind := -2 * time.Minute
	h := newHarness(t)
	h.mock.RegisterResponder("GET", oneURL, clockResponder(3, "approved", time.Now().Add(behind+time.Minute), behind))
	ch, err := h.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, &WaitOptions{Interval: 5 * time.Millisecond})
	if err != nil || !ch.Status.IsApproved() {
		t.Fatalf("server clock behind: %v %v; want approved, the user still had a minute", ch, err)
	}

	// The server's clock is 2 minutes ahead: its challenge expired a minute
	// ago though our clock says a minute is left, and it still reads pending.
	ahead := 2 * time.Minute
	h2 := newHarness(t)
	h2.mock.RegisterResponder("GET", oneURL, clockResponder(1<<30, "approved", time.Now().Add(time.Minute), ahead))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ch, err = h2.client.Challenges.Wait(ctx, testService, testIdentity, testChallenge, &WaitOptions{Interval: 5 * time.Millisecond})
	if !errors.Is(err, ErrChallengeExpired) || ch == nil || ctx.Err() != nil {
		t.Fatalf("server clock ahead: %v %v; want ErrChallengeExpired before ctx ends", ch, err)
	}
}

func TestWaitPollsThroughTransientErrors(t *testing.T) {
	t.Parallel()
	pending := bodyResponder(200, `{"sid":"`+testChallenge+`","status":"pending","expiration_date":"`+
		time.Now().Add(time.Minute).UTC().Format(time.RFC3339)+`"}`)
	approved := bodyResponder(200, `{"sid":"`+testChallenge+`","status":"approved"}`)
	h := newHarness(t, WithMaxRetries(0))
	h.mock.RegisterResponder("GET", oneURL, sequence(pending, twilioError(503, 0, "down"), reset,
		twilioError(429, 20429, "slow down"), httpmock502(), approved))
	ch, err := h.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, &WaitOptions{Interval: time.Millisecond})
	if err != nil || !ch.Status.IsApproved() {
		t.Fatalf("through 503, reset, 429 and 502: %v %v; want approved", ch, err)
	}
	if n := h.mock.GetTotalCallCount(); n != 6 {
		t.Errorf("%d fetches, want 6", n)
	}

	// Errors that polling cannot fix end the wait at once.
	for _, tc := range []struct {
		name string
		r    httpmock.Responder
		want error
	}{
		{"404", twilioError(404, 20404, "gone"), ErrNotFound},
		{"401", twilioError(401, 20003, "Authenticate"), ErrUnauthorized},
		{"per-challenge limit", twilioError(429, 60308, "too many attempts"), ErrRateLimited},
	} {
		h := newHarness(t, WithMaxRetries(0))
		h.mock.RegisterResponder("GET", oneURL, sequence(pending, tc.r, approved))
		_, err := h.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, &WaitOptions{Interval: time.Millisecond})
		if !errors.Is(err, tc.want) || h.mock.GetTotalCallCount() != 2 {
			t.Errorf("%s: err = %v after %d fetches; want %v after 2", tc.name, err, h.mock.GetTotalCallCount(), tc.want)
		}
	}
	h2 := newHarness(t)
	_, err = h2.client.Challenges.Wait(context.Background(), testService, testIdentity, "YC123", nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(h2.requests()) != 0 {
		t.Errorf("bad SID: err = %v after %d requests; want *ValidationError and none", err, len(h2.requests()))
	}
}

// TestWaitPollsThroughResetsOverRealSockets is the blip of the issue: a few
// connections reset mid-login, over loopback TCP.
func TestWaitPollsThroughResetsOverRealSockets(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	expires := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
		switch k := n.Add(1); {
		case k == 1:
			writeRaw(conn, 200, jsonHeader, `{"sid":"`+testChallenge+`","status":"pending","expiration_date":"`+expires+`"}`)
		case k <= 9:
			_ = conn.(*net.TCPConn).SetLinger(0) // reset
		default:
			writeRaw(conn, 200, jsonHeader, `{"sid":"`+testChallenge+`","status":"approved"}`)
		}
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url), WithMaxRetries(1),
		WithRetryWait(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ch, err := c.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, &WaitOptions{Interval: time.Millisecond})
	if err != nil || !ch.Status.IsApproved() {
		t.Fatalf("%v %v; want approved after the resets", ch, err)
	}
}

// switchResponder serves the challenge with whatever status *status holds,
// expiring in a minute.
func switchResponder(status *atomic.Value, served *atomic.Int32) httpmock.Responder {
	expires := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	return func(*http.Request) (*http.Response, error) {
		body := `{"sid":"` + testChallenge + `","status":"` + status.Load().(string) + `","expiration_date":"` + expires + `"}`
		if served != nil {
			served.Add(1) // counted once the status is read, so a test can change it after
		}
		return httpmock.NewStringResponse(200, body), nil
	}
}

// waitFor polls cond until it holds; the deadline only stops a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type waitResult struct {
	ch  *Challenge
	err error
}

func startWait(h *harness, ctx context.Context, opts *WaitOptions) <-chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		ch, err := h.client.Challenges.Wait(ctx, testService, testIdentity, testChallenge, opts)
		done <- waitResult{ch, err}
	}()
	return done
}

func TestWaitWithEventsFetchesOnceWhenTheEventArrives(t *testing.T) {
	t.Parallel()
	// The event says approved; what Wait returns is what the API says.
	for _, final := range []string{"approved", "denied"} {
		h := newHarness(t)
		var status atomic.Value
		status.Store("pending")
		var served atomic.Int32
		h.mock.RegisterResponder("GET", oneURL, switchResponder(&status, &served))
		hub := NewEventHub()
		// Polls an hour apart: only the event can end it; ctx only stops a broken test.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done := startWait(h, ctx, &WaitOptions{Events: hub, Interval: time.Hour})
		waitFor(t, "the first Fetch", func() bool { return served.Load() == 1 })
		status.Store(final)
		_ = hub.Publish(context.Background(), approvedEvent(testChallenge, "ev-1"))
		r := <-done
		if r.err != nil || string(r.ch.Status) != final {
			t.Errorf("%s: %v %v", final, r.ch, r.err)
		}
		if n := h.mock.GetTotalCallCount(); n != 2 {
			t.Errorf("%s: %d Fetches, want 2 (the first, then one on the event)", final, n)
		}
		if hub.subscribers() != 0 {
			t.Errorf("%s: Wait left its subscription", final)
		}
	}
}

func TestWaitWithEventsSeesAnEventThatCameFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		reads   []string // what successive Fetches read
		fetches int
	}{
		{"API already answered", []string{"approved"}, 1},
		{"API a step behind", []string{"pending", "approved"}, 2},
	} {
		h := newHarness(t)
		var rs []httpmock.Responder
		for _, s := range tc.reads {
			rs = append(rs, bodyResponder(200, `{"sid":"`+testChallenge+`","status":"`+s+`","expiration_date":"`+
				time.Now().Add(time.Minute).UTC().Format(time.RFC3339)+`"}`))
		}
		h.mock.RegisterResponder("GET", oneURL, sequence(rs...))
		hub := NewEventHub()
		_ = hub.Publish(context.Background(), approvedEvent(testChallenge, "early"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // only stops a broken test
		r := <-startWait(h, ctx, &WaitOptions{Events: hub, Interval: time.Hour})
		cancel()
		if r.err != nil || !r.ch.Status.IsApproved() || h.mock.GetTotalCallCount() != tc.fetches {
			t.Errorf("%s: %v %v after %d Fetches; want approved after %d", tc.name, r.ch, r.err, h.mock.GetTotalCallCount(), tc.fetches)
		}
	}
}

func TestWaitWithEventsRechecksWhenTheAPIStillReadsPending(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var status atomic.Value
	status.Store("pending")
	var fetches atomic.Int32
	base := switchResponder(&status, nil)
	h.mock.RegisterResponder("GET", oneURL, func(req *http.Request) (*http.Response, error) {
		if fetches.Add(1) == 3 { // the event raced ahead: the API catches up on the re-check
			status.Store("approved")
		}
		return base(req)
	})
	hub := NewEventHub()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // only stops a broken test
	defer cancel()
	done := startWait(h, ctx, &WaitOptions{Events: hub, Interval: time.Hour})
	waitFor(t, "the first Fetch", func() bool { return fetches.Load() == 1 })
	_ = hub.Publish(context.Background(), approvedEvent(testChallenge, "ev-1"))
	r := <-done
	if r.err != nil || !r.ch.Status.IsApproved() || fetches.Load() != 3 {
		t.Errorf("%v %v after %d Fetches; want approved after 3 (first, on the event, re-check)", r.ch, r.err, fetches.Load())
	}
}

// chanSource is an EventSource over a channel the test feeds, as a Redis
// fan-out would be.
type chanSource struct {
	ch      chan *Event
	sid     string
	stopped atomic.Bool
}

func (s *chanSource) Subscribe(sid string) (<-chan *Event, func()) {
	s.sid = sid
	return s.ch, func() { s.stopped.Store(true) }
}

func TestWaitWithEventsIgnoresOtherEventsAndSurvivesTheSource(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var status atomic.Value
	status.Store("pending")
	var served atomic.Int32
	h.mock.RegisterResponder("GET", oneURL, switchResponder(&status, &served))
	src := &chanSource{ch: make(chan *Event, 8)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // only stops a broken test
	defer cancel()
	done := startWait(h, ctx, &WaitOptions{Events: src, Interval: time.Hour})
	waitFor(t, "the first Fetch", func() bool { return served.Load() == 1 })
	src.ch <- approvedEvent("YC03bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "other challenge")
	src.ch <- &Event{UUID: "factor", Type: EventFactorVerified, ChallengeSID: testChallenge}
	src.ch <- nil
	src.ch <- &Event{UUID: "pending?", Type: "challenge.expired", ChallengeSID: testChallenge}
	status.Store("denied")
	src.ch <- &Event{UUID: "denied", Type: EventChallengeDenied, ChallengeSID: testChallenge}
	r := <-done
	if r.err != nil || !r.ch.Status.IsDenied() || h.mock.GetTotalCallCount() != 2 {
		t.Errorf("%v %v after %d Fetches; want denied after 2", r.ch, r.err, h.mock.GetTotalCallCount())
	}
	if src.sid != testChallenge || !src.stopped.Load() {
		t.Errorf("subscribed to %q, stopped %v", src.sid, src.stopped.Load())
	}

	// A source whose channel closes: Wait polls on at its interval.
	h2 := newHarness(t)
	closed := &chanSource{ch: make(chan *Event)}
	close(closed.ch)
	r2, n := statusResponder(2, "approved", time.Now().Add(time.Minute))
	h2.mock.RegisterResponder("GET", oneURL, r2)
	ch, err := h2.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge,
		&WaitOptions{Events: closed, Interval: 5 * time.Millisecond})
	if err != nil || !ch.Status.IsApproved() || atomic.LoadInt32(n) != 3 {
		t.Errorf("closed source: %v %v after %d Fetches; want approved after 3", ch, err, atomic.LoadInt32(n))
	}
}

func TestWaitWithEventsKeepsTheRestOfWait(t *testing.T) {
	t.Parallel()
	// Transient failures: the event's Fetch gets a 503, the next event's succeeds.
	pending := bodyResponder(200, `{"sid":"`+testChallenge+`","status":"pending","expiration_date":"`+
		time.Now().Add(time.Minute).UTC().Format(time.RFC3339)+`"}`)
	approved := bodyResponder(200, `{"sid":"`+testChallenge+`","status":"approved"}`)
	h := newHarness(t, WithMaxRetries(0))
	h.mock.RegisterResponder("GET", oneURL, sequence(pending, twilioError(503, 0, "down"), approved))
	hub := NewEventHub()
	done := startWait(h, context.Background(), &WaitOptions{Events: hub})
	waitFor(t, "the first Fetch", func() bool { return h.mock.GetTotalCallCount() == 1 })
	_ = hub.Publish(context.Background(), approvedEvent(testChallenge, "ev-1"))
	waitFor(t, "the Fetch that fails", func() bool { return h.mock.GetTotalCallCount() == 2 })
	_ = hub.Publish(context.Background(), approvedEvent(testChallenge, "ev-1-retried"))
	r := <-done
	if r.err != nil || !r.ch.Status.IsApproved() || h.mock.GetTotalCallCount() != 3 {
		t.Errorf("through a 503: %v %v after %d Fetches; want approved after 3", r.ch, r.err, h.mock.GetTotalCallCount())
	}

	// Expiry: no event ever comes; one look just after the expiration date
	// ends it, not the 10 s safety net.
	expires := time.Now().Add(50 * time.Millisecond)
	h2 := newHarness(t)
	h2.mock.RegisterResponder("GET", oneURL, func(*http.Request) (*http.Response, error) {
		status := "pending"
		if time.Now().After(expires) {
			status = "expired"
		}
		return httpmock.NewStringResponse(200, `{"sid":"`+testChallenge+`","status":"`+status+`","expiration_date":"`+
			expires.UTC().Format(time.RFC3339Nano)+`"}`), nil
	})
	ch, err := h2.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, &WaitOptions{Events: NewEventHub()})
	if !errors.Is(err, ErrChallengeExpired) || ch == nil || h2.mock.GetTotalCallCount() != 2 {
		t.Errorf("expiry: %v %v after %d Fetches; want ErrChallengeExpired after 2", ch, err, h2.mock.GetTotalCallCount())
	}

	// ctx ends the wait, and the subscription.
	h3 := newHarness(t)
	h3.mock.RegisterResponder("GET", oneURL, pending)
	hub3 := NewEventHub()
	ctx, cancel := context.WithCancel(context.Background())
	done3 := startWait(h3, ctx, &WaitOptions{Events: hub3})
	waitFor(t, "the first Fetch", func() bool { return h3.mock.GetTotalCallCount() == 1 })
	cancel()
	r3 := <-done3
	if !errors.Is(r3.err, context.Canceled) || r3.ch == nil || !r3.ch.Status.IsPending() || hub3.subscribers() != 0 {
		t.Errorf("ctx: %v %v, %d subscriptions left", r3.ch, r3.err, hub3.subscribers())
	}
}

func TestWaitIntervalDefaults(t *testing.T) {
	t.Parallel()
	hub := NewEventHub()
	for _, tc := range []struct {
		opts *WaitOptions
		want time.Duration
	}{
		{nil, time.Second},
		{&WaitOptions{}, time.Second},
		{&WaitOptions{Interval: 3 * time.Second}, 3 * time.Second},
		{&WaitOptions{Events: hub}, 10 * time.Second},
		{&WaitOptions{Events: hub, Interval: time.Minute}, time.Minute},
		// A typed nil is no source: the interval without events.
		{&WaitOptions{Events: (*EventHub)(nil)}, time.Second},
		{&WaitOptions{Events: (*chanSource)(nil)}, time.Second},
		{&WaitOptions{Events: subscribeFunc(nil)}, time.Second},
		{&WaitOptions{Events: (*EventHub)(nil), Interval: time.Minute}, time.Minute},
	} {
		if got := waitInterval(tc.opts); got != tc.want {
			t.Errorf("waitInterval(%+v) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}

// blip is a challenge API with a 503 blip around the expiration date. Its
// first read says pending just inside the grace (1.9 s past the expiration
// date on the server's clock: the API marks expiry on its own schedule).
// Then every Fetch fails until one has failed past the expiration date plus
// the grace, on that clock; after that, reads say after ("" keeps failing).
type blip struct {
	after  string
	cancel context.CancelFunc // if set, called by the first Fetch after the late failure

	mu         sync.Mutex
	start      time.Time // our clock at the first read
	date       time.Time // the server's clock at the first read
	fetches    int
	reads      int  // Fetches that succeeded
	lastOK     bool // the last Fetch succeeded
	failedLate bool // a Fetch failed past the expiration date plus the grace
}

func (b *blip) expires() time.Time { return b.date.Add(-1900 * time.Millisecond) }

func (b *blip) respond(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fetches++
	if b.fetches == 1 {
		b.start, b.date = time.Now(), time.Now().Truncate(time.Second)
	}
	serverNow := b.date.Add(time.Since(b.start))
	status := "pending"
	switch {
	case b.fetches == 1:
	case b.failedLate && b.cancel != nil:
		b.cancel()
		return nil, req.Context().Err()
	case !b.failedLate || b.after == "":
		b.failedLate, b.lastOK = serverNow.After(b.expires().Add(expiryGrace)), false
		resp, err := twilioError(503, 0, "down")(req)
		resp.Header.Set("Date", serverNow.Format(http.TimeFormat))
		return resp, err
	default:
		status = b.after
	}
	b.reads, b.lastOK = b.reads+1, true
	resp := httpmock.NewStringResponse(200, `{"sid":"`+testChallenge+`","status":"`+status+`","expiration_date":"`+
		b.expires().UTC().Format(time.RFC3339Nano)+`"}`)
	resp.Header.Set("Date", serverNow.Format(http.TimeFormat))
	return resp, nil
}

// TestWaitNeverDeclaresExpiryFromAFailedFetch: only a successful read
// taken past the expiration date plus the grace says expired; a Fetch that
// fails there says nothing, and Wait polls on until a read succeeds or ctx
// ends.
func TestWaitNeverDeclaresExpiryFromAFailedFetch(t *testing.T) {
	t.Parallel()
	opts := &WaitOptions{Interval: 20 * time.Millisecond}

	// Approved during the blip: the read after it says so.
	h := newHarness(t, WithMaxRetries(0))
	b := &blip{after: "approved"}
	h.mock.RegisterResponder("GET", oneURL, b.respond)
	ch, err := h.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, opts)
	if err != nil || ch == nil || !ch.Status.IsApproved() || !b.failedLate || b.reads != 2 {
		t.Errorf("approved during the blip: %s, %v after %d reads (a Fetch failed late: %v); want approved after 2",
			statusOf(ch), err, b.reads, b.failedLate)
	}

	// Still pending when reads work again, past the grace: expired, from
	// such a read, not from a failed one. (The Date header has whole
	// seconds, so the first read may still look inside the grace.)
	h2 := newHarness(t, WithMaxRetries(0))
	b2 := &blip{after: "pending"}
	h2.mock.RegisterResponder("GET", oneURL, b2.respond)
	ch, err = h2.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge, opts)
	if !errors.Is(err, ErrChallengeExpired) || ch == nil || !ch.Status.IsPending() || !b2.failedLate || b2.reads < 2 || !b2.lastOK {
		t.Errorf("pending past the grace: %s, %v after %d reads, the last Fetch ok: %v (a Fetch failed late: %v); "+
			"want ErrChallengeExpired from a read after the blip", statusOf(ch), err, b2.reads, b2.lastOK, b2.failedLate)
	}

	// Failing on and on past the grace: ctx ends the wait, not expiry.
	h3 := newHarness(t, WithMaxRetries(0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b3 := &blip{cancel: cancel}
	h3.mock.RegisterResponder("GET", oneURL, b3.respond)
	ch, err = h3.client.Challenges.Wait(ctx, testService, testIdentity, testChallenge, opts)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrChallengeExpired) || ch == nil || !ch.Status.IsPending() || !b3.failedLate {
		t.Errorf("failing past the grace: %s, %v (a Fetch failed late: %v); want context.Canceled, not ErrChallengeExpired",
			statusOf(ch), err, b3.failedLate)
	}
}

// statusOf is ch's status, or "no challenge".
func statusOf(ch *Challenge) string {
	if ch == nil {
		return "no challenge"
	}
	return string(ch.Status)
}

// subscribeFunc is an EventSource made of a function, as http.HandlerFunc
// is a Handler.
type subscribeFunc func(sid string) (<-chan *Event, func())

func (f subscribeFunc) Subscribe(sid string) (<-chan *Event, func()) { return f(sid) }

// TestWaitWithATypedNilEventSourcePolls: an Events holding a nil pointer
// or func (a *EventHub left nil by a config) means no events: Wait polls
// as without one instead of panicking in Subscribe.
func TestWaitWithATypedNilEventSourcePolls(t *testing.T) {
	t.Parallel()
	for _, src := range []EventSource{(*EventHub)(nil), (*chanSource)(nil), subscribeFunc(nil)} {
		h := newHarness(t)
		r, n := statusResponder(2, "approved", time.Now().Add(time.Minute))
		h.mock.RegisterResponder("GET", oneURL, r)
		ch, err := h.client.Challenges.Wait(context.Background(), testService, testIdentity, testChallenge,
			&WaitOptions{Events: src, Interval: 5 * time.Millisecond})
		if err != nil || ch == nil || !ch.Status.IsApproved() || atomic.LoadInt32(n) != 3 {
			t.Errorf("Events: %T(nil): %s, %v after %d Fetches; want approved after 3", src, statusOf(ch), err, atomic.LoadInt32(n))
		}
	}
}
