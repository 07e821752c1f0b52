package main

import (
	"fmt"
	"net/http"
)

// routes maps the endpoints to their handlers. The browser's endpoints are
// behind http.CrossOriginProtection: a POST that a browser marks as
// cross-site (Sec-Fetch-Site, or an Origin that is not this host) is
// refused with 403, so another site cannot make a visitor's browser log
// in, enroll or log out; clients that send neither header, such as curl,
// pass. The webhook is outside it: Twilio's POSTs come from no browser,
// and their signature is what is checked.
func (a *app) routes() http.Handler {
	web := http.NewServeMux()
	web.HandleFunc("POST /login/password", a.loginPassword)
	web.HandleFunc("POST /login/push", a.loginPush)
	web.HandleFunc("POST /login/totp", a.loginTOTP)
	web.HandleFunc("POST /logout", a.logout)
	web.HandleFunc("GET /me", a.me)
	web.HandleFunc("POST /enroll/totp", a.enrollTOTP)
	web.HandleFunc("GET /enroll/totp/qr.png", a.enrollTOTPQR)
	web.HandleFunc("POST /enroll/totp/verify", a.enrollTOTPVerify)
	web.HandleFunc("POST /enroll/push/token", a.enrollPushToken)
	web.HandleFunc("POST /enroll/push/done", a.enrollPushDone)

	mux := http.NewServeMux()
	mux.Handle("/", http.NewCrossOriginProtection().Handler(web))
	if a.hooks != nil {
		mux.Handle("POST /hooks/verify", a.hooks)
	}
	return mux
}

// logout ends the session on the server and deletes its cookie; without a
// session it only deletes the cookie.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.sessions.end(w, r)
	fmt.Fprintln(w, "logged out")
}
