package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	verify "github.com/verifykit/verify-go"
)

// user is one account: how to check its password, and where its second
// factors live in Verify. The handlers take the identity and factor SIDs
// from here, never from a request. name, identity, salt and hash never
// change once the user is added, so handlers may keep a *user and read
// them freely; the factors and the pending push enrollment change as the
// user enrolls, under users.mu, so read them only through users' methods.
type user struct {
	name     string
	identity string // the Verify entity: an opaque id, not the name or an email
	salt     []byte
	hash     [sha256.Size]byte

	factors    factors        // guarded by users.mu
	pushEnroll pushEnrollment // guarded by users.mu; zero when none is pending
}

// factors are a user's second factors in Verify, one of each kind at most.
type factors struct {
	push string // YF…, or "" when the user has no push factor
	totp string // YF…, or "" when the user has no TOTP factor
}

// none reports whether the user has no second factor yet.
func (f factors) none() bool { return f.push == "" && f.totp == "" }

// mayAdd is the enrollment rule: a session past the password alone may
// enroll the user's first factor, but adding one to a user who already
// has a factor takes a full login, or a stolen password would be enough
// to add the thief's authenticator.
func (f factors) mayAdd(loggedIn bool) bool { return loggedIn || f.none() }

// pushEnrollment is an access token handed to the user's app, waiting for
// the push factor it enrolls.
type pushEnrollment struct {
	since     time.Time // when the API created the token: the factor is no older
	until     time.Time // on the app's clock; later, the token's factor is not taken
	firstOnly bool      // granted to a session past the password alone: void once the user has a factor
}

// users is an in-memory user store, safe for concurrent use.
type users struct {
	mu         sync.RWMutex
	byName     map[string]*user
	byIdentity map[string]*user // webhook events name the identity
	nobody     user             // checked instead of an unknown name, so that it takes as long
}

// newUsers returns an empty store.
func newUsers() *users {
	us := &users{byName: map[string]*user{}, byIdentity: map[string]*user{}}
	us.nobody.salt = newSalt() // its zero hash matches no password
	return us
}

// add stores a user whose password is hashed with a fresh salt, with the
// factors it already has: none, one or both. Names and identities are
// unique.
func (us *users) add(name, password, identity, pushFactor, totpFactor string) error {
	if name == "" || password == "" {
		return errors.New("a user needs a name and a password")
	}
	if err := verify.ValidateIdentity(identity); err != nil {
		return err
	}
	u := &user{name: name, identity: identity, factors: factors{push: pushFactor, totp: totpFactor}, salt: newSalt()}
	u.hash = hashPassword(u.salt, password)
	us.mu.Lock()
	defer us.mu.Unlock()
	switch {
	case us.byName[name] != nil:
		return fmt.Errorf("user %s exists already", name)
	case us.byIdentity[identity] != nil:
		return fmt.Errorf("identity %s belongs to another user", identity)
	}
	us.byName[name] = u
	us.byIdentity[identity] = u
	return nil
}

// check returns the user with this name and password, or nil. Unknown
// names and wrong passwords cost the same time and get the same answer.
func (us *users) check(name, password string) *user {
	us.mu.RLock()
	u := us.byName[name]
	us.mu.RUnlock()
	stored := u
	if stored == nil {
		stored = &us.nobody
	}
	got := hashPassword(stored.salt, password)
	if subtle.ConstantTimeCompare(got[:], stored.hash[:]) != 1 || u == nil {
		return nil
	}
	return u
}

// factors returns u's factors as they are now.
func (us *users) factors(u *user) factors {
	us.mu.RLock()
	defer us.mu.RUnlock()
	return u.factors
}

// setTOTP records a verified TOTP factor for u, replacing any other, if
// the enrollment rule (factors.mayAdd) still allows it: another session
// may have enrolled a first factor meanwhile.
func (us *users) setTOTP(u *user, factorSID string, loggedIn bool) bool {
	us.mu.Lock()
	defer us.mu.Unlock()
	if !u.factors.mayAdd(loggedIn) {
		return false
	}
	u.factors.totp = factorSID
	return true
}

// expectPush records that u's app got an access token, replacing an
// earlier one, if the enrollment rule allows it: only then does the push
// factor the token enrolls count (recordPush).
func (us *users) expectPush(u *user, since, until time.Time, loggedIn bool) bool {
	us.mu.Lock()
	defer us.mu.Unlock()
	if !u.factors.mayAdd(loggedIn) {
		return false
	}
	u.pushEnroll = pushEnrollment{since: since, until: until, firstOnly: !loggedIn}
	return true
}

// pendingPush reports whether u has an access token out at now, and when
// the API created it.
func (us *users) pendingPush(u *user, now time.Time) (since time.Time, ok bool) {
	us.mu.RLock()
	defer us.mu.RUnlock()
	p := u.pushEnroll
	return p.since, now.Before(p.until)
}

// expectsPush reports whether the user with this identity has an access
// token out at now: whether recordPush may record a factor for them.
func (us *users) expectsPush(identity string, now time.Time) bool {
	us.mu.RLock()
	defer us.mu.RUnlock()
	u := us.byIdentity[identity]
	return u != nil && now.Before(u.pushEnroll.until)
}

// recordPush makes factorSID the push factor of the user with this
// identity, replacing any other, and ends their pending enrollment. It
// does nothing, and reports false, unless that user has an access token
// out (expectPush) that the rule still honours: a verified push factor
// nobody asked for attaches to no one.
func (us *users) recordPush(identity, factorSID string, now time.Time) bool {
	us.mu.Lock()
	defer us.mu.Unlock()
	u := us.byIdentity[identity]
	if u == nil || !now.Before(u.pushEnroll.until) {
		return false
	}
	p := u.pushEnroll
	u.pushEnroll = pushEnrollment{}
	if p.firstOnly && !u.factors.none() {
		return false
	}
	u.factors.push = factorSID
	return true
}

// hashPassword is salted SHA-256 so that this example needs no dependency.
// A real application stores passwords with a slow, memory-hard hash such as
// argon2id or bcrypt (golang.org/x/crypto): SHA-256 is fast, so a stolen
// table of these hashes is cheap to guess through.
func hashPassword(salt []byte, password string) [sha256.Size]byte {
	return sha256.Sum256(append(append([]byte(nil), salt...), password...))
}

// newSalt returns 16 random bytes.
func newSalt() []byte {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // never fails: crypto/rand crashes the program instead
	return salt
}
