package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// A limit says how many attempts a key (a user, a client address) may
// make at once, and how long it waits after them: after the free-th
// counted attempt the next one waits first, after the one after it twice
// as long, and so on up to most, which is then the lock-out: one attempt
// per most. The README's security notes explain the numbers.
type limit struct {
	free  int
	first time.Duration
	most  time.Duration
}

// The limits, per client address and per user. An address is slowed
// sooner and for longer than a user, so that one address cannot hold the
// user up much: the user's own limit is for guessing spread over many
// addresses. Pushes and codes sent by SMS count per address (all users)
// and per user and UTC day; a push the user approves, and the SMS of a
// login the user completes with their code, are given back. Codes checked
// count the same whether they came from an authenticator app or by SMS.
var (
	passwordsPerAddress = limit{free: 10, first: time.Second, most: 15 * time.Minute}
	passwordsPerUser    = limit{free: 20, first: time.Second, most: time.Minute}
	codesPerAddress     = limit{free: 5, first: time.Second, most: time.Hour}
	codesPerUser        = limit{free: 10, first: time.Second, most: time.Hour}
	pushesPerAddress    = limit{free: 3, first: time.Minute, most: 6 * time.Hour}
	pushesPerUserDaily  = limit{free: 30, first: 24 * time.Hour, most: 24 * time.Hour}
	smsPerAddress       = limit{free: 3, first: time.Minute, most: 6 * time.Hour}
	smsPerUserDaily     = limit{free: 10, first: 24 * time.Hour, most: 24 * time.Hour}
	// Passkey prompts (each a challenge made in Verify) count per address,
	// and after the password per user too, until a sign-in succeeds;
	// passkey registrations count per user until one succeeds.
	passkeysPerAddress    = limit{free: 10, first: time.Second, most: 15 * time.Minute}
	passkeysPerUser       = limit{free: 20, first: time.Second, most: time.Hour}
	passkeyEnrollsPerUser = limit{free: 10, first: time.Second, most: time.Hour}
)

// wait is how long after the n-th counted attempt the key waits.
func (l limit) wait(n int) time.Duration {
	if n < l.free {
		return 0
	}
	d := l.first
	for i := l.free; i < n && d < l.most; i++ {
		d *= 2
	}
	return min(d, l.most)
}

// forgetAfter is how long after its last attempt a key starts over.
const forgetAfter = 24 * time.Hour

// attempts counts attempts by key and refuses those that come before the
// key's wait is over. An attempt is counted as failed when it is let
// through, before it is checked, so that attempts made at once cannot
// outrun the count; one that turns out right is given back (refund).
// Safe for concurrent use.
type attempts struct {
	mu    sync.Mutex
	now   func() time.Time
	keys  map[string]*tally
	swept time.Time // when forgotten keys were last removed
}

// tally is one key's count.
type tally struct {
	n    int       // attempts counted: failed, or not checked yet
	next time.Time // no attempt before
	last time.Time // the last attempt counted
}

// charge is a key an attempt counts against, with its limit.
type charge struct {
	key   string
	limit limit
}

// newAttempts returns an empty count on the clock now.
func newAttempts(now func() time.Time) *attempts {
	return &attempts{now: now, keys: map[string]*tally{}}
}

// try counts an attempt against every charge; or, if any of their keys
// must still wait, counts nothing, reports false and returns the longest
// wait.
func (a *attempts) try(charges ...charge) (wait time.Duration, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.sweep(now)
	for _, c := range charges {
		if t := a.keys[c.key]; t != nil {
			wait = max(wait, t.next.Sub(now))
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, c := range charges {
		t := a.keys[c.key]
		if t == nil {
			t = &tally{}
			a.keys[c.key] = t
		}
		t.n++
		t.last, t.next = now, now.Add(c.limit.wait(t.n))
	}
	return 0, true
}

// refund gives back an attempt that try counted and that turned out
// right: it no longer counts, and a key back under its free attempts
// waits no more.
func (a *attempts) refund(charges ...charge) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range charges {
		if t := a.keys[c.key]; t != nil && t.n > 0 {
			t.n--
			if t.n < c.limit.free {
				t.next = time.Time{}
			}
		}
	}
}

// sweep removes, once a minute, the keys whose last attempt is
// forgetAfter old; the caller holds a.mu.
func (a *attempts) sweep(now time.Time) {
	if now.Sub(a.swept) < time.Minute {
		return
	}
	a.swept = now
	for k, t := range a.keys {
		if now.Sub(t.last) >= forgetAfter {
			delete(a.keys, k)
		}
	}
}

// tooMany answers a request refused for wait, with Retry-After.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	refuseFor(w, wait, http.StatusTooManyRequests, "too many attempts; try again in %s")
}

// refuseFor answers a request refused for wait with status, Retry-After
// in whole seconds, and format, whose %s is that wait.
func refuseFor(w http.ResponseWriter, wait time.Duration, status int, format string) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	http.Error(w, fmt.Sprintf(format, time.Duration(secs)*time.Second), status)
}
