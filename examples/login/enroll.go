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
	// token, in seconds (the API allows 60–300).
	pushTokenTTL = 5 * time.Minute
	// pushEnrollWindow is how long a push factor enrolled with the token
	// still counts: the token's 5 minutes, then time for Twilio to retry
	// the factor.verified webhook.
	pushEnrollWindow = 15 * time.Minute
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
	if !a.sessions.setTOTP(id, pendingTOTP{factorSID: f.SID, uri: f.Binding.URI.Reveal()}) {
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
	case !a.users.setTOTP(u, f.SID, sess.loggedIn):
		http.Error(w, notYourFirstFactor, http.StatusForbidden) // another session enrolled one meanwhile
	default:
		a.sessions.setTOTP(id, pendingTOTP{})
		fmt.Fprintln(w, "TOTP factor enrolled")
	}
}

// enrollPushToken gives the session user's app an access token to enroll
// a push factor with. The factor counts once the factor.verified webhook
// (or /enroll/push/done) reports it, within pushEnrollWindow.
func (a *app) enrollPushToken(w http.ResponseWriter, r *http.Request) {
	_, sess, ok := a.enrollSession(w, r)
	if !ok {
		return
	}
	u, name := sess.user, r.PostFormValue("name")
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
	case !a.users.expectPush(u, tok.DateCreated, a.now().Add(pushEnrollWindow), sess.loggedIn):
		http.Error(w, notYourFirstFactor, http.StatusForbidden) // the token is not handed out
	default:
		writeJSON(w, pushToken{Token: tok.Token.Reveal(), Identity: tok.EntityIdentity, ServiceSID: tok.ServiceSID,
			FactorFriendlyName: tok.FactorFriendlyName, TTL: int(tok.TTL / time.Second)})
	}
}

// enrollPushDone is the way to finish a push enrollment without webhooks
// (or when a delivery is lost): it lists the user's factors and records
// the newest verified push factor made since the token, other than the
// one the user has. When nothing is
// pending it answers the push factor the user has, if any, since the
// webhook usually got there first.
func (a *app) enrollPushDone(w http.ResponseWriter, r *http.Request) {
	_, sess, ok := a.sessions.lookup(r)
	if !ok {
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
		return
	}
	u := sess.user
	if since, pending := a.users.pendingPush(u, a.now()); pending {
		sid, err := a.newestPushFactor(r.Context(), u.identity, since, a.users.factors(u).push)
		switch {
		case err != nil:
			a.fail(w, r, err)
			return
		case sid == "":
			http.Error(w, "no new push factor yet; finish enrolling in the app, then try again", http.StatusConflict)
			return
		}
		a.users.recordPush(u.identity, sid, a.now()) // refused if the rule no longer allows it
	}
	if push := a.users.factors(u).push; push != "" {
		writeJSON(w, enrolledPush{FactorSID: push})
		return
	}
	http.Error(w, "no push enrollment pending; POST /enroll/push/token first", http.StatusNotFound)
}

// newestPushFactor returns the SID of identity's newest verified push
// factor created at or after since, other than old, or "" if there is
// none. API dates have whole seconds, so old is skipped by its SID.
func (a *app) newestPushFactor(ctx context.Context, identity string, since time.Time, old string) (string, error) {
	var newest *verify.Factor
	for f, err := range a.verify.Factors.List(ctx, a.serviceSID, identity, nil) {
		switch {
		case errors.Is(err, verify.ErrNotFound): // no entity yet: the app has not enrolled
			return "", nil
		case err != nil:
			return "", err
		case f.FactorType == verify.FactorTypePush && f.Status == verify.FactorStatusVerified && f.SID != old &&
			!f.DateCreated.Before(since) && (newest == nil || f.DateCreated.After(newest.DateCreated)):
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
