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
// answered (the login's Wait or the webhook says so) or its challenge
// expires, whether or not the login that sent it still waits. Safe for
// concurrent use. How many pushes there are is limited by attempts
// (pushesPerAddress, pushesPerUserDaily).
type pushSlots struct {
	mu      sync.Mutex
	now     func() time.Time
	pending map[string]pendingPrompt // by identity
}

// pendingPrompt is a push on the user's phone.
type pendingPrompt struct {
	until        time.Time // when its challenge expires
	challengeSID string    // "" until it is created
}

// newPushSlots returns free slots on the clock now.
func newPushSlots(now func() time.Time) *pushSlots {
	return &pushSlots{now: now, pending: map[string]pendingPrompt{}}
}

// take reserves identity's slot until then, or reports false if a push
// is pending.
func (p *pushSlots) take(identity string, until time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now().Before(p.pending[identity].until) {
		return false
	}
	p.pending[identity] = pendingPrompt{until: until}
	return true
}

// sent names the challenge of identity's pending push.
func (p *pushSlots) sent(identity, challengeSID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pp, ok := p.pending[identity]; ok {
		pp.challengeSID = challengeSID
		p.pending[identity] = pp
	}
}

// answered frees identity's slot if its pending push is challengeSID.
func (p *pushSlots) answered(identity, challengeSID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if challengeSID != "" && p.pending[identity].challengeSID == challengeSID {
		delete(p.pending, identity)
	}
}

// release frees identity's slot, taken for a push that was never sent.
func (p *pushSlots) release(identity string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pending, identity)
}
