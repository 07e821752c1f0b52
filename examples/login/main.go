// Command login is a small web server with a two-step login: a password,
// then a second factor through Verify, either a push it waits on or a code
// from an authenticator app. Who is logging in, and with which factor,
// comes from the server-side session opened by the password step, never
// from the request.
//
//	TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… VERIFY_SERVICE_SID=VA… \
//	VERIFY_IDENTITY=… VERIFY_PUSH_FACTOR_SID=YF… VERIFY_TOTP_FACTOR_SID=YF… \
//	go run ./examples/login -user ada -password demo
//
//	curl -c jar -d username=ada -d password=demo 127.0.0.1:8080/login/password
//	curl -b jar -c jar -X POST 127.0.0.1:8080/login/push       # or:
//	curl -b jar -c jar -d code=123456 127.0.0.1:8080/login/totp
//	curl -b jar 127.0.0.1:8080/me
//
// -base-url (or VERIFY_BASE_URL) points it at another API, such as
// go run ./cmd/verify-fake. main_test.go drives every step end to end
// against verifytest.
package main

import (
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	verify "github.com/verifykit/verify-go"
)

// app holds what the handlers share.
type app struct {
	verify      *verify.Client // one for the process
	serviceSID  string
	users       *users
	sessions    *sessions
	pushes      *pushLimits
	pushTimeout time.Duration       // how long a login waits for the phone
	waitOptions *verify.WaitOptions // polling interval for Wait
	log         *log.Logger         // errors the user cannot act on
}

// newApp wires the handlers' state; now is the clock of sessions and push
// limits.
func newApp(client *verify.Client, serviceSID string, us *users, now func() time.Time) *app {
	return &app{
		verify: client, serviceSID: serviceSID, users: us,
		sessions: newSessions(now), pushes: newPushLimits(3, now),
		pushTimeout: 60 * time.Second, log: log.Default(),
	}
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/password", a.loginPassword)
	mux.HandleFunc("POST /login/push", a.loginPush)
	mux.HandleFunc("POST /login/totp", a.loginTOTP)
	mux.HandleFunc("GET /me", a.me)
	return mux
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
	us := newUsers()
	if err := us.add(cfg.user, cfg.password, cfg.identity, cfg.pushFactor, cfg.totpFactor); err != nil {
		log.Fatal(err)
	}
	a := newApp(client, cfg.serviceSID, us, time.Now)
	a.sessions.secure = !isLoopback(cfg.addr) // plain http is only for trying it on this machine
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

// isLoopback reports whether addr (host:port) listens only on this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}
