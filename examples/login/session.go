package main

import (
	"container/list"
	"crypto/rand"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Session settings.
const (
	// sessionCookie is the cookie's name: with the __Host- prefix a
	// browser takes it only when it is Secure, has Path=/ and no Domain, so
	// no other host (a subdomain) can set or shadow it.
	sessionCookie = "__Host-" + insecureSessionCookie
	// insecureSessionCookie is its name without Secure (-insecure-cookie),
	// which the prefix does not allow.
	insecureSessionCookie = "session"
	secondFactorTTL       = 5 * time.Minute // from the password to the second factor
	loggedInTTL           = 12 * time.Hour  // after the second factor
	maxWrongCodes         = 5               // then the session ends and the password is asked again
	maxSMSPerSession      = 3               // codes sent by SMS; then the password is asked again
	sessionsPerUser       = 10              // of each kind, waiting for the second factor and logged in; past it the oldest ends
)

// session is the server-side state behind a session cookie.
type session struct {
	id         string
	user       *user
	expires    time.Time
	loggedIn   bool // the second factor passed
	wrongCodes int
	// pushApproved: the phone approved a push this session waited on
	// through /login/push/stream; /login/push/finish then logs it in.
	pushApproved bool
	smsSends     int         // codes sent by SMS, or about to be
	smsCharges   []charge    // the limits the codes sent counted against, given back if the login succeeds
	totp         pendingTOTP // a TOTP factor being enrolled; zero when none
	// passkeyLogin is the passkey challenge (YC…) the session's user was
	// given to sign, after the password; zero when none.
	passkeyLogin ceremony
	// passkeyFactor is the passkey factor (YF…) being registered; zero when none.
	passkeyFactor ceremony
	push          pendingPush   // the access token given to the session's app; zero when none
	queued        *list.Element // its place in sessions.expiring
}

// pendingTOTP is a TOTP factor created for the session's user and not yet
// verified. Its otpauth:// URI holds the secret and the API returns it only
// once, so it stays here, server-side, until the factor is verified.
type pendingTOTP struct {
	factorSID string // YF…
	uri       string // otpauth://totp/…?secret=…
}

// pendingPush is the access token given to the session's app. The push
// factor it enrolls was created in Verify from since, when Verify created
// the token, to since+ttl, when the token expired.
type pendingPush struct {
	since time.Time
	ttl   time.Duration
}

// sessions keeps sessions in memory by their random id, safe for
// concurrent use. Each user has at most sessionsPerUser of each kind
// (waiting for the second factor, logged in): a new one ends the user's
// oldest of its kind, so that someone with the password can end the
// user's half-done logins but never a logged-in session, and cannot fill
// the memory. Sessions of a kind share a TTL, so a queue per kind holds
// them in the order they expire, and each new session first removes the
// expired ones at the front: no scan of the whole store. A real
// application keeps them in a shared store with expiry (a database,
// Redis) so that they survive restarts.
type sessions struct {
	mu       sync.Mutex
	byID     map[string]*session
	byUser   map[userKind][]*session // oldest first
	expiring [2]list.List            // of *session, soonest first; [0] waiting for the second factor, [1] logged in
	now      func() time.Time
	secure   bool // cookies only over HTTPS (and http://localhost); false only with -insecure-cookie
}

// userKind is a user's sessions of one kind.
type userKind struct {
	user     *user
	loggedIn bool
}

// newSessions returns an empty store that reads the time from now.
func newSessions(now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, byUser: map[userKind][]*session{}, now: now, secure: true}
}

// start opens a session for u after its password checked out, waiting for
// the second factor, and sets its cookie.
func (s *sessions) start(w http.ResponseWriter, u *user) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open(w, &session{user: u, expires: s.now().Add(secondFactorTTL)})
}

// startLoggedIn opens a logged-in session for u, who signed in with a
// passkey alone, and sets its cookie.
func (s *sessions) startLoggedIn(w http.ResponseWriter, u *user) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open(w, &session{user: u, expires: s.now().Add(loggedInTTL), loggedIn: true})
}

// lookup returns a copy of the session named by r's cookie, with its id;
// ok is false when there is no cookie or the session is unknown or expired.
func (s *sessions) lookup(r *http.Request) (id string, sess session, ok bool) {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return "", session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.live(c.Value)
	if p == nil {
		return "", session{}, false
	}
	return c.Value, *p, true
}

// promote marks the session logged in after its second factor, under a
// new id so that an id seen before the login is worth nothing after it.
// It reports false if the session ended meanwhile.
func (s *sessions) promote(w http.ResponseWriter, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.live(id)
	if p == nil {
		return false
	}
	s.remove(p)
	s.open(w, &session{user: p.user, expires: s.now().Add(loggedInTTL), loggedIn: true})
	return true
}

// update applies change to the session stored under id and reports
// true, or reports false if the session ended meanwhile.
func (s *sessions) update(id string, change func(*session)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.live(id)
	if sess == nil {
		return false
	}
	change(sess)
	return true
}

// live returns the session stored under id unless it is unknown or
// expired; the caller holds s.mu.
func (s *sessions) live(id string) *session {
	p := s.byID[id]
	if p == nil || !s.now().Before(p.expires) {
		return nil
	}
	return p
}

// tryCode counts a code about to be checked in the session as a wrong
// one, before it is checked, and reports true; past maxWrongCodes it
// counts nothing and reports false. A right code ends the session anyway
// (promote), so nothing is given back.
func (s *sessions) tryCode(id string) bool {
	return s.tryOne(id, func(p *session) *int { return &p.wrongCodes }, maxWrongCodes)
}

// trySMS counts a code about to be sent by SMS in the session and reports
// true; past maxSMSPerSession it counts nothing and reports false.
func (s *sessions) trySMS(id string) bool {
	return s.tryOne(id, func(p *session) *int { return &p.smsSends }, maxSMSPerSession)
}

// tryOne adds one to the count of the live session id that count points
// at and reports true, unless the count is at most already (or the session
// ended): then it reports false.
func (s *sessions) tryOne(id string, count func(*session) *int, most int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.live(id)
	if p == nil || *count(p) >= most {
		return false
	}
	*count(p)++
	return true
}

// takePasskeyLogin returns the passkey challenge the live session id was
// given, if signed is its challenge, and forgets it, so that one answer at
// most is checked against it. Every answer counts as a wrong code
// (tryCode), before it is checked: a right one ends the session anyway.
// errNoPrompt: none was given, or the session used up its maxWrongCodes;
// errOtherPrompt: signed is another challenge, and the session's stays.
func (s *sessions) takePasskeyLogin(id, signed string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.live(id)
	if p == nil || p.passkeyLogin.sid == "" || p.wrongCodes >= maxWrongCodes {
		return "", errNoPrompt
	}
	p.wrongCodes++
	return p.passkeyLogin.take(signed)
}

// takePasskeyFactor returns the passkey factor the live session id is
// registering, if signed is its creation challenge, and forgets it, so
// that one answer at most is checked against it. errNoPrompt: none is
// pending; errOtherPrompt: signed is another challenge (an earlier "Add a
// passkey"), and the pending one stays.
func (s *sessions) takePasskeyFactor(id, signed string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.live(id)
	if p == nil || p.passkeyFactor.sid == "" {
		return "", errNoPrompt
	}
	return p.passkeyFactor.take(signed)
}

// endAtWrongCodes ends the session if it has used up its maxWrongCodes
// codes, and reports whether it did (or the session had ended already).
func (s *sessions) endAtWrongCodes(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byID[id]
	if p == nil {
		return true
	}
	if p.wrongCodes >= maxWrongCodes {
		s.remove(p)
		return true
	}
	return false
}

// end deletes the session named by r's cookie, if any, and deletes the
// cookie.
func (s *sessions) end(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.mu.Lock()
		if p := s.byID[c.Value]; p != nil {
			s.remove(p)
		}
		s.mu.Unlock()
	}
	http.SetCookie(w, s.cookie("", -1))
}

// open removes the expired sessions, and the user's oldest of sess's kind
// if it has sessionsPerUser, then stores sess under a new random id and
// sets its cookie; the caller holds s.mu.
func (s *sessions) open(w http.ResponseWriter, sess *session) {
	now := s.now()
	for i := range s.expiring {
		q := &s.expiring[i]
		for q.Len() > 0 && !now.Before(q.Front().Value.(*session).expires) {
			s.remove(q.Front().Value.(*session))
		}
	}
	kind := userKind{sess.user, sess.loggedIn}
	if mine := s.byUser[kind]; len(mine) >= sessionsPerUser {
		s.remove(mine[0])
	}
	sess.id = rand.Text() // 128 random bits
	s.byID[sess.id] = sess
	s.byUser[kind] = append(s.byUser[kind], sess)
	sess.queued = s.expiring[kindIndex(sess.loggedIn)].PushBack(sess)
	c := s.cookie(sess.id, 0)
	c.Expires = sess.expires
	http.SetCookie(w, c)
}

// remove forgets sess; the caller holds s.mu.
func (s *sessions) remove(sess *session) {
	delete(s.byID, sess.id)
	s.expiring[kindIndex(sess.loggedIn)].Remove(sess.queued)
	kind := userKind{sess.user, sess.loggedIn}
	if mine := slices.DeleteFunc(s.byUser[kind], func(o *session) bool { return o == sess }); len(mine) > 0 {
		s.byUser[kind] = mine
	} else {
		delete(s.byUser, kind)
	}
}

// kindIndex is the index in sessions.expiring of a session that is
// loggedIn or not.
func kindIndex(loggedIn bool) int {
	if loggedIn {
		return 1
	}
	return 0
}

// cookie is the session cookie holding id; maxAge -1 deletes it.
func (s *sessions) cookie(id string, maxAge int) *http.Cookie {
	return newCookie(s.cookieName(), id, maxAge, s.secure)
}

// cookieName is the session cookie's name: __Host- only when Secure.
func (s *sessions) cookieName() string { return cookieName(insecureSessionCookie, s.secure) }

// newCookie is a cookie of this server: for every path, hidden from
// scripts, never sent cross-site, and Secure unless -insecure-cookie.
func newCookie(name, value string, maxAge int, secure bool) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	}
}

// cookieName is the cookie named name, with the __Host- prefix when it is
// Secure (the prefix is not allowed without).
func cookieName(name string, secure bool) string {
	if secure {
		return "__Host-" + name
	}
	return name
}

// count is the number of sessions stored, live or not yet removed.
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}
