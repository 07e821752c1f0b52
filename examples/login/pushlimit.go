package main

import (
	"errors"
	"sync"
	"time"
)

// Why a push is refused; the text is shown to the user.
var (
	errPushPending   = errors.New("a push is already waiting on your phone")
	errTooManyPushes = errors.New("too many pushes, try again in a minute")
)

// pushLimits guards users against push fatigue, where an attacker who has
// the password sends prompt after prompt until the user taps approve to
// make them stop: one push per user at a time, and at most perMinute in
// any minute. Safe for concurrent use.
type pushLimits struct {
	mu        sync.Mutex
	perMinute int
	now       func() time.Time
	pending   map[string]bool        // by user name
	recent    map[string][]time.Time // by user name: when pushes began
}

// newPushLimits allows perMinute pushes per user in any minute, on the
// clock now.
func newPushLimits(perMinute int, now func() time.Time) *pushLimits {
	return &pushLimits{perMinute: perMinute, now: now, pending: map[string]bool{}, recent: map[string][]time.Time{}}
}

// begin reserves a push for the user, or returns errPushPending or
// errTooManyPushes and reserves nothing. Call end when the push is over.
func (l *pushLimits) begin(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending[name] {
		return errPushPending
	}
	now := l.now()
	recent := l.recent[name][:0]
	for _, t := range l.recent[name] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= l.perMinute {
		l.recent[name] = recent
		return errTooManyPushes
	}
	l.recent[name] = append(recent, now)
	l.pending[name] = true
	return nil
}

// end releases the user's pending push.
func (l *pushLimits) end(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, name)
}
