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
	// at once, so that a flood from many addresses cannot fill the memory
	// (each address is limited too).
	maxPasskeyLogins = 10_000
	// minPasskeyLoginKeep is how long a prompt is kept at least, whatever
	// comes after it: time for its visitor to touch the passkey. Past the
	// cap the oldest prompt makes room once it is this old; until then
	// new prompts are refused, so that a flood cannot push out a sign-in
	// under way.
	minPasskeyLoginKeep = time.Minute
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
	max    int  // prompts kept at most: maxPasskeyLogins, or fewer in tests
	secure bool // cookies only over HTTPS (and http://localhost); false only with -insecure-cookie
}

// passkeyLogin is one usernameless prompt.
type passkeyLogin struct {
	id        string
	challenge ceremony // zero while Verify makes it
	made      time.Time
	expires   time.Time
	queued    *list.Element
}

// newPasskeyLogins returns an empty store on the clock now.
func newPasskeyLogins(now func() time.Time) *passkeyLogins {
	return &passkeyLogins{byID: map[string]*passkeyLogin{}, now: now, max: maxPasskeyLogins, secure: true}
}

// reserve makes room for a new prompt before its challenge is made in
// Verify, and returns it, for fill once the challenge is made or drop if
// it is not: expired prompts go, and past the cap the oldest, if it is
// minPasskeyLoginKeep old. When every prompt kept is younger, it returns
// nil and how long until the oldest is that old.
func (p *passkeyLogins) reserve() (*passkeyLogin, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for p.oldest.Len() > 0 {
		first := p.oldest.Front().Value.(*passkeyLogin)
		if now.Before(first.expires) && p.oldest.Len() < p.max {
			break
		}
		if now.Before(first.expires) && now.Sub(first.made) < minPasskeyLoginKeep {
			return nil, first.made.Add(minPasskeyLoginKeep).Sub(now)
		}
		p.remove(first)
	}
	l := &passkeyLogin{id: rand.Text(), made: now, expires: now.Add(maxPasskeyWait)}
	l.queued = p.oldest.PushBack(l)
	p.byID[l.id] = l
	return l, 0
}

// fill keeps the challenge c in the reserved prompt l for ttl and sets the
// browser's cookie to it, replacing any prompt the browser had.
func (p *passkeyLogins) fill(w http.ResponseWriter, l *passkeyLogin, c ceremony, ttl time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l.challenge, l.expires = c, p.now().Add(ttl)
	http.SetCookie(w, newCookie(cookieName(passkeyLoginCookie, p.secure), l.id, int(ttl/time.Second), p.secure))
}

// drop forgets the reserved prompt l, whose challenge was not made.
func (p *passkeyLogins) drop(l *passkeyLogin) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID[l.id] == l {
		p.remove(l)
	}
}

// take returns the challenge SID of the prompt r's cookie names, if signed
// is its challenge, and forgets it and deletes the cookie, so that it is
// answered once. errNoPrompt: no cookie; errPromptGone: the cookie names
// no live prompt; errOtherPrompt: signed is another challenge, and the
// prompt stays for its own answer.
func (p *passkeyLogins) take(w http.ResponseWriter, r *http.Request, signed string) (string, error) {
	name := cookieName(passkeyLoginCookie, p.secure)
	c, err := r.Cookie(name)
	if err != nil {
		return "", errNoPrompt
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.byID[c.Value]
	if l == nil || l.challenge.sid == "" || !p.now().Before(l.expires) {
		if l != nil && l.challenge.sid != "" {
			p.remove(l)
		}
		http.SetCookie(w, newCookie(name, "", -1, p.secure))
		return "", errPromptGone
	}
	sid, err := l.challenge.take(signed)
	if err != nil {
		return "", err
	}
	p.remove(l)
	http.SetCookie(w, newCookie(name, "", -1, p.secure))
	return sid, nil
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
