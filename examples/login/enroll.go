package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"time"

	"github.com/pquerna/otp"

	verify "github.com/verifykit/verify-go"
)

const (
	qrPath = "/enroll/totp/qr.png" // where the pending TOTP factor's QR code is served
	qrSize = 256                   // the QR code's pixels a side

	// pushTokenTTL is how long the app has to enroll with its access
	// token (the API allows 60 s to 5 minutes).
	pushTokenTTL = 5 * time.Minute
	// dateSlack covers the API's dates, which have whole seconds: a
	// token's expiry and a factor's creation may look a second apart
	// from what they were.
	dateSlack = time.Second
)

// totpEnrollment is the answer to POST /enroll/totp.
type totpEnrollment struct {
	FactorSID string `json:"factor_sid"`
	URI       string `json:"uri"` // otpauth://…: holds the secret
	QR        string `json:"qr"`  // where the URI is served as a QR code
}

// pushToken is the answer to POST /enroll/push/token: what the Verify
// Push SDK in the user's app needs to enroll the phone.
type pushToken struct {
	Token              string `json:"token"`
	Identity           string `json:"identity"`
	ServiceSID         string `json:"service_sid"`
	FactorFriendlyName string `json:"factor_friendly_name"`
	TTL                int    `json:"ttl"`
}

// enrolledPush is the answer to POST /enroll/push/done.
type enrolledPush struct {
	FactorSID string `json:"factor_sid"`
}

// enrollTOTP creates an unverified TOTP factor for the session user and
// keeps it, with its URI, in the session until /enroll/totp/verify.
func (a *app) enrollTOTP(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.enrollSession(w, r)
	if !ok {
		return
	}
	u := sess.user
	f, err := a.verify.Factors.CreateTOTP(r.Context(), a.serviceSID, u.identity,
		&verify.CreateTOTPFactorParams{FriendlyName: u.name}) // the account name the app shows
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.sessions.update(id, func(s *session) { s.totp = pendingTOTP{factorSID: f.SID, uri: f.Binding.URI.Reveal()} }) {
		http.Error(w, "your session ended; log in with your password again", http.StatusUnauthorized)
		return
	}
	writeJSON(w, totpEnrollment{FactorSID: f.SID, URI: f.Binding.URI.Reveal(), QR: qrPath})
}

// enrollTOTPQR shows the session's pending TOTP URI as a QR code.
func (a *app) enrollTOTPQR(w http.ResponseWriter, r *http.Request) {
	_, sess, ok := a.sessions.lookup(r)
	switch {
	case !ok:
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
		return
	case sess.totp.uri == "":
		http.Error(w, "no TOTP enrollment pending", http.StatusNotFound)
		return
	}
	img, err := qrPNG(sess.totp.uri)
	if err != nil {
		a.log.Printf("%s: cannot draw the QR code", r.URL.Path) // err may quote the URI, which holds the secret
		http.Error(w, "cannot draw the QR code; type the secret in instead", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(img)
}

// enrollTOTPVerify checks the first code of the session's pending TOTP
// factor and, once Verify says verified, records the factor on the user.
func (a *app) enrollTOTPVerify(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.enrollSession(w, r)
	if !ok {
		return
	}
	u, pending, code := sess.user, sess.totp, r.PostFormValue("code")
	switch {
	case pending.factorSID == "":
		http.Error(w, "no TOTP enrollment pending; POST /enroll/totp first", http.StatusNotFound)
		return
	case code == "":
		http.Error(w, "enter the code from your authenticator app", http.StatusBadRequest)
		return
	}
	f, err := a.verify.Factors.Verify(r.Context(), a.serviceSID, u.identity, pending.factorSID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(code)})
	switch {
	case errors.Is(err, verify.ErrInvalidRequest): // the code is the only parameter a user types
		http.Error(w, "that is not a valid code", http.StatusBadRequest)
	case err != nil:
		a.fail(w, r, err)
	case f.Status != verify.FactorStatusVerified:
		http.Error(w, "wrong code", http.StatusUnauthorized) // still pending: try the next code
	case !a.users.setFactor(u, verify.FactorTypeTOTP, f.SID, sess.loggedIn):
		http.Error(w, notYourFirstFactor, http.StatusForbidden) // another session enrolled one meanwhile
	default:
		a.sessions.update(id, func(s *session) { s.totp = pendingTOTP{} })
		fmt.Fprintln(w, "TOTP factor enrolled")
	}
}

// enrollPushToken gives the session user's app an access token to enroll
// a push factor with; the session keeps it, and its /enroll/push/done
// records the factor made with it. A factor names its identity, not the
// token it was made with, so a logged-in session gets no token while one
// given past the password alone (when the user had no factor, perhaps to
// someone who stole the password) may still be live: a phone enrolled
// with that one would look like the user's.
func (a *app) enrollPushToken(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.enrollSession(w, r)
	if !ok {
		return
	}
	u, name := sess.user, r.PostFormValue("name")
	if wait := a.users.firstTokenWait(u, a.now()); sess.loggedIn && wait > 0 {
		http.Error(w, "a push enrollment begun before your first factor may still be open; try again in "+wait.Round(time.Second).String(), http.StatusConflict)
		return
	}
	if name == "" {
		name = u.name + "'s phone"
	}
	tok, err := a.verify.AccessTokens.Create(r.Context(), a.serviceSID, u.identity, &verify.CreateAccessTokenParams{FactorFriendlyName: name, TTL: pushTokenTTL})
	var ve *verify.ValidationError
	switch {
	case errors.As(err, &ve) && ve.Field == "FactorFriendlyName":
		http.Error(w, "name the phone in at most 64 characters", http.StatusBadRequest)
	case err != nil:
		a.fail(w, r, err)
	case !a.users.expectPush(u, sess.loggedIn, a.now().Add(tok.TTL+2*dateSlack)):
		http.Error(w, notYourFirstFactor, http.StatusForbidden) // the token is not handed out
	case !a.sessions.update(id, func(s *session) { s.push = pendingPush{since: tok.DateCreated, ttl: tok.TTL} }):
		http.Error(w, "your session ended; log in with your password again", http.StatusUnauthorized)
	default:
		writeJSON(w, pushToken{Token: tok.Token.Reveal(), Identity: tok.EntityIdentity, ServiceSID: tok.ServiceSID,
			FactorFriendlyName: tok.FactorFriendlyName, TTL: int(tok.TTL / time.Second)})
	}
}

// enrollPushDone records the push factor that this session's access token
// enrolled: the newest verified push factor of the user created while the
// token was live, other than the one the user has. Only the session that
// asked for the token can, once the app has enrolled.
func (a *app) enrollPushDone(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.enrollSession(w, r)
	if !ok {
		return
	}
	u := sess.user
	if sess.push.since.IsZero() {
		http.Error(w, "no push enrollment pending; POST /enroll/push/token first", http.StatusNotFound)
		return
	}
	sid, err := a.tokensPushFactor(r.Context(), u.identity, sess.push, a.users.factors(u).push)
	switch {
	case err != nil:
		a.fail(w, r, err)
	case sid == "":
		http.Error(w, "no new push factor yet; finish enrolling in the app, then try again", http.StatusConflict)
	case !a.users.setFactor(u, verify.FactorTypePush, sid, sess.loggedIn):
		http.Error(w, notYourFirstFactor, http.StatusForbidden) // another session enrolled one meanwhile
	default:
		a.sessions.update(id, func(s *session) { s.push = pendingPush{} })
		writeJSON(w, enrolledPush{FactorSID: sid})
	}
}

// tokensPushFactor returns the SID of identity's newest verified push
// factor created while the token p was live, other than old, or "" if
// there is none. API dates have whole seconds, so old is skipped by its
// SID, and the token's end is a second later.
func (a *app) tokensPushFactor(ctx context.Context, identity string, p pendingPush, old string) (string, error) {
	var newest *verify.Factor
	for f, err := range a.verify.Factors.List(ctx, a.serviceSID, identity, nil) {
		switch {
		case errors.Is(err, verify.ErrNotFound): // no entity yet: the app has not enrolled
			return "", nil
		case err != nil:
			return "", err
		case f.FactorType == verify.FactorTypePush && f.Status == verify.FactorStatusVerified && f.SID != old &&
			!f.DateCreated.Before(p.since) && !f.DateCreated.After(p.since.Add(p.ttl+dateSlack)) &&
			(newest == nil || f.DateCreated.After(newest.DateCreated)):
			newest = f
		}
	}
	if newest == nil {
		return "", nil
	}
	return newest.SID, nil
}

// notYourFirstFactor refuses to add a factor to a user who has one, to a
// session that passed the password alone.
const notYourFirstFactor = "you have a second factor already; log in with it to add another"

// enrollSession returns the session that may add a factor to its user
// (factors.mayAdd), or answers the request itself and reports false.
func (a *app) enrollSession(w http.ResponseWriter, r *http.Request) (string, session, bool) {
	id, sess, ok := a.sessions.lookup(r)
	switch {
	case !ok:
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
	case !a.users.factors(sess.user).mayAdd(sess.loggedIn):
		http.Error(w, notYourFirstFactor, http.StatusForbidden)
	default:
		return id, sess, true
	}
	return "", session{}, false
}

// qrPNG draws uri as a QR code in a PNG image.
func qrPNG(uri string) ([]byte, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeJSON answers v as JSON that no cache may keep: enrollment answers
// hold secrets.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // keep the & in otpauth:// URIs as they are: this is no HTML page
	_ = enc.Encode(v)
}
