package main

import (
	"sync"
	"time"
)

// errPushPending's text is shown to a user whose phone already shows a
// prompt.
const errPushPending = "a push is already waiting on your phone"

// pushSlots guards users against push fatigue, where someone who has the
// password sends prompt after prompt until the user taps approve to make
// them stop: a user has one push at a time, from its sending until it is
// answered or its challenge expires, whether or not the login that sent it
// still waits. Safe for concurrent use. How many pushes there are is
// limited by attempts (pushesPerAddress, pushesPerUserDaily).
type pushSlots struct {
	mu    sync.Mutex
	now   func() time.Time
	until map[string]time.Time // by user name: when the pending push expires
}

// newPushSlots returns free slots on the clock now.
func newPushSlots(now func() time.Time) *pushSlots {
	return &pushSlots{now: now, until: map[string]time.Time{}}
}

// take reserves the user's slot until then, or reports false if a push is
// pending.
func (p *pushSlots) take(name string, until time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now().Before(p.until[name]) {
		return false
	}
	p.until[name] = until
	return true
}

// free gives the slot back once the push was answered.
func (p *pushSlots) free(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.until, name)
}
