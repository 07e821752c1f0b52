package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// DefaultWaitInterval is how often Wait polls when WaitOptions.Interval is zero.
const DefaultWaitInterval = time.Second

// WaitOptions tune Wait.
type WaitOptions struct {
	// Interval between Fetches, jittered by up to ±20 %; zero means 1 s.
	Interval time.Duration
}

// Wait polls Fetch until the challenge leaves pending, its expiration date
// passes, or ctx ends: what a login handler does after sending a push.
//
// It returns the challenge once it is approved, denied or expired (check
// Status). If it is still pending after its expiration date, the error
// matches ErrChallengeExpired; if ctx ends first, the error matches ctx's.
// Either way the last challenge fetched is returned with the error.
func (s *ChallengeService) Wait(ctx context.Context, serviceSID, identity, challengeSID string, opts *WaitOptions) (*Challenge, error) {
	interval := DefaultWaitInterval
	if opts != nil && opts.Interval > 0 {
		interval = opts.Interval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last *Challenge
	for {
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("verify: waiting for challenge %s: %w", challengeSID, ctx.Err())
		case <-timer.C:
		}
		ch, err := s.Fetch(ctx, serviceSID, identity, challengeSID)
		if err != nil {
			return last, err
		}
		last = ch
		if !ch.Status.IsPending() {
			return ch, nil
		}
		wait := jitter(interval)
		if !ch.ExpirationDate.IsZero() {
			left := time.Until(ch.ExpirationDate)
			if left < -interval {
				return ch, fmt.Errorf("verify: challenge %s still pending after its expiration date: %w", challengeSID, ErrChallengeExpired)
			}
			if left >= 0 && left < wait {
				wait = left + 10*time.Millisecond // one last look just after it expires
			}
		}
		timer.Reset(wait)
	}
}

// jitter spreads d by ±20 % so many waiting handlers do not poll in step.
func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread) + time.Duration(rand.Int64N(2*spread+1))
}
