package main

import (
	"container/list"
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// Usernameless sign-in settings.
const (
	// passkeyLoginCookie names the cookie that ties a usernameless passkey
	// prompt to the browser that asked for it (with __Host- when Secure).
	passkeyLoginCookie = "passkey-login"
	// maxPasskeyLogins caps the usernameless prompts kept for all visitors
	// at once; past it the oldest is dropped, so that a flood from many
	// addresses cannot fill the memory (each address is limited too).
	maxPasskeyLogins = 10_000
)

// passkeyLogins keeps the challenges of usernameless passkey sign-ins, the
// ones given to a browser without a session, under a random id that the
// browser holds in a cookie, until it answers or they expire. Safe for
// concurrent use.
type passkeyLogins struct {
	mu     sync.Mutex
	byID   map[string]*passkeyLogin
	oldest list.List // of *passkeyLogin, in the order they were made
	now    func() time.Time
	secure bool // cookies only over HTTPS (and http://localhost); false only with -insecure-cookie
}

// passkeyLogin is one usernameless prompt.
type passkeyLogin struct {
	id           string
	challengeSID string // YC…
	expires      time.Time
	queued       *list.Element
}

// newPasskeyLogins returns an empty store on the clock now.
func newPasskeyLogins(now func() time.Time) *passkeyLogins {
	return &passkeyLogins{byID: map[string]*passkeyLogin{}, now: now, secure: true}
}

// add keeps challengeSID for ttl under a new id and sets the browser's
// cookie to it, replacing any prompt the browser had.
func (p *passkeyLogins) add(w http.ResponseWriter, challengeSID string, ttl time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for p.oldest.Len() > 0 {
		first := p.oldest.Front().Value.(*passkeyLogin)
		if now.Before(first.expires) && p.oldest.Len() < maxPasskeyLogins {
			break
		}
		p.remove(first)
	}
	l := &passkeyLogin{id: rand.Text(), challengeSID: challengeSID, expires: now.Add(ttl)}
	l.queued = p.oldest.PushBack(l)
	p.byID[l.id] = l
	http.SetCookie(w, newCookie(cookieName(passkeyLoginCookie, p.secure), l.id, int(ttl/time.Second), p.secure))
}

// take returns the challenge of the prompt r's cookie names, and forgets
// it and deletes the cookie, so that it is answered once; "" when the
// cookie names no live prompt.
func (p *passkeyLogins) take(w http.ResponseWriter, r *http.Request) string {
	name := cookieName(passkeyLoginCookie, p.secure)
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	http.SetCookie(w, newCookie(name, "", -1, p.secure))
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byID[c.Value]
	if l == nil {
		return ""
	}
	p.remove(l)
	if !p.now().Before(l.expires) {
		return ""
	}
	return l.challengeSID
}

// remove forgets l; the caller holds p.mu.
func (p *passkeyLogins) remove(l *passkeyLogin) {
	delete(p.byID, l.id)
	p.oldest.Remove(l.queued)
}

// count is the number of prompts kept, live or not yet removed.
func (p *passkeyLogins) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byID)
}
