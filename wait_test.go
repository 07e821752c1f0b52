package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
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
