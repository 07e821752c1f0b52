package verify

import (
	"context"
	"errors"
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
		if err != nil || string(ch.Status) != final {
			t.Fatalf("%s: %v %v", final, ch, err)
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
