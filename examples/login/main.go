// Command login is a small web server with a two-step login: a password,
// then a second factor through Verify: a push it waits on, a code from an
// authenticator app, or, for a user with a phone number on record, a code
// sent by SMS. It also enrolls those factors, and learns of
// push answers from Verify's webhooks. Who is logging in or enrolling,
// and with which factor, comes from the server-side session opened by the
// password step, never from the request.
//
//	TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… VERIFY_SERVICE_SID=VA… \
//	VERIFY_IDENTITY=… VERIFY_PUSH_FACTOR_SID=YF… VERIFY_TOTP_FACTOR_SID=YF… \
//	go run -C examples/login . -user ada -password demo -phone +15017122661 -public-url https://example.com/hooks/verify
//
//	curl -c jar -d username=ada -d password=demo 127.0.0.1:8080/login/password
//	curl -b jar -c jar -X POST 127.0.0.1:8080/login/push       # or:
//	curl -b jar -c jar -d code=123456 127.0.0.1:8080/login/totp   # or:
//	curl -b jar -X POST 127.0.0.1:8080/login/sms && curl -b jar -c jar -d code=… 127.0.0.1:8080/login/sms/check
//	curl -b jar 127.0.0.1:8080/me
//	curl -b jar -c jar -X POST 127.0.0.1:8080/logout
//
// Endpoints:
//
//	GET  /                    the sign-in page; /second-factor and /account follow it
//	GET  /static/…            the pages' script, style and icon (web/, embedded)
//	GET  /session             JSON for the pages: the visitor's step and the user's factors
//	POST /login/password      username, password: opens a session
//	POST /login/push          sends a push and waits for its answer
//	POST /login/push/stream   the same push for a page, as server-sent events
//	POST /login/push/finish   logs in the session whose streamed push was approved
//	POST /login/totp          code: checks a TOTP code
//	POST /login/sms           sends a code by SMS to the number on record
//	POST /login/sms/check     code: checks the code sent by SMS
//	POST /logout              ends the session
//	GET  /me                  only for a session past both steps
//	POST /enroll/totp         a new TOTP factor: JSON {factor_sid, uri, qr}
//	GET  /enroll/totp/qr.png  the pending factor's URI as a QR code
//	POST /enroll/totp/verify  code: the app's first code verifies the factor
//	POST /enroll/push/token   name: JSON {token, identity, service_sid, …} for the phone's app
//	POST /enroll/push/done    records the phone that this session's token enrolled
//	POST /login/passkey/options  WebAuthn request options: usernameless, or the session user's
//	POST /login/passkey       the browser's assertion (JSON): signs in
//	POST /enroll/passkey      WebAuthn creation options for a new passkey
//	POST /enroll/passkey/verify  the browser's new credential (JSON): records the passkey
//	POST /hooks/verify        Verify's webhook (when TWILIO_AUTH_TOKEN is set)
//
// A session past the password alone may enroll a user's first factor; a
// user who has one needs a full login to add another. A phone is recorded
// only by /enroll/push/done in the session that asked for its token, and
// a logged-in session gets no token while one given past the password
// alone may still be live. The webhook ends a waiting push at once (pushes
// are otherwise polled every 10 s, as a safety net). Register
// https://<your host>/hooks/verify with client.Webhooks.Create, or in the
// Console under Verify → Services → Webhooks, for challenge.approved and
// challenge.denied; behind a proxy, pass that exact URL as -public-url (or
// VERIFY_WEBHOOK_PUBLIC_URL). During an auth token rotation, put the old
// token in TWILIO_AUTH_TOKEN_PREVIOUS.
//
// What it defends against, with the numbers in limits.go: password and
// code guessing (each try is counted per client address and per user
// before it is checked, then waits grow from 1 s up to a lock-out of one
// try per 15 min, 1 min or 1 h), push bombing (one prompt at a time, which
// expires when the login stops waiting; unapproved pushes per address and
// per user and day), SMS bombing and billing (each code sent is counted
// per session, per address and per user and day before it is sent), floods (read, write and idle timeouts, forms of 4 KiB
// at most, no multipart; at most 10 sessions of each kind per user),
// cross-site requests (http.CrossOriginProtection) and a session cookie
// sent over plain http (Secure, named __Host-session). -insecure-cookie
// drops Secure for plain http on a host other than localhost;
// -trust-proxy-header names a proxy's header with the client address;
// -read-timeout is how long a client may take to send a request.
//
// Several instances behind a load balancer share webhook events and their
// de-duplication over Redis with -redis redis://host:6379/0 (or
// REDIS_URL): a push waiting on one instance then ends as soon as the
// webhook reaches any of them (see docs/instances.md). Sessions and limits
// stay per instance, so route each visitor to one (sticky sessions).
//
// -passkey-origin https://example.com (or VERIFY_PASSKEY_ORIGIN) serves
// passkeys: sign-in with a passkey alone, a passkey as the second factor,
// and registering one; it makes that site the service's relying party.
//
// -base-url (or VERIFY_BASE_URL) points it at another API, such as
// go run ./cmd/verify-fake -webhook http://127.0.0.1:8080/hooks/verify.
// The tests drive every step end to end against verifytest, with its real
// webhook deliveries, and the floods against the built command.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/internal/bind"
	"github.com/verifykit/verify-go/redisevents"
)

// app holds what the handlers share.
type app struct {
	verify      *verify.Client // one for the process
	serviceSID  string
	users       *users
	sessions    *sessions
	pushes      *pushSlots
	pushTimeout time.Duration       // how long a login waits for the phone
	events      events              // challenge answers from the webhook, for Wait
	hooks       http.Handler        // POST /hooks/verify; nil without an auth token
	waitOptions *verify.WaitOptions // {Events: events} with webhooks; nil (poll every second) without
	attempts    *attempts           // passwords and codes, by client address and by user
	addrHeader  string              // the proxy's header with the client address; "": the connection's
	now         func() time.Time    // the clock of sessions, limits and enrollments
	log         *log.Logger         // errors the user cannot act on
	hookLog     *slog.Logger        // each webhook delivery and each one refused, at info level
	// passkeys serves the passkey endpoints and makes the pages show their
	// buttons: with -passkey-origin, once the service's relying party is set.
	passkeys      bool
	passkeyLogins *passkeyLogins // usernameless passkey prompts, by their cookie
	// passkeyHost is the host (and port) of -passkey-origin: the pages show
	// their passkey buttons only when reached by it, where WebAuthn works.
	passkeyHost string
}

// events carries webhook events to the Waits of push logins: an EventHub
// in this process, or a redisevents.Bus shared with the other instances.
type events interface {
	verify.EventSource
	Publish(context.Context, *verify.Event) error
}

// newApp wires the handlers' state. hooks says how to check webhook
// deliveries; without an auth token there is no /hooks/verify and push
// logins poll. ev carries the events to the logins (nil: an EventHub of
// this process). now is the clock of sessions, push limits and enrollments.
func newApp(client *verify.Client, serviceSID string, us *users, hooks verify.WebhookConfig, ev events, now func() time.Time) *app {
	if ev == nil {
		ev = verify.NewEventHub()
	}
	a := &app{
		verify: client, serviceSID: serviceSID, users: us,
		sessions: newSessions(now), attempts: newAttempts(now), pushes: newPushSlots(now), passkeyLogins: newPasskeyLogins(now),
		pushTimeout: 60 * time.Second, events: ev, now: now, log: log.Default(), hookLog: slog.Default(),
	}
	if len(hooks.AuthTokens) > 0 {
		hooks.OnReject = a.onReject
		a.hooks = verify.NewWebhookHandler(hooks, a.onEvent)
		a.waitOptions = &verify.WaitOptions{Events: a.events} // polls only every 10 s, as a safety net
	}
	return a
}

// main serves the login until the listener fails.
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
	if err := us.add(cfg.user, cfg.password, cfg.identity, factors{push: cfg.pushFactor, totp: cfg.totpFactor, phone: cfg.phone}); err != nil {
		log.Fatal(err)
	}
	hooks := verify.WebhookConfig{AuthTokens: verify.Secrets(cfg.authTokens...), PublicURL: cfg.publicURL}
	var ev events // nil: an EventHub
	if cfg.redisURL != "" {
		bus, addr, err := openBus(cfg.redisURL)
		if err != nil {
			log.Fatal(err)
		}
		defer bus.Close()
		ev, hooks.Dedup = bus, bus.Bus
		log.Printf("webhook events and de-duplication shared over Redis at %s", addr)
	}
	a := newApp(client, cfg.serviceSID, us, hooks, ev, time.Now)
	a.sessions.secure, a.passkeyLogins.secure = !cfg.insecureCookie, !cfg.insecureCookie
	if cfg.passkeyOrigin != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		changed, err := configurePasskeys(ctx, client, cfg.serviceSID, cfg.passkeyOrigin)
		cancel()
		if err != nil {
			log.Fatalf("passkeys: %v", err)
		}
		if changed {
			log.Printf("passkeys: the service's relying party is now %s, for the pages at %s (discoverable credentials and user verification required)",
				hostOf(cfg.passkeyOrigin), cfg.passkeyOrigin)
		}
		a.passkeys, a.passkeyHost = true, hostOf(cfg.passkeyOrigin)
	}
	a.addrHeader = cfg.addrHeader
	if a.hooks == nil {
		log.Print("no TWILIO_AUTH_TOKEN to check webhooks with: /hooks/verify is off, push logins poll every second, and push enrollment ends with POST /enroll/push/done")
	}
	l, err := bind.TCP(cfg.addr) // bound before it says so; a busy port names the next one
	if err != nil {
		log.Fatal(err)
	}
	srv := newServer(a.routes(), cfg.readTimeout, a.pushTimeout)
	log.Printf("listening on http://%s, Verify API at %s", l.Addr(), client.BaseURL())
	if a.passkeys {
		log.Printf("passkeys work on the pages at %s/ only: WebAuthn ties them to that origin", cfg.passkeyOrigin)
	}
	log.Fatal(srv.Serve(l))
}

// hostOf is the host, with its port if any, of origin, which parseOrigin
// accepted.
func hostOf(origin string) string {
	_, host, _ := strings.Cut(origin, "://")
	return host
}

// redisBus is a redisevents.Bus with the client it owns; Close closes both.
type redisBus struct {
	*redisevents.Bus
	rdb *redis.Client
}

func (b *redisBus) Close() error {
	return errors.Join(b.Bus.Close(), b.rdb.Close())
}

// openBus connects a redisevents.Bus to the Redis at rawURL
// (redis://[user:password@]host:port/db, or rediss:// for TLS) and returns
// it with the address, for the log: never the URL, which may hold a
// password. The Bus subscribes in the background; an unreachable Redis
// shows as 503s to Twilio and pushes ending on their safety poll, and in
// the log.
func openBus(rawURL string) (*redisBus, string, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, "", errors.New("-redis (REDIS_URL) must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379/0")
	}
	rdb := redis.NewClient(opt)
	return &redisBus{redisevents.New(rdb, redisevents.WithLogger(slog.Default())), rdb}, opt.Addr, nil
}

// newServer is the HTTP server for h with every timeout set, so that
// clients that send slowly or never read cannot hold connections: a client
// has readTimeout to send its request, headers and body (a few KiB at
// most); an answer may take the push's wait and 10 s more; an idle
// connection is closed after a minute.
func newServer(h http.Handler, readTimeout, pushTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      pushTimeout + 10*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
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
