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
	f := a.users.factors(u)
	if f.none() {
		fmt.Fprintln(w, "password ok; now enroll a second factor: POST /enroll/totp or /enroll/push/token")
		return
	}
	fmt.Fprintln(w, "password ok; now POST "+strings.Join(f.logins(), " or "))
}

// loginPush sends a push to the session user's phone and waits for the
// answer: with webhooks, Wait ends as soon as the answer's event arrives.
// Who and which factor come from the session, never the request. The
// challenge expires when the login stops waiting, and until then the
// user's push slot stays taken, even if the client hangs up. A push counts
// against the client's address and the user's day unless it is approved.
// It answers once, with the outcome; /login/push/stream is the same push
// for a web page, which shows what happens while it happens.
func (a *app) loginPush(w http.ResponseWriter, r *http.Request) {
	a.push(w, r, plainPush{a})
}

// pushOutcome is what push tells of a push it sent, to its caller.
type pushOutcome interface {
	// sent: the prompt is on the phone, and the login waits until ch expires.
	sent(w http.ResponseWriter, ch *verify.Challenge)
	// approved: the phone approved the push of session id.
	approved(w http.ResponseWriter, id string)
	// answered: the push ended unapproved, with status (denied, expired).
	answered(w http.ResponseWriter, status verify.ChallengeStatus)
	// failed: the push could not be sent, or its answer not read.
	failed(w http.ResponseWriter, r *http.Request, err error)
}

// push is loginPush and loginPushStream: it counts and sends the push,
// waits for the answer and tells out of it. A request it refuses before
// anything is sent (no session, no push factor, too many pushes, one
// pending) it answers itself.
func (a *app) push(w http.ResponseWriter, r *http.Request, out pushOutcome) {
	id, sess, push, ok := a.factorSession(w, r, func(f factors) string { return f.push }, "this account has no push factor; use /login/totp")
	if !ok {
		return
	}
	u, now := sess.user, a.now()
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
		out.sent(w, ch)
		ch, err = a.verify.Challenges.Wait(ctx, a.serviceSID, u.identity, ch.SID, a.waitOptions)
	}
	if err == nil && ch.Status != verify.StatusPending {
		a.pushes.answered(u.identity, ch.SID) // or expired: nothing left on the phone
	}
	switch {
	case err != nil:
		out.failed(w, r, err)
	case ch.Status.IsApproved():
		a.attempts.refund(charges...)
		out.approved(w, id)
	default:
		out.answered(w, ch.Status)
	}
}

// plainPush answers POST /login/push once, with the outcome: "welcome"
// and the logged-in session's cookie, or why not.
type plainPush struct{ a *app }

func (plainPush) sent(http.ResponseWriter, *verify.Challenge)              {}
func (p plainPush) approved(w http.ResponseWriter, id string)              { p.a.loggedIn(w, id) }
func (p plainPush) failed(w http.ResponseWriter, r *http.Request, e error) { p.a.fail(w, r, e) }
func (plainPush) answered(w http.ResponseWriter, status verify.ChallengeStatus) {
	http.Error(w, "push "+string(status), http.StatusUnauthorized)
}

// loginTOTP checks a code from the session user's authenticator app.
// Guessing a code takes the password, and then as many sessions and
// addresses as the guesser likes, so each code counts against the
// session, the client's address and the user, before Verify checks it:
// attempts made at once cannot outrun the count.
func (a *app) loginTOTP(w http.ResponseWriter, r *http.Request) {
	c, ok := a.readCode(w, r, codeKind{
		factor: func(f factors) string { return f.totp }, none: "this account has no TOTP factor; use /login/push",
		prompt: "enter the code from your authenticator app", min: verify.MinTOTPCodeLength, max: verify.MaxTOTPCodeLength,
	})
	if !ok {
		return
	}
	id, u, totp, code := c.id, c.sess.user, c.factor, c.code
	charges, ok := a.countCode(w, r, id, u)
	if !ok {
		return
	}
	ch, err := a.verify.Challenges.Create(r.Context(), a.serviceSID, u.identity, &verify.CreateChallengeParams{
		FactorSID: totp, AuthPayload: verify.NewSecret(code),
	})
	a.codeChecked(w, r, id, err == nil && ch.Status.IsApproved(), err, charges...)
}

// factorSession returns the live session of r, under its id, and the
// factor of its user that pick picks; or it answers the request itself, to
// a request without a session or for a user without the factor (none is
// that answer), and reports false.
func (a *app) factorSession(w http.ResponseWriter, r *http.Request, pick func(factors) string, none string) (string, session, string, bool) {
	id, sess, ok := a.sessions.lookup(r)
	if !ok {
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
		return "", session{}, "", false
	}
	factor := pick(a.users.factors(sess.user))
	if factor == "" {
		http.Error(w, none, http.StatusBadRequest)
		return "", session{}, "", false
	}
	return id, sess, factor, true
}

// codeKind says how readCode reads a kind of code.
type codeKind struct {
	factor   func(factors) string // the user's factor the code is for: "" when none
	none     string               // the answer to a user without that factor
	prompt   string               // the answer to a request without a code
	min, max int                  // digits a code may have
}

// codeRequest is a code to check, read by readCode: the session it comes
// in, under its id, the user's factor and the code.
type codeRequest struct {
	id     string
	sess   session
	factor string
	code   string
}

// readCode reads a second factor's code from a live session whose user
// has the factor kind names, or answers the request itself (no session,
// no such factor, no code, or a typo that is no code), without counting
// anything, and reports false.
func (a *app) readCode(w http.ResponseWriter, r *http.Request, kind codeKind) (codeRequest, bool) {
	var c codeRequest
	var ok bool
	if c.id, c.sess, c.factor, ok = a.factorSession(w, r, kind.factor, kind.none); !ok {
		return codeRequest{}, false
	}
	c.code = r.PostFormValue("code")
	switch {
	case c.code == "":
		http.Error(w, kind.prompt, http.StatusBadRequest)
	case !isCode(c.code, kind.min, kind.max):
		http.Error(w, "that is not a valid code", http.StatusBadRequest)
	default:
		return c, true
	}
	return codeRequest{}, false
}

// countCode counts a code about to be checked in session id, against the
// session, the client's address and the user u, before it is checked, and
// returns the charges to give back if it is right; or it answers the
// request itself and reports false. TOTP codes and codes sent by SMS share
// these counts: a guess is a guess.
func (a *app) countCode(w http.ResponseWriter, r *http.Request, id string, u *user) ([]charge, bool) {
	charges := []charge{{"code addr " + a.addrKey(r), codesPerAddress}, {"code user " + u.name, codesPerUser}}
	if wait, ok := a.attempts.try(charges...); !ok {
		tooMany(w, wait)
		return nil, false
	}
	if !a.sessions.tryCode(id) {
		a.attempts.refund(charges...) // not checked
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
		return nil, false
	}
	return charges, true
}

// codeChecked answers a code that countCode counted, once Verify checked
// it: a right one logs session id in and gives refunds back; the session's
// maxWrongCodes-th wrong one ends it.
func (a *app) codeChecked(w http.ResponseWriter, r *http.Request, id string, approved bool, err error, refunds ...charge) {
	switch {
	case err != nil:
		a.fail(w, r, err)
	case approved:
		a.attempts.refund(refunds...)
		a.loggedIn(w, id)
	case a.sessions.endAtWrongCodes(id):
		http.Error(w, "too many wrong codes; log in with your password again", http.StatusUnauthorized)
	default:
		http.Error(w, "wrong code", http.StatusUnauthorized)
	}
}

// isCode reports whether code can be a code of lo to hi digits: 3 to 8
// for TOTP, 4 to 10 for a code sent by SMS.
func isCode(code string, lo, hi int) bool {
	if len(code) < lo || len(code) > hi {
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
	status, msg := a.failure(r, err)
	http.Error(w, msg, status)
}

// failure is the HTTP status and the message fail answers err with; it
// logs the errors the user cannot do anything about.
func (a *app) failure(r *http.Request, err error) (int, string) {
	var ve *verify.ValidationError
	switch {
	case errors.As(err, &ve) && ve.Field == "AuthPayload": // the only parameter a user types
		return http.StatusBadRequest, "that is not a valid code"
	case errors.Is(err, verify.ErrRateLimited):
		return http.StatusTooManyRequests, "too many attempts, try again later"
	case errors.Is(err, verify.ErrChallengeExpired), errors.Is(err, context.DeadlineExceeded):
		return http.StatusUnauthorized, errTimedOut
	case errors.Is(err, verify.ErrNotFound), errors.Is(err, verify.ErrFactorNotVerified):
		return http.StatusUnauthorized, "no usable second factor"
	default:
		a.log.Printf("%s: %v", r.URL.Path, err) // err starts with "verify:" and never holds credentials or payloads
		return http.StatusServiceUnavailable, "second factor unavailable"
	}
}

// errTimedOut answers a second factor that was not answered in time.
const errTimedOut = "second factor timed out"
