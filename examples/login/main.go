// Command login is a small web server whose login handlers use Verify for
// the second factor: a push challenge it waits on, and a TOTP code form.
//
//	TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… VERIFY_SERVICE_SID=VA… go run ./examples/login -addr 127.0.0.1:8080
//
// -base-url (or VERIFY_BASE_URL) points it at another API, such as
// go run ./cmd/verify-fake on http://127.0.0.1:4010.
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
	log         *log.Logger         // errors the user cannot act on
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	client, err := newVerifyClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	a := &app{verify: client, serviceSID: cfg.serviceSID, pushTimeout: 60 * time.Second, log: log.Default()}
	srv := &http.Server{Addr: cfg.addr, Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on http://%s, Verify API at %s", cfg.addr, client.BaseURL())
	log.Fatal(srv.ListenAndServe())
}

// newVerifyClient reads the Twilio credentials from the environment and
// points the client at cfg.baseURL when it is set.
func newVerifyClient(cfg config) (*verify.Client, error) {
	opts := []verify.Option{verify.WithUserAgent("login-example/1.0")}
	if cfg.baseURL != "" {
		opts = append(opts, verify.WithBaseURL(cfg.baseURL))
	}
	return verify.NewClient(opts...)
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
		a.fail(w, r, err)
		return
	}
	ch, err = a.verify.Challenges.Wait(ctx, a.serviceSID, identity, ch.SID, a.waitOptions)
	if err != nil {
		a.fail(w, r, err)
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
		a.fail(w, r, err)
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

// fail maps SDK errors to HTTP answers a login page can show, and logs
// those the user cannot do anything about.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
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
		a.log.Printf("%s: %v", r.URL.Path, err) // err starts with "verify:" and never holds credentials or payloads
		http.Error(w, "second factor unavailable", http.StatusServiceUnavailable)
	}
}
