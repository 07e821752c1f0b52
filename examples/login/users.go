package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	verify "github.com/verifykit/verify-go"
)

// user is one account: how to check its password, and where its second
// factors live in Verify. The handlers take the identity and factor SIDs
// from here, never from a request. name, identity, salt and hash never
// change once the user is added, so handlers may keep a *user and read
// them freely; the factors and firstTokenUntil change as the user
// enrolls, under users.mu, so read them only through users' methods.
type user struct {
	name     string
	identity string // the Verify entity: an opaque id, not the name or an email
	salt     []byte
	hash     [sha256.Size]byte

	factors factors // guarded by users.mu
	// firstTokenUntil is when the last access token given to a session past
	// the password alone is surely expired; guarded by users.mu.
	firstTokenUntil time.Time
}

// factors are a user's second factors: in Verify, one push and one TOTP
// factor at most and up to maxPasskeys passkeys, and the phone number on
// record that SMS codes go to.
type factors struct {
	push     string   // YF…, or "" when the user has no push factor
	totp     string   // YF…, or "" when the user has no TOTP factor
	phone    string   // E.164, such as +15017122661, or "" when none is on record; never changed here
	passkeys []string // YF… of each verified passkey, oldest first
}

// maxPasskeys is how many passkeys a user may register here.
const maxPasskeys = 10

// none reports whether the user has no second factor yet.
func (f factors) none() bool {
	return f.push == "" && f.totp == "" && f.phone == "" && len(f.passkeys) == 0
}

// hasPasskey reports whether factorSID is one of the user's passkeys.
func (f factors) hasPasskey(factorSID string) bool { return slices.Contains(f.passkeys, factorSID) }

// logins are the endpoints that log in with the factors the user has.
func (f factors) logins() []string {
	var out []string
	var passkey string
	if len(f.passkeys) > 0 {
		passkey = f.passkeys[0]
	}
	for _, l := range []struct{ has, path string }{{f.push, "/login/push"}, {f.totp, "/login/totp"}, {f.phone, "/login/sms"}, {passkey, "/login/passkey/options"}} {
		if l.has != "" {
			out = append(out, l.path)
		}
	}
	return out
}

// mayAdd is the enrollment rule: a session past the password alone may
// enroll the user's first factor, but adding one to a user who already
// has a factor takes a full login, or a stolen password would be enough
// to add the thief's authenticator.
func (f factors) mayAdd(loggedIn bool) bool { return loggedIn || f.none() }

// users is an in-memory user store, safe for concurrent use.
type users struct {
	mu         sync.RWMutex
	byName     map[string]*user
	identities map[string]*user // by identity, which is unique
	nobody     user             // checked instead of an unknown name, so that it takes as long
}

// newUsers returns an empty store.
func newUsers() *users {
	us := &users{byName: map[string]*user{}, identities: map[string]*user{}}
	us.nobody.salt = newSalt() // its zero hash matches no password
	return us
}

// add stores a user whose password is hashed with a fresh salt, with the
// factors it already has: any of a push factor, a TOTP factor and a phone
// number. Names and identities are unique.
func (us *users) add(name, password, identity string, f factors) error {
	if name == "" || password == "" {
		return errors.New("a user needs a name and a password")
	}
	if err := verify.ValidateIdentity(identity); err != nil {
		return err
	}
	if f.phone != "" {
		if err := (&verify.CreateVerificationParams{To: f.phone, Channel: verify.ChannelSMS}).Validate(); err != nil {
			return fmt.Errorf("the phone number: %w", err)
		}
	}
	u := &user{name: name, identity: identity, factors: f, salt: newSalt()}
	u.hash = hashPassword(u.salt, password)
	us.mu.Lock()
	defer us.mu.Unlock()
	switch {
	case us.byName[name] != nil:
		return fmt.Errorf("user %s exists already", name)
	case us.identities[identity] != nil:
		return fmt.Errorf("identity %s belongs to another user", identity)
	}
	us.byName[name] = u
	us.identities[identity] = u
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
	f := u.factors
	f.passkeys = slices.Clone(f.passkeys)
	return f
}

// byIdentity returns the user whose Verify identity this is, or nil.
func (us *users) byIdentity(identity string) *user {
	us.mu.RLock()
	defer us.mu.RUnlock()
	return us.identities[identity]
}

// addPasskey records a verified passkey for u if the enrollment rule
// (factors.mayAdd) still allows it and u has fewer than maxPasskeys; it
// reports which refused it, or "" when it is recorded.
func (us *users) addPasskey(u *user, factorSID string, loggedIn bool) string {
	us.mu.Lock()
	defer us.mu.Unlock()
	switch {
	case !u.factors.mayAdd(loggedIn):
		return notYourFirstFactor
	case len(u.factors.passkeys) >= maxPasskeys:
		return errTooManyPasskeys
	}
	if !u.factors.hasPasskey(factorSID) {
		u.factors.passkeys = append(u.factors.passkeys, factorSID)
	}
	return ""
}

// setFactor records a verified factor of kind (push or TOTP) for u,
// replacing any other of that kind, if the enrollment rule
// (factors.mayAdd) still allows it: another session may have enrolled a
// first factor meanwhile.
func (us *users) setFactor(u *user, kind verify.FactorType, factorSID string, loggedIn bool) bool {
	us.mu.Lock()
	defer us.mu.Unlock()
	if !u.factors.mayAdd(loggedIn) {
		return false
	}
	if kind == verify.FactorTypePush {
		u.factors.push = factorSID
	} else {
		u.factors.totp = factorSID
	}
	return true
}

// expectPush records that a session of u, logged in or past the password
// alone, hands its app an access token, if the enrollment rule
// (factors.mayAdd) allows it; a token given past the password alone is
// surely expired at until.
func (us *users) expectPush(u *user, loggedIn bool, until time.Time) bool {
	us.mu.Lock()
	defer us.mu.Unlock()
	if !u.factors.mayAdd(loggedIn) {
		return false
	}
	if !loggedIn {
		u.firstTokenUntil = until
	}
	return true
}

// firstTokenWait is how long from now an access token given to a session
// of u past the password alone may still be live.
func (us *users) firstTokenWait(u *user, now time.Time) time.Duration {
	us.mu.RLock()
	defer us.mu.RUnlock()
	return max(u.firstTokenUntil.Sub(now), 0)
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
