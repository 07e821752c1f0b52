package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// DefaultWaitInterval is how often Wait polls when WaitOptions.Interval is zero.
const DefaultWaitInterval = time.Second

// expiryGrace is how long past its expiration date, on the server's clock, a
// challenge may still read pending before Wait calls it expired: the Date
// header has whole seconds, and the API marks expiry on its own schedule.
const expiryGrace = 2 * time.Second

// maxErrorWait caps the backoff between polls after transient errors.
const maxErrorWait = 10 * time.Second

// WaitOptions tune Wait.
type WaitOptions struct {
	// Interval between Fetches, jittered by up to ±20 %; zero means 1 s.
	Interval time.Duration
}

// Wait polls Fetch until the challenge leaves pending, it expires, or ctx
// ends: what a login handler does after sending a push.
//
// It returns the challenge once it is approved or denied. When the
// challenge ended expired (the API reports it, or it still reads pending
// past its expiration date on the server's clock, taken from the Date
// header), the error matches ErrChallengeExpired. If ctx ends first, the
// error matches ctx's. Either way the last challenge fetched comes with the
// error.
//
// Transient failures (connection errors, 429s other than per-challenge
// limits, 5xx) do not end the wait: Wait keeps polling with growing pauses,
// up to 10 s apart. Anything else (404, 401, an invalid SID) ends it at once.
func (s *ChallengeService) Wait(ctx context.Context, serviceSID, identity, challengeSID string, opts *WaitOptions) (*Challenge, error) {
	path, err := challengePath(serviceSID, identity, challengeSID)
	if err != nil {
		return nil, err
	}
	interval := DefaultWaitInterval
	if opts != nil && opts.Interval > 0 {
		interval = opts.Interval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	var (
		last     *Challenge
		offset   time.Duration // server clock minus ours, from the last Date header
		failures int
	)
	for {
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("verify: waiting for challenge %s: %w", challengeSID, ctx.Err())
		case <-timer.C:
		}
		ch, serverOffset, err := s.fetchTimed(ctx, path)
		wait := jitter(interval)
		switch {
		case err != nil && (ctx.Err() != nil || errors.As(err, new(*retryStopped)) || !transient(err)):
			return last, err
		case err != nil:
			failures++
			wait = jitter(min(interval<<min(failures, 20), max(interval, maxErrorWait)))
		default:
			last, offset, failures = ch, serverOffset, 0
			if ch.Status.IsExpired() {
				return ch, fmt.Errorf("verify: challenge %s expired unanswered: %w", challengeSID, ErrChallengeExpired)
			}
			if !ch.Status.IsPending() {
				return ch, nil
			}
		}
		if last != nil && !last.ExpirationDate.IsZero() {
			left := last.ExpirationDate.Sub(time.Now().Add(offset)) // on the server's clock
			switch giveUp := left + expiryGrace; {
			case giveUp < 0:
				return last, fmt.Errorf("verify: challenge %s still pending after its expiration date: %w", challengeSID, ErrChallengeExpired)
			case left > 0 && left < wait:
				wait = left + 10*time.Millisecond // one look just after it expires
			case left <= 0 && giveUp < wait:
				wait = giveUp + 10*time.Millisecond
			}
		}
		timer.Reset(wait)
	}
}

// fetchTimed is Fetch that also returns the server's clock offset from
// ours, read from the response's Date header (0 without one).
func (s *ChallengeService) fetchTimed(ctx context.Context, path string) (*Challenge, time.Duration, error) {
	var ch Challenge
	st, err := s.client.send(ctx, http.MethodGet, s.client.baseURL+path, path, nil, &ch)
	if err != nil {
		return nil, 0, err
	}
	var offset time.Duration
	if !st.serverDate.IsZero() {
		offset = time.Until(st.serverDate)
	}
	return &ch, offset, nil
}

// transient reports an error the retry policy would retry: Wait polls on
// through it.
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	var te *transportError
	return errors.As(err, &te) && retryableError(te.err)
}

// jitter spreads d by ±20 % so many waiting handlers do not poll in step.
func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread) + time.Duration(rand.Int64N(2*spread+1))
}
