package main

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
)

// maxFormBytes caps a request's body: the forms here hold a name, a
// password or a code, well under 1 KiB.
const maxFormBytes = 4 << 10

// routes maps the endpoints to their handlers. The browser's endpoints are
// behind http.CrossOriginProtection: a POST that a browser marks as
// cross-site (Sec-Fetch-Site, or an Origin that is not this host) is
// refused with 403, so another site cannot make a visitor's browser log
// in, enroll or log out; clients that send neither header, such as curl,
// pass. The webhook is outside it: Twilio's POSTs come from no browser,
// and their signature is what is checked (the SDK's handler caps its body
// at WebhookConfig.MaxBodyBytes). Every form is read by formsOnly, and
// the two passkey answers by readPasskeyJSON. The
// pages (web.go) and every other answer of the web endpoints carry the
// Content-Security-Policy and its sibling headers (securityHeaders).
func (a *app) routes() http.Handler {
	web := http.NewServeMux()
	web.HandleFunc("POST /login/password", a.loginPassword)
	web.HandleFunc("POST /login/push", a.loginPush)
	web.HandleFunc("POST /login/push/stream", a.loginPushStream)
	web.HandleFunc("POST /login/push/finish", a.loginPushFinish)
	web.HandleFunc("POST /login/totp", a.loginTOTP)
	web.HandleFunc("POST /login/sms", a.loginSMS)
	web.HandleFunc("POST /login/sms/check", a.loginSMSCheck)
	web.HandleFunc("POST /logout", a.logout)
	web.HandleFunc("GET /me", a.me)
	web.HandleFunc("POST /enroll/totp", a.enrollTOTP)
	web.HandleFunc("GET /enroll/totp/qr.png", a.enrollTOTPQR)
	web.HandleFunc("POST /enroll/totp/verify", a.enrollTOTPVerify)
	web.HandleFunc("POST /enroll/push/token", a.enrollPushToken)
	web.HandleFunc("POST /enroll/push/done", a.enrollPushDone)
	web.HandleFunc("GET /session", a.sessionInfo)
	web.HandleFunc("GET /{$}", a.page("signin.html", stepSignedOut, stepSecondFactor, stepEnroll))
	web.HandleFunc("GET /second-factor", a.page("second-factor.html", stepSecondFactor))
	web.HandleFunc("GET /account", a.page("account.html", stepEnroll, stepSignedIn))
	web.Handle("GET /static/", static())
	web.HandleFunc("POST /login/passkey/options", a.passkeysOn(a.loginPasskeyOptions))
	web.HandleFunc("POST /enroll/passkey", a.passkeysOn(a.enrollPasskey))

	// The two endpoints that take a browser's passkey answer read it as
	// JSON themselves (readPasskeyJSON), with a cap of their own.
	browser := http.NewServeMux()
	browser.Handle("/", formsOnly(web))
	browser.HandleFunc("POST /login/passkey", a.passkeysOn(a.loginPasskey))
	browser.HandleFunc("POST /enroll/passkey/verify", a.passkeysOn(a.enrollPasskeyVerify))

	mux := http.NewServeMux()
	mux.Handle("/", securityHeaders(http.NewCrossOriginProtection().Handler(browser)))
	if a.hooks != nil {
		mux.Handle("POST /hooks/verify", a.hooks)
	}
	return mux
}

// passkeysOn is h while the server serves passkeys (-passkey-origin), and
// a 404 that says how to turn them on otherwise.
func (a *app) passkeysOn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.passkeys {
			http.Error(w, "passkeys are off: start the server with -passkey-origin", http.StatusNotFound)
			return
		}
		h(w, r)
	}
}

// logout ends the session on the server and deletes its cookie; without a
// session it only deletes the cookie.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.sessions.end(w, r)
	fmt.Fprintln(w, "logged out")
}

// formsOnly reads the request's form before h runs, and only a small
// url-encoded one: a body over maxFormBytes is refused with 413 (and the
// connection closed) once that much is read, and any other content type,
// such as multipart/form-data, which net/http would spool to temporary
// files, with 415 before a byte of it is read.
func formsOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if media, _, err := mime.ParseMediaType(ct); err != nil || media != "application/x-www-form-urlencoded" {
				http.Error(w, "send the form as application/x-www-form-urlencoded", http.StatusUnsupportedMediaType)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "the form is too large", http.StatusRequestEntityTooLarge)
			} else {
				http.Error(w, "cannot read the form", http.StatusBadRequest)
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}
