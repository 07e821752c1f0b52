package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"time"
)

// DefaultWaitInterval is how often Wait polls when WaitOptions.Interval is zero.
const DefaultWaitInterval = time.Second

// DefaultEventSafetyInterval is how often Wait polls when WaitOptions.Events
// is set and Interval is zero: a safety net for webhooks that never come.
const DefaultEventSafetyInterval = 10 * time.Second

// eventRecheck is the first pause before Fetching again when an event said
// the challenge was answered but the API still read pending; it doubles on
// each such read, up to the interval.
const eventRecheck = 250 * time.Millisecond

// expiryGrace is how long past its expiration date, on the server's clock, a
// challenge may still read pending before Wait calls it expired: the Date
// header has whole seconds, and the API marks expiry on its own schedule.
const expiryGrace = 2 * time.Second

// maxErrorWait caps the backoff between polls after transient errors.
const maxErrorWait = 10 * time.Second

// WaitOptions tune Wait.
type WaitOptions struct {
	// Interval between Fetches, jittered by up to ±20 %; zero means 1 s,
	// or 10 s when Events is set.
	Interval time.Duration
	// Events, when set, ends the wait as soon as a challenge.approved or
	// challenge.denied event for the challenge arrives (an *EventHub fed by
	// NewWebhookHandler): Wait then Fetches once to confirm, and polls only
	// every Interval as a safety net. An *EventHub reaches only the
	// process it lives in; see EventSource for several instances.
	//
	// Nil means no events, and so does a nil pointer, func, map, chan or
	// slice held in the interface, such as an *EventHub field left nil:
	// Wait polls as without Events (every 1 s by default) and never calls
	// its Subscribe.
	Events EventSource
}

// Wait polls Fetch until the challenge leaves pending, it expires, or ctx
// ends: what a login handler does after sending a push.
//
// It returns the challenge once it is approved or denied. The error
// matches ErrChallengeExpired only when a Fetch that succeeded says so: the
// API reports the challenge expired, or it still reads pending although
// that read was taken more than 2 s past its expiration date on the
// server's clock (from the response's Date header). If ctx ends first, the
// error matches ctx's. Either way the last challenge fetched comes with the
// error.
//
// Transient failures (connection errors, 429s other than per-challenge
// limits, 5xx) do not end the wait, and never count as expiry: Wait keeps
// polling with growing pauses, up to 10 s apart, past the expiration date
// too, until a Fetch succeeds or ctx ends, so a push approved just before
// expiry during an outage is returned approved. Give ctx a deadline to
// bound the wait. Anything else (404, 401, an invalid SID) ends it at once.
//
// With opts.Events set, Wait subscribes before its first Fetch, Fetches
// again as soon as an approved or denied event for the challenge arrives,
// and returns what that Fetch reads, never the event's own status. If the
// API still reads pending (the event raced ahead of it), Wait checks again
// after 250 ms, then 500 ms, and so on up to the interval.
func (s *ChallengeService) Wait(ctx context.Context, serviceSID, identity, challengeSID string, opts *WaitOptions) (*Challenge, error) {
	if ctx == nil {
		return nil, errors.New("verify: nil context; pass context.Background() or a request's context")
	}
	u, err := s.client.challengeURL(serviceSID, identity, challengeSID)
	if err != nil {
		return nil, err
	}
	interval := waitInterval(opts)
	var events <-chan *Event
	if src := eventSource(opts); src != nil {
		var stop func()
		events, stop = src.Subscribe(challengeSID)
		defer stop()
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	var (
		last     *Challenge
		offset   time.Duration // server clock minus ours, from the last Date header
		failures int
		recheck  time.Duration // after an event: the next pause while the API reads pending; 0 otherwise
	)
	for {
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("verify: waiting for challenge %s: %w", challengeSID, ctx.Err())
		case ev, ok := <-events:
			if !ok {
				events = nil // the source ended; poll on
				continue
			}
			if !answers(ev, challengeSID) {
				continue
			}
			recheck = min(eventRecheck, interval)
		case <-timer.C:
		}
		ch, serverOffset, err := s.fetchTimed(ctx, u)
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
			// Only a read like this one decides expiry: pending, taken past
			// the expiration date plus the grace on the server's clock.
			if !ch.ExpirationDate.IsZero() && time.Now().Add(offset).After(ch.ExpirationDate.Add(expiryGrace)) {
				return ch, fmt.Errorf("verify: challenge %s still pending after its expiration date: %w", challengeSID, ErrChallengeExpired)
			}
			if recheck > 0 {
				// An event said it was answered: look again soon.
				wait = recheck
				recheck = min(2*recheck, interval)
			}
		}
		if last != nil && !last.ExpirationDate.IsZero() {
			// One look just after the expiration date and one just past the
			// grace, on the server's clock. A failed Fetch decides nothing:
			// past both, Wait polls on at its error pace until a read works.
			left := last.ExpirationDate.Sub(time.Now().Add(offset))
			switch giveUp := left + expiryGrace; {
			case left > 0 && left < wait:
				wait = left + 10*time.Millisecond
			case left <= 0 && giveUp > 0 && giveUp < wait:
				wait = giveUp + 10*time.Millisecond
			}
		}
		timer.Reset(wait)
	}
}

// waitInterval is the pause between polls that opts ask for.
func waitInterval(opts *WaitOptions) time.Duration {
	switch {
	case opts != nil && opts.Interval > 0:
		return opts.Interval
	case eventSource(opts) != nil:
		return DefaultEventSafetyInterval
	}
	return DefaultWaitInterval
}

// eventSource is opts.Events, or nil when there is none: a nil interface,
// or one holding a nil pointer, func, map, chan or slice, whose Subscribe
// would most likely panic (a nil *EventHub does).
func eventSource(opts *WaitOptions) EventSource {
	if opts == nil || isNil(opts.Events) {
		return nil
	}
	return opts.Events
}

// isNil reports whether v is nil, or an interface holding a nil pointer,
// func, map, chan or slice.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

// answers reports whether ev says challengeSID was approved or denied.
func answers(ev *Event, challengeSID string) bool {
	return ev != nil && ev.ChallengeSID == challengeSID &&
		(ev.Type == EventChallengeApproved || ev.Type == EventChallengeDenied)
}

// fetchTimed is Fetch that also returns the server's clock offset from
// ours, read from the response's Date header (0 without one).
func (s *ChallengeService) fetchTimed(ctx context.Context, rawURL string) (*Challenge, time.Duration, error) {
	var ch Challenge
	st, err := s.client.send(ctx, http.MethodGet, rawURL, s.client.pathOf(rawURL), nil, &ch)
	if err != nil {
		return nil, 0, err
	}
	var offset time.Duration
	if d, err := http.ParseTime(st.header.Get("Date")); err == nil {
		offset = time.Until(d)
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
