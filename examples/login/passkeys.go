package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	verify "github.com/verifykit/verify-go"
)

// Passkey settings.
const (
	// maxPasskeyJSONBytes caps the body of the two endpoints that take a
	// browser's credential.toJSON(): a passkey's answer is 1–4 KiB, its
	// registration with attestation "none" about as much.
	maxPasskeyJSONBytes = 16 << 10
	// maxPasskeyWait is how long a passkey prompt's challenge is kept at
	// most, whatever timeout Verify's options give it.
	maxPasskeyWait = 10 * time.Minute
	// errUnreadableAnswer refuses what is no browser's passkey answer.
	errUnreadableAnswer = "your browser's passkey answer could not be read; try again"
	// errTooManyPasskeys refuses a passkey past maxPasskeys.
	errTooManyPasskeys = "you have 10 passkeys already; that is the most this site keeps"
)

// ceremony is a WebAuthn ceremony handed to a browser: the SID of what
// Verify made for it (a challenge YC… or a factor YF…) and the challenge of
// its options, which the browser's answer must have signed.
type ceremony struct{ sid, challenge string }

// Why an answer matches no ceremony of this browser's.
var (
	errNoPrompt    = errors.New("ask for a passkey prompt first: POST /login/passkey/options")
	errPromptGone  = errors.New("the passkey prompt expired or was used; try again")
	errOtherPrompt = errors.New("that passkey answered another prompt than this page's latest; try again")
)

// take returns c's SID and clears c if signed is c's challenge; else it
// returns errOtherPrompt and c stays, for its own answer.
func (c *ceremony) take(signed string) (string, error) {
	if !sameChallenge(signed, c.challenge) {
		return "", errOtherPrompt
	}
	sid := c.sid
	*c = ceremony{}
	return sid, nil
}

// loginPasskeyOptions answers POST /login/passkey/options with the WebAuthn
// request options for the browser to sign, as
// PublicKeyCredential.parseRequestOptionsFromJSON() takes them: for the
// session user's passkeys after the password, or, without a session, for
// any passkey of the service (a usernameless sign-in, in place of both
// steps). The challenge is kept server-side, in the session or, for a
// usernameless sign-in, under a cookie of its own, so that only this
// browser's answer can use it. Each prompt counts against the client's
// address (and the user, after the password) until a sign-in succeeds. A
// usernameless prompt is refused with 503 while the store is full of
// prompts younger than minPasskeyLoginKeep.
func (a *app) loginPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	id, sess, inSession := a.sessions.lookup(r)
	if inSession && sess.loggedIn {
		http.Error(w, "you are signed in already", http.StatusConflict)
		return
	}
	charges := []charge{{"passkey addr " + a.addrKey(r), passkeysPerAddress}}
	var params *verify.CreatePasskeyChallengeParams // nil: usernameless
	if inSession {
		if len(a.users.factors(sess.user).passkeys) == 0 {
			http.Error(w, "this account has no passkey; use another second factor", http.StatusBadRequest)
			return
		}
		charges = append(charges, charge{"passkey user " + sess.user.name, passkeysPerUser})
		params = &verify.CreatePasskeyChallengeParams{Identity: sess.user.identity}
	}
	if wait, ok := a.attempts.try(charges...); !ok {
		tooMany(w, wait)
		return
	}
	var slot *passkeyLogin // the usernameless prompt's place, kept before Verify makes it
	if !inSession {
		var wait time.Duration
		if slot, wait = a.passkeyLogins.reserve(); slot == nil {
			a.attempts.refund(charges...) // nothing made
			refuseFor(w, wait, http.StatusServiceUnavailable, "too many passkey sign-ins are under way; try again in %s, or sign in with your password")
			return
		}
	}
	ch, err := a.verify.Passkeys.CreateChallenge(r.Context(), a.serviceSID, params)
	var opts json.RawMessage
	if err == nil {
		opts, err = ch.Options.BrowserJSON()
	}
	if err != nil {
		if slot != nil {
			a.passkeyLogins.drop(slot)
		}
		if !errors.Is(err, verify.ErrOutcomeUnknown) {
			a.attempts.refund(charges...) // no prompt made
		}
		a.fail(w, r, err)
		return
	}
	wait := ch.Options.Timeout
	if wait <= 0 || wait > maxPasskeyWait {
		wait = maxPasskeyWait
	}
	if inSession {
		if !a.sessions.update(id, func(s *session) { s.passkeyLogin = ceremony{ch.SID, ch.Options.Challenge} }) {
			http.Error(w, "your session ended; log in with your password again", http.StatusUnauthorized)
			return
		}
	} else {
		a.passkeyLogins.fill(w, slot, ceremony{ch.SID, ch.Options.Challenge}, wait)
	}
	writeJSON(w, opts) // json.RawMessage: written as it is
}

// loginPasskey answers POST /login/passkey, the browser's assertion
// (credential.toJSON() after navigator.credentials.get()) as JSON: Verify
// checks it, and an approved challenge that is the one this browser was
// given, by a passkey of the user it names, signs the visitor in. After
// the password the passkey must be the session user's, and a wrong answer
// counts as a wrong code; without a session, the challenge says who signed
// in. Each challenge is answered once.
func (a *app) loginPasskey(w http.ResponseWriter, r *http.Request) {
	assertion, ok := readPasskeyJSON(w, r)
	if !ok {
		return
	}
	answer, ok := readPasskeyAnswer(assertion)
	if !ok || verify.ValidatePasskeyAssertion(answer.body) != nil { // checked before the prompt is used up
		http.Error(w, errUnreadableAnswer, http.StatusBadRequest)
		return
	}
	id, sess, inSession := a.sessions.lookup(r)
	// wrong answers a refused answer: past the password it counts as a
	// wrong code, and the maxWrongCodes-th ends the session, whatever
	// refused it.
	wrong := func(err error) {
		if inSession && a.sessions.endAtWrongCodes(id) {
			http.Error(w, "too many wrong answers; log in with your password again", http.StatusUnauthorized)
			return
		}
		a.passkeyRefused(w, r, err)
	}
	var want string // the challenge this browser was given
	var err error
	switch signed := answer.challenge; {
	case inSession && sess.loggedIn:
		http.Error(w, "you are signed in already", http.StatusConflict)
		return
	case inSession:
		if want, err = a.sessions.takePasskeyLogin(id, signed); errors.Is(err, errOtherPrompt) {
			wrong(err)
			return
		}
	default:
		want, err = a.passkeyLogins.take(w, r, signed)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	ch, err := a.verify.Passkeys.ApproveChallenge(r.Context(), a.serviceSID, answer.body)
	if err != nil || ch.SID != want {
		wrong(err)
		return
	}
	who, _ := ch.SignedIn()
	u := a.users.byIdentity(who)
	if u == nil || !a.users.factors(u).hasPasskey(ch.FactorSID) || (inSession && u != sess.user) {
		a.log.Printf("%s: challenge %s was approved by factor %s, which is no passkey of this sign-in's user", r.URL.Path, ch.SID, ch.FactorSID)
		wrong(nil)
		return
	}
	a.attempts.refund(charge{"passkey addr " + a.addrKey(r), passkeysPerAddress})
	if inSession {
		a.attempts.refund(charge{"passkey user " + u.name, passkeysPerUser})
		a.loggedIn(w, id)
		return
	}
	a.sessions.startLoggedIn(w, u)
	fmt.Fprintln(w, "welcome")
}

// passkeyRefused answers a passkey answer that did not sign in or
// register: err from Verify, or nil for one Verify accepted for another
// challenge, factor or user than this visitor's.
func (a *app) passkeyRefused(w http.ResponseWriter, r *http.Request, err error) {
	var ve *verify.ValidationError
	switch {
	case errors.Is(err, errOtherPrompt):
		http.Error(w, err.Error(), http.StatusUnauthorized)
	case errors.As(err, &ve):
		http.Error(w, errUnreadableAnswer, http.StatusBadRequest)
	case errors.Is(err, verify.ErrChallengeExpired):
		http.Error(w, errPromptGone.Error(), http.StatusUnauthorized)
	case err == nil, errors.Is(err, verify.ErrVerificationFailed), errors.Is(err, verify.ErrInvalidRequest),
		errors.Is(err, verify.ErrNotFound), errors.Is(err, verify.ErrChallengeAlreadyResponded):
		http.Error(w, "that passkey did not check out; try again, or use another way", http.StatusUnauthorized)
	default:
		a.fail(w, r, err)
	}
}

// enrollPasskey answers POST /enroll/passkey with the WebAuthn creation
// options for a new passkey of the session user, as
// PublicKeyCredential.parseCreationOptionsFromJSON() takes them, under the
// same rule as the other factors (factors.mayAdd). The session keeps the
// unverified factor until /enroll/passkey/verify. Registrations count
// against the user until one succeeds.
func (a *app) enrollPasskey(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.enrollSession(w, r)
	if !ok {
		return
	}
	u := sess.user
	if len(a.users.factors(u).passkeys) >= maxPasskeys {
		http.Error(w, errTooManyPasskeys, http.StatusConflict)
		return
	}
	charges := []charge{{"passkey enroll user " + u.name, passkeyEnrollsPerUser}}
	if wait, ok := a.attempts.try(charges...); !ok {
		tooMany(w, wait)
		return
	}
	f, err := a.verify.Passkeys.CreateFactor(r.Context(), a.serviceSID, &verify.CreatePasskeyFactorParams{
		Identity: u.identity, FriendlyName: u.name, // the account name the browser shows
	})
	var opts json.RawMessage
	if err == nil {
		opts, err = f.Options.BrowserJSON()
	}
	if err != nil {
		if !errors.Is(err, verify.ErrOutcomeUnknown) {
			a.attempts.refund(charges...)
		}
		a.fail(w, r, err)
		return
	}
	if !a.sessions.update(id, func(s *session) { s.passkeyFactor = ceremony{f.SID, f.Options.Challenge} }) {
		http.Error(w, "your session ended; log in with your password again", http.StatusUnauthorized)
		return
	}
	writeJSON(w, opts) // json.RawMessage: written as it is
}

// enrolledPasskey is the answer to POST /enroll/passkey/verify.
type enrolledPasskey struct {
	FactorSID string `json:"factor_sid"`
}

// enrollPasskeyVerify answers POST /enroll/passkey/verify, the browser's
// new credential (credential.toJSON() after navigator.credentials.create())
// as JSON: once Verify verifies the session's pending factor with it, the
// passkey is recorded on the user. Each pending factor is answered once.
func (a *app) enrollPasskeyVerify(w http.ResponseWriter, r *http.Request) {
	registration, ok := readPasskeyJSON(w, r)
	if !ok {
		return
	}
	id, sess, ok := a.enrollSession(w, r)
	if !ok {
		return
	}
	u := sess.user
	answer, ok := readPasskeyAnswer(registration)
	if !ok || verify.ValidatePasskeyRegistration(answer.body) != nil { // checked before the pending factor is used up
		http.Error(w, errUnreadableAnswer, http.StatusBadRequest)
		return
	}
	pending, err := a.sessions.takePasskeyFactor(id, answer.challenge)
	switch {
	case errors.Is(err, errNoPrompt):
		http.Error(w, "no passkey registration pending; POST /enroll/passkey first", http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, `that passkey answered an earlier "Add a passkey" than this session's latest; add it again`, http.StatusConflict)
		return
	}
	f, err := a.verify.Passkeys.VerifyFactor(r.Context(), a.serviceSID, answer.body)
	switch {
	case err == nil && (f.SID != pending || f.Identity != u.identity || f.Status != verify.FactorStatusVerified):
		a.log.Printf("%s: factor %s was verified in place of %s", r.URL.Path, f.SID, pending)
		a.passkeyRefused(w, r, nil)
	case err != nil:
		a.passkeyRefused(w, r, err)
	default:
		if msg := a.users.addPasskey(u, f.SID, sess.loggedIn); msg != "" {
			http.Error(w, msg, http.StatusForbidden) // another session enrolled a factor, or passkeys, meanwhile
			return
		}
		a.attempts.refund(charge{"passkey enroll user " + u.name, passkeyEnrollsPerUser})
		writeJSON(w, enrolledPasskey{FactorSID: f.SID})
	}
}

// readPasskeyJSON reads a request's body, a browser's credential.toJSON(),
// as JSON of at most maxPasskeyJSONBytes, or answers the request itself:
// 415 for another content type (so a cross-site form cannot post one
// either), 413 past the cap, 400 for what is no JSON object.
func readPasskeyJSON(w http.ResponseWriter, r *http.Request) (json.RawMessage, bool) {
	if media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || media != "application/json" {
		http.Error(w, "send the passkey's answer as application/json", http.StatusUnsupportedMediaType)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPasskeyJSONBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, "the passkey's answer is too large", http.StatusRequestEntityTooLarge)
	case err != nil:
		http.Error(w, "cannot read the passkey's answer", http.StatusBadRequest)
	case !json.Valid(body) || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		http.Error(w, "the passkey's answer must be a JSON object: credential.toJSON()", http.StatusBadRequest)
	default:
		return body, true
	}
	return nil, false
}

// configurePasskeys makes the Verify service's relying party the site at
// origin (as parseOrigin accepts it, such as https://example.com): its ID
// the origin's host, origin among its origins (the only one when the ID
// changes: the others were another site's), discoverable credentials (for
// usernameless sign-in) and user verification required (a passkey stands
// for both steps). It changes the service only when it is not so already,
// and reports whether it did.
func configurePasskeys(ctx context.Context, client *verify.Client, serviceSID, origin string) (bool, error) {
	origin, err := parseOrigin(origin)
	if err != nil {
		return false, err
	}
	u, _ := url.Parse(origin) // parseOrigin parsed it
	svc, err := client.Services.Fetch(ctx, serviceSID)
	if err != nil {
		return false, err
	}
	had := svc.Passkeys
	want := had
	want.RelyingParty.ID = u.Hostname()
	switch {
	case want.RelyingParty.ID != had.RelyingParty.ID:
		want.RelyingParty.Origins = []string{origin}
	case !slices.Contains(had.RelyingParty.Origins, origin):
		want.RelyingParty.Origins = append(slices.Clone(had.RelyingParty.Origins), origin)
	}
	if want.RelyingParty.Name == "" {
		want.RelyingParty.Name = "Example"
	}
	want.DiscoverableCredentials, want.UserVerification = verify.PasskeyRequired, verify.PasskeyRequired
	if want.AuthenticatorAttachment == "" {
		want.AuthenticatorAttachment = verify.AuthenticatorAny
	}
	if want.RelyingParty.ID == had.RelyingParty.ID && want.RelyingParty.Name == had.RelyingParty.Name &&
		slices.Equal(want.RelyingParty.Origins, had.RelyingParty.Origins) && want.AuthenticatorAttachment == had.AuthenticatorAttachment &&
		want.DiscoverableCredentials == had.DiscoverableCredentials && want.UserVerification == had.UserVerification {
		return false, nil
	}
	_, err = client.Services.Update(ctx, serviceSID, &verify.UpdateServiceParams{Passkeys: &want})
	return err == nil, err
}
