// Command verify-fake runs verifytest's fake Verify API (challenges,
// enrollment: entities, factors, access tokens, webhooks; services and
// one-time codes) as a standalone server on a loopback port, for curl and
// for clients in other languages.
//
//	go run ./cmd/verify-fake -addr 127.0.0.1:4010 -push-answer approve
//
// It enrolls a TOTP factor and a push factor through the API, as a login
// backend and its mobile app would, prints its URL, credentials, the
// service, identity and factors (with the TOTP secret, a current code and
// the command that prints later ones), then serves until SIGINT or SIGTERM
// and exits 0. Push challenges are
// answered by the simulated phone when -push-answer is approve or deny.
// With -webhook URL it registers that URL as a webhook for every event
// before enrolling, so the receiver there gets the factor events of the
// enrollment, then the challenge events, signed with the printed auth token;
// each attempt is logged on stderr ("webhook delivered", "webhook refused"
// for a 4xx, such as a receiver with another auth token, or "webhook
// delivery failed", retried). Every code it "sends" by SMS, call, email or
// WhatsApp is logged on stderr too, as the user would read it ("message
// sent" with channel, to and body): the walk-through's SMS arrive there.
// A busy port, or an -addr that is not on a loopback host, ends it with
// exit status 1 and a message naming an address to pass instead.
//
//	go run ./cmd/verify-fake totp SECRET
//
// prints the current code of a TOTP factor from its base32 secret (6
// digits, 30 s, SHA-1: the fake's defaults) and exits, without a server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/internal/bind"
	"github.com/verifykit/verify-go/verifytest"
)

// config is what the flags set.
type config struct {
	addr     string        // loopback host:port to listen on
	identity string        // the seeded entity
	answer   string        // approve, deny or none: what the phone does with push challenges
	delay    time.Duration // how long the phone takes to answer
	webhook  string        // a URL to register for every event; empty: none
	log      *slog.Logger  // each webhook delivery attempt and each message sent, at info level; nil: none
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "totp" {
		os.Exit(totpCommand(os.Args[2:], os.Stdout, os.Stderr, time.Now))
	}
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag set has printed the error and the usage
	}
	if cfg.answer != "approve" && cfg.answer != "deny" && cfg.answer != "none" {
		fmt.Fprintln(os.Stderr, "verify-fake: -push-answer must be approve, deny or none")
		os.Exit(2)
	}
	cfg.log = slog.Default() // stderr, beside the banner on stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "verify-fake:", err)
		os.Exit(1)
	}
}

// parseConfig reads the flags in args (without the program name), which
// hold no other argument; the usage, under the name verify-fake whatever
// the binary's path (go run builds one in a cache), goes to usage.
func parseConfig(args []string, usage io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("verify-fake", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:4010", "loopback address to listen on")
	fs.StringVar(&cfg.identity, "identity", "user-0001-demo", "identity of the seeded entity")
	fs.StringVar(&cfg.answer, "push-answer", "none", "how the simulated phone answers push challenges: approve, deny or none")
	fs.DurationVar(&cfg.delay, "push-delay", 2*time.Second, "how long the phone takes to answer")
	fs.StringVar(&cfg.webhook, "webhook", "", "a URL to send every event to, signed with the auth token (absolute http or https)")
	fs.Usage = func() {
		fmt.Fprint(usage, "Usage of verify-fake:\n"+
			"  verify-fake [flags]        serve a seeded fake Verify API until Ctrl-C\n"+
			"  verify-fake totp SECRET    print the current code of a TOTP secret, and exit\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q; the one command is: verify-fake totp SECRET", fs.Arg(0))
		fmt.Fprintln(usage, "verify-fake:", err)
		fs.Usage()
		return cfg, err
	}
	return cfg, nil
}

// run seeds a fake, prints how to reach it, and serves until ctx ends.
func run(ctx context.Context, out io.Writer, cfg config) error {
	identity, answer, delay := cfg.identity, cfg.answer, cfg.delay
	l, err := listen(cfg.addr)
	if err != nil {
		return err
	}
	opts := []verifytest.Option{verifytest.WithListener(l)}
	if cfg.log != nil {
		opts = append(opts, verifytest.WithDeliveryLogger(cfg.log), verifytest.WithMessageLogger(cfg.log))
	}
	srv := verifytest.NewServer(opts...)
	defer srv.Close()
	hook := ""
	if cfg.webhook != "" {
		sid, err := srv.WebhookURL(cfg.webhook)
		if err != nil {
			return fmt.Errorf("-webhook: %w", err)
		}
		hook = fmt.Sprintf("  webhook          %s  %s  (every event, signed with the auth token)\n", sid, cfg.webhook)
	}
	client := srv.Client()
	defer client.CloseIdleConnections()
	totp, err := enrollTOTP(ctx, srv, client, identity)
	if err != nil {
		return err
	}
	dev, err := enrollPush(ctx, srv, client, identity)
	if err != nil {
		return err
	}
	svc := srv.URL + "/v2/Services/" + srv.ServiceSID()
	base := svc + "/Entities/" + identity
	code := totp.Code() // read once: a second read may fall in the next time step
	fmt.Fprintf(out, `verify-fake listening on %s
  account SID      %s
  auth token       %s
  service SID      %s
  identity         %s
  TOTP factor      %s  secret %s  code now %s
  next codes       go run ./cmd/verify-fake totp %s
  push factor      %s  (phone answers: %s after %s)
  SMS number       %s  (or any other: the codes sent appear in this log, "message sent")
%s
try:
  curl -u %s:%s -d FactorSid=%s -d AuthPayload=%s %s/Challenges
  curl -u %s:%s %s/Challenges
  curl -u %s:%s -d FactorType=totp -d FriendlyName=laptop %s/Factors
  curl -u %s:%s --data-urlencode To=%s -d Channel=sms %s/Verifications
  curl -u %s:%s --data-urlencode To=%s -d Code=THE-CODE-LOGGED %s/VerificationCheck

examples/login against this fake, in another terminal:
  export TWILIO_ACCOUNT_SID=%s TWILIO_AUTH_TOKEN=%s VERIFY_SERVICE_SID=%s VERIFY_IDENTITY=%s VERIFY_PUSH_FACTOR_SID=%s VERIFY_TOTP_FACTOR_SID=%s VERIFY_BASE_URL=%s
  go run -C examples/login . -base-url %s -password demo -phone %s
and, after the same export:
  go run ./examples/enroll   # a new TOTP factor; type its codes, which go run ./cmd/verify-fake totp <its secret> prints
  go run ./examples/report   # the identity's challenges
`, srv.URL, srv.AccountSID(), srv.AuthToken(), srv.ServiceSID(), identity,
		totp.SID, totp.Secret, code, totp.Secret, dev.FactorSID, answer, delay, demoPhone, hook,
		srv.AccountSID(), srv.AuthToken(), totp.SID, code, base,
		srv.AccountSID(), srv.AuthToken(), base,
		srv.AccountSID(), srv.AuthToken(), base,
		srv.AccountSID(), srv.AuthToken(), demoPhone, svc,
		srv.AccountSID(), srv.AuthToken(), demoPhone, svc,
		srv.AccountSID(), srv.AuthToken(), srv.ServiceSID(), identity, dev.FactorSID, totp.SID, srv.URL, srv.URL, demoPhone)
	if answer == "none" {
		<-ctx.Done()
		return nil
	}
	return answerPushes(ctx, client, srv.ServiceSID(), dev, answer, delay)
}

// demoPhone is the phone number the banner suggests for SMS codes, Twilio's
// own example number; the fake sends to any.
const demoPhone = "+15017122661"

// listen opens the loopback address the fake serves on, with an error
// that says what to pass instead when it cannot: the fake has no TLS and
// prints its credentials, so it never listens where other machines reach.
func listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		port = "4010"
	}
	ip := net.ParseIP(host)
	notLoopback := fmt.Errorf("-addr %s is not a loopback host:port; the fake serves plain http to this machine only: pass -addr %s",
		addr, net.JoinHostPort("127.0.0.1", port))
	if err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return nil, notLoopback
	}
	l, err := bind.TCP(addr) // a busy port names the next one
	if err != nil {
		return nil, err
	}
	if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() { // localhost resolved elsewhere
		_ = l.Close()
		return nil, notLoopback
	}
	return l, nil
}

// enrollTOTP creates a TOTP factor through the API and verifies it with the
// code an authenticator app would show.
func enrollTOTP(ctx context.Context, srv *verifytest.Server, client *verify.Client, identity string) (*verifytest.TOTPFactor, error) {
	f, err := client.Factors.CreateTOTP(ctx, srv.ServiceSID(), identity, &verify.CreateTOTPFactorParams{FriendlyName: "verify-fake TOTP"})
	if err != nil {
		return nil, err
	}
	app, err := srv.TOTPFactor(srv.ServiceSID(), identity, f.SID)
	if err != nil {
		return nil, err
	}
	if _, err := client.Factors.Verify(ctx, srv.ServiceSID(), identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(app.Code())}); err != nil {
		return nil, err
	}
	return app, nil
}

// enrollPush makes an access token and lets the simulated phone enroll
// with it, as a mobile app with the Verify Push SDK does.
func enrollPush(ctx context.Context, srv *verifytest.Server, client *verify.Client, identity string) (*verifytest.Device, error) {
	tok, err := client.AccessTokens.Create(ctx, srv.ServiceSID(), identity, &verify.CreateAccessTokenParams{FactorFriendlyName: "verify-fake phone"})
	if err != nil {
		return nil, err
	}
	dev, err := srv.NewDevice(srv.ServiceSID(), identity)
	if err != nil {
		return nil, err
	}
	return dev, dev.Enroll(ctx, tok.Token.Reveal())
}

// answerPushes plays the phone: every pending push challenge is answered
// after delay, until ctx ends.
func answerPushes(ctx context.Context, client *verify.Client, service string, dev *verifytest.Device, answer string, delay time.Duration) error {
	p := &phone{client: client, service: service, dev: dev, answer: answer, delay: delay, seen: map[string]time.Time{}}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		p.poll(ctx)
	}
}

// phone answers the push challenges of its device.
type phone struct {
	client  *verify.Client
	service string
	dev     *verifytest.Device
	answer  string        // approve or deny
	delay   time.Duration // how long a challenge stays pending before the phone answers
	// seen holds when each pending challenge was first listed; a challenge
	// is forgotten once it leaves pending (answered, here or elsewhere, or
	// expired), so a long-running fake does not grow.
	seen map[string]time.Time
}

// poll lists the device's pending challenges once and answers those seen
// pending for delay.
func (p *phone) poll(ctx context.Context) {
	pending := map[string]bool{}
	for ch, err := range p.client.Challenges.List(ctx, p.service, p.dev.Identity,
		&verify.ListChallengesParams{FactorSID: p.dev.FactorSID, Status: verify.StatusPending}) {
		if err != nil {
			return // not every pending one was listed: forget nothing
		}
		pending[ch.SID] = true
		first, ok := p.seen[ch.SID]
		if !ok {
			p.seen[ch.SID] = time.Now()
			continue
		}
		if time.Since(first) < p.delay {
			continue
		}
		respond := p.dev.Approve
		if p.answer == "deny" {
			respond = p.dev.Deny
		}
		if _, err := respond(ctx, ch.SID); err == nil {
			delete(p.seen, ch.SID)
		}
	}
	for sid := range p.seen {
		if !pending[sid] {
			delete(p.seen, sid)
		}
	}
}
