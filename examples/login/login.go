package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	verify "github.com/verifykit/verify-go"
)

// loginPassword is the first step: a right username and password open a
// session that waits for the second factor. Each try counts against the
// client's address and the username (known or not, so that the answers do
// not tell which names exist) before the password is checked.
func (a *app) loginPassword(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("username")
	charges := []charge{{"password addr " + a.addrKey(r), passwordsPerAddress}, {"password user " + name, passwordsPerUser}}
	if wait, ok := a.attempts.try(charges...); !ok {
		tooMany(w, wait)
		return
	}
	u := a.users.check(name, r.PostFormValue("password"))
	if u == nil {
		http.Error(w, "wrong username or password", http.StatusUnauthorized)
		return
	}
	a.attempts.refund(charges...)
	a.sessions.start(w, u)
	if a.users.factors(u).none() {
		fmt.Fprintln(w, "password ok; now enroll a second factor: POST /enroll/totp or /enroll/push/token")
		return
	}
	fmt.Fprintln(w, "password ok; now POST /login/push or /login/totp")
}

// loginPush sends a push to the session user's phone and waits for the
// answer: with webhooks, Wait ends as soon as the answer's event arrives.
// Who and which factor come from the session, never the request. The
// challenge expires when the login stops waiting, and until then the
// user's push slot stays taken, even if the client hangs up. A push counts
// against the client's address and the user's day unless it is approved.
func (a *app) loginPush(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.sessions.lookup(r)
	if !ok {
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
		return
	}
	u, push := sess.user, a.users.factors(sess.user).push
	if push == "" {
		http.Error(w, "this account has no push factor; use /login/totp", http.StatusBadRequest)
		return
	}
	now := a.now()
	charges := []charge{{"push addr " + a.addrKey(r), pushesPerAddress},
		{"push user " + u.name + " " + now.UTC().Format(time.DateOnly), pushesPerUserDaily}}
	if wait, ok := a.attempts.try(charges...); !ok {
		tooMany(w, wait)
		return
	}
	if !a.pushes.take(u.identity, now.Add(a.pushTimeout)) {
		a.attempts.refund(charges...) // nothing sent
		http.Error(w, errPushPending, http.StatusTooManyRequests)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), a.pushTimeout)
	defer cancel()
	ch, err := a.verify.Challenges.Create(ctx, a.serviceSID, u.identity, &verify.CreateChallengeParams{
		FactorSID: push,
		// On Verify's clock, which is the wall clock (the SDK checks it
		// against time.Now), not the app's.
		ExpirationDate: time.Now().Add(a.pushTimeout),
		Details: &verify.Details{
			Message: "Log in to Example as " + u.name + "?",
			Fields:  []verify.Field{{Label: "IP", Value: a.clientIP(r)}},
		},
	})
	if err != nil && !errors.Is(err, verify.ErrOutcomeUnknown) { // refused: nothing on the phone
		a.pushes.release(u.identity)
		a.attempts.refund(charges...)
	}
	if err == nil {
		a.pushes.sent(u.identity, ch.SID)
		ch, err = a.verify.Challenges.Wait(ctx, a.serviceSID, u.identity, ch.SID, a.waitOptions)
	}
	if err == nil && ch.Status != verify.StatusPending {
		a.pushes.answered(u.identity, ch.SID) // or expired: nothing left on the phone
	}
	switch {
	case err != nil:
		a.fail(w, r, err)
	case ch.Status.IsApproved():
		a.attempts.refund(charges...)
		a.loggedIn(w, id)
	default:
		http.Error(w, "push "+string(ch.Status), http.StatusUnauthorized)
	}
}

// loginTOTP checks a code from the session user's authenticator app.
// Guessing a code takes the password, and then as many sessions and
// addresses as the guesser likes, so each code counts against the
// session, the client's address and the user, before Verify checks it:
// attempts made at once cannot outrun the count.
func (a *app) loginTOTP(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.sessions.lookup(r)
	if !ok {
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
		return
	}
	u, totp, code := sess.user, a.users.factors(sess.user).totp, r.PostFormValue("code")
	switch {
	case totp == "":
		http.Error(w, "this account has no TOTP factor; use /login/push", http.StatusBadRequest)
		return
	case code == "":
		http.Error(w, "enter the code from your authenticator app", http.StatusBadRequest)
		return
	case !isCode(code): // a typo, answered without counting
		http.Error(w, "that is not a valid code", http.StatusBadRequest)
		return
	}
	charges := []charge{{"code addr " + a.addrKey(r), codesPerAddress}, {"code user " + u.name, codesPerUser}}
	if wait, ok := a.attempts.try(charges...); !ok {
		tooMany(w, wait)
		return
	}
	if !a.sessions.tryCode(id) {
		a.attempts.refund(charges...) // not checked
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
		return
	}
	ch, err := a.verify.Challenges.Create(r.Context(), a.serviceSID, u.identity, &verify.CreateChallengeParams{
		FactorSID: totp, AuthPayload: verify.NewSecret(code),
	})
	switch {
	case err != nil:
		a.fail(w, r, err)
	case ch.Status.IsApproved():
		a.attempts.refund(charges...)
		a.loggedIn(w, id)
	case a.sessions.endAtWrongCodes(id):
		http.Error(w, "too many wrong codes; log in with your password again", http.StatusUnauthorized)
	default:
		http.Error(w, "wrong code", http.StatusUnauthorized)
	}
}

// isCode reports whether code can be a TOTP code: 3 to 8 digits.
func isCode(code string) bool {
	if len(code) < verify.MinTOTPCodeLength || len(code) > verify.MaxTOTPCodeLength {
		return false
	}
	return strings.Trim(code, "0123456789") == ""
}

// me is the page behind the login: only a fully logged-in session sees it.
func (a *app) me(w http.ResponseWriter, r *http.Request) {
	_, sess, ok := a.sessions.lookup(r)
	if !ok || !sess.loggedIn {
		http.Error(w, "not logged in", http.StatusUnauthorized)
		return
	}
	fmt.Fprintln(w, "logged in as", sess.user.name)
}

// loggedIn ends a login whose second factor passed.
func (a *app) loggedIn(w http.ResponseWriter, id string) {
	if !a.sessions.promote(w, id) {
		http.Error(w, "your session ended; log in with your password again", http.StatusUnauthorized)
		return
	}
	fmt.Fprintln(w, "welcome")
}

// fail maps SDK errors to HTTP answers a login page can show, and logs
// those the user cannot do anything about.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *verify.ValidationError
	switch {
	case errors.As(err, &ve) && ve.Field == "AuthPayload": // the only parameter a user types
		http.Error(w, "that is not a valid code", http.StatusBadRequest)
	case errors.Is(err, verify.ErrRateLimited):
		http.Error(w, "too many attempts, try again later", http.StatusTooManyRequests)
	case errors.Is(err, verify.ErrChallengeExpired), errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "second factor timed out", http.StatusUnauthorized)
	case errors.Is(err, verify.ErrNotFound), errors.Is(err, verify.ErrFactorNotVerified):
		http.Error(w, "no usable second factor", http.StatusUnauthorized)
	default:
		a.log.Printf("%s: %v", r.URL.Path, err) // err starts with "verify:" and never holds credentials or payloads
		http.Error(w, "second factor unavailable", http.StatusServiceUnavailable)
	}
}
