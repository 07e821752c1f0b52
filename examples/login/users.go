package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"

	verify "github.com/verifykit/verify-go"
)

// user is one account: how to check its password, and where its second
// factors live in Verify. The handlers take the identity and factor SIDs
// from here, never from a request.
type user struct {
	name       string
	identity   string // the Verify entity: an opaque id, not the name or an email
	pushFactor string // YF…, or "" when the user has no push factor
	totpFactor string // YF…, or "" when the user has no TOTP factor
	salt       []byte
	hash       [sha256.Size]byte
}

// users is an in-memory user store, safe for concurrent use. A user is
// never changed once added, so handlers may keep a *user.
type users struct {
	mu     sync.RWMutex
	byName map[string]*user
	nobody user // checked instead of an unknown name, so that it takes as long
}

func newUsers() *users {
	us := &users{byName: map[string]*user{}}
	us.nobody.salt = newSalt() // its zero hash matches no password
	return us
}

// add stores a user whose password is hashed with a fresh salt.
func (us *users) add(name, password, identity, pushFactor, totpFactor string) error {
	switch {
	case name == "" || password == "":
		return errors.New("a user needs a name and a password")
	case pushFactor == "" && totpFactor == "":
		return fmt.Errorf("user %s needs a push or a TOTP factor", name)
	}
	if err := verify.ValidateIdentity(identity); err != nil {
		return err
	}
	u := &user{name: name, identity: identity, pushFactor: pushFactor, totpFactor: totpFactor, salt: newSalt()}
	u.hash = hashPassword(u.salt, password)
	us.mu.Lock()
	defer us.mu.Unlock()
	us.byName[name] = u
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

// hashPassword is salted SHA-256 so that this example needs no dependency.
// A real application stores passwords with a slow, memory-hard hash such as
// argon2id or bcrypt (golang.org/x/crypto): SHA-256 is fast, so a stolen
// table of these hashes is cheap to guess through.
func hashPassword(salt []byte, password string) [sha256.Size]byte {
	return sha256.Sum256(append(append([]byte(nil), salt...), password...))
}

func newSalt() []byte {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // never fails: crypto/rand crashes the program instead
	return salt
}
