// Command login is a small web server whose login handlers use Verify for
// the second factor: a push challenge it waits on, and a TOTP code form.
//
//	TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… VERIFY_SERVICE_SID=VA… go run ./examples/login -addr 127.0.0.1:8080
//	curl -d identity=user-0001 -d factor=YF… localhost:8080/login/push
//	curl -d identity=user-0001 -d factor=YF… -d code=123456 localhost:8080/login/totp
//
// main_test.go drives both handlers end to end against verifytest.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	verify "github.com/verifykit/verify-go"
)

// app holds what the handlers share: one verify.Client for the process.
type app struct {
	verify      *verify.Client
	serviceSID  string
	pushTimeout time.Duration       // how long a login waits for the phone
	waitOptions *verify.WaitOptions // polling interval for Wait
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	client, err := verify.NewClient(verify.WithUserAgent("login-example/1.0"))
	if err != nil {
		log.Fatal(err)
	}
	service := os.Getenv("VERIFY_SERVICE_SID")
	if service == "" {
		log.Fatal("set VERIFY_SERVICE_SID to your Verify service (VA…)")
	}
	a := &app{verify: client, serviceSID: service, pushTimeout: 60 * time.Second}
	srv := &http.Server{Addr: *addr, Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/push", a.loginPush)
	mux.HandleFunc("POST /login/totp", a.loginTOTP)
	return mux
}

// loginPush sends a push to the user's phone and waits for the answer.
func (a *app) loginPush(w http.ResponseWriter, r *http.Request) {
	identity, factor := r.FormValue("identity"), r.FormValue("factor")
	ctx, cancel := context.WithTimeout(r.Context(), a.pushTimeout)
	defer cancel()
	ch, err := a.verify.Challenges.Create(ctx, a.serviceSID, identity, &verify.CreateChallengeParams{
		FactorSID: factor,
		Details: &verify.Details{
			Message: "Log in to Example?",
			Fields:  []verify.Field{{Label: "IP", Value: r.RemoteAddr}},
		},
		HiddenDetails: map[string]string{"user_agent": r.UserAgent()},
	})
	if err != nil {
		fail(w, err)
		return
	}
	ch, err = a.verify.Challenges.Wait(ctx, a.serviceSID, identity, ch.SID, a.waitOptions)
	if err != nil {
		fail(w, err)
		return
	}
	finish(w, ch)
}

// loginTOTP checks a code typed from an authenticator app.
func (a *app) loginTOTP(w http.ResponseWriter, r *http.Request) {
	identity, factor, code := r.FormValue("identity"), r.FormValue("factor"), r.FormValue("code")
	ch, err := a.verify.Challenges.Create(r.Context(), a.serviceSID, identity, &verify.CreateChallengeParams{
		FactorSID: factor, AuthPayload: code,
	})
	if err != nil {
		fail(w, err)
		return
	}
	finish(w, ch)
}

// finish maps a challenge's final status to the login's answer.
func finish(w http.ResponseWriter, ch *verify.Challenge) {
	if ch.Status.IsApproved() {
		http.Error(w, "welcome", http.StatusOK)
		return
	}
	http.Error(w, "second factor "+string(ch.Status), http.StatusUnauthorized)
}

// fail maps SDK errors to HTTP answers a login page can show.
func fail(w http.ResponseWriter, err error) {
	var ve *verify.ValidationError
	switch {
	case errors.As(err, &ve):
		http.Error(w, ve.Error(), http.StatusBadRequest)
	case errors.Is(err, verify.ErrRateLimited):
		http.Error(w, "too many attempts, try again later", http.StatusTooManyRequests)
	case errors.Is(err, verify.ErrChallengeExpired), errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "second factor timed out", http.StatusUnauthorized)
	case errors.Is(err, verify.ErrNotFound), errors.Is(err, verify.ErrFactorNotVerified):
		http.Error(w, "no usable second factor", http.StatusUnauthorized)
	default:
		log.Printf("verify: %v", err) // never holds credentials or payloads
		http.Error(w, "second factor unavailable", http.StatusServiceUnavailable)
	}
}
