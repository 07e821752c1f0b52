// Command enroll walks a user through TOTP enrollment: it creates the
// factor, shows its otpauth:// URI as a QR code in the terminal, reads the
// first code, verifies the factor, then logs in with a TOTP challenge.
//
// With no Twilio environment it runs against verifytest's in-process fake
// and types the fake's current codes itself:
//
//	go run ./examples/enroll
//
// With TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and VERIFY_SERVICE_SID set it
// enrolls for real; scan the code with an authenticator app and type what
// it shows when asked (or pass -code, and -login-code for the login step):
//
//	go run ./examples/enroll -identity user-0001-ada -name "Ada's phone"
//
// -base-url (or VERIFY_BASE_URL; the flag wins) points it at another API
// with those same variables, such as go run ./cmd/verify-fake, whose export
// line sets them all. Type the codes as against Twilio; there,
// go run ./cmd/verify-fake totp SECRET prints what an app holding the
// printed secret shows. To pass the codes as flags, with no typing, choose
// the secret too: -code is the code for enrollment, -login-code the code to
// log in (within one 30 s step, the same code):
//
//	go run ./examples/enroll -secret JBSWY3DPEHPK3PXP -code "$(go run ./cmd/verify-fake totp JBSWY3DPEHPK3PXP)" -login-code "$(go run ./cmd/verify-fake totp JBSWY3DPEHPK3PXP)"
//
// A code neither passed nor typed (stdin closed) ends the run with exit
// status 1 and a message naming the flag to pass.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pquerna/otp"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// settings are the command's inputs.
type settings struct {
	identity, name string
	code           string // the first code, for enrollment; empty: ask (live) or read the fake's (demo)
	loginCode      string // the code for the login step; empty: ask (live) or read the fake's (demo)
	secret         string // the factor's base32 secret; empty: the API makes one
	invert         bool   // draw the QR code for a light terminal
	baseURL        string // another Verify API, such as verify-fake; empty: Twilio's
	service        string // VERIFY_SERVICE_SID
	credentials    bool   // TWILIO_ACCOUNT_SID is set
}

func main() {
	s, err := parseSettings(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag set has printed the error and the usage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Stdin, s); err != nil {
		fmt.Fprintln(os.Stderr, "enroll:", err)
		os.Exit(1)
	}
}

// parseSettings reads args (without the program name) and the environment
// through getenv; -base-url wins over VERIFY_BASE_URL.
func parseSettings(args []string, getenv func(string) string, usage io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&s.identity, "identity", "user-0001-enroll", "your id for the user: 8–64 dash-separated letters and digits")
	fs.StringVar(&s.name, "name", "verify-go demo", "the factor's friendly name; the account name in the authenticator app")
	fs.StringVar(&s.code, "code", "", "the code for enrollment, the first the app shows (default: ask, or the fake's code in demo mode)")
	fs.StringVar(&s.loginCode, "login-code", "", "the code to log in with once enrolled (default: ask, or the fake's code in demo mode)")
	fs.StringVar(&s.secret, "secret", "", "the factor's base32 secret (default: the API makes one); knowing it, you can compute -code and -login-code beforehand")
	fs.BoolVar(&s.invert, "invert", false, "draw the QR code for a terminal with a light background")
	fs.StringVar(&s.baseURL, "base-url", getenv("VERIFY_BASE_URL"),
		"Verify API base URL, e.g. http://127.0.0.1:4010 for go run ./cmd/verify-fake (env VERIFY_BASE_URL; empty: Twilio)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	s.service, s.credentials = getenv("VERIFY_SERVICE_SID"), getenv("TWILIO_ACCOUNT_SID") != ""
	return s, nil
}

// run enrolls against the API at s.baseURL, or Twilio's when the service
// and credentials are set, with the credentials in the environment; else
// against an in-process fake.
func run(ctx context.Context, out io.Writer, in io.Reader, s settings) error {
	if s.baseURL != "" || (s.service != "" && s.credentials) {
		if s.service == "" {
			return errors.New("-base-url (or VERIFY_BASE_URL) needs VERIFY_SERVICE_SID too; verify-fake prints it in its export line")
		}
		opts := []verify.Option{verify.WithUserAgent("enroll-example/1.0")}
		if s.baseURL != "" {
			opts = append(opts, verify.WithBaseURL(s.baseURL))
		}
		client, err := verify.NewClient(opts...)
		if err != nil {
			return err
		}
		defer client.CloseIdleConnections()
		if s.baseURL != "" {
			fmt.Fprintf(out, "mode: API at %s (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and VERIFY_SERVICE_SID from the environment)\n", client.BaseURL())
		} else {
			fmt.Fprintln(out, "mode: live (Twilio)")
		}
		ask := newPrompt(out, in)
		return enroll(ctx, out, client, s.service, s,
			ask.code("code for enrollment", "-code CODE (with -secret, you can compute it beforehand)"),
			ask.code("fresh code to log in", "-login-code CODE (within one 30 s step, the same as -code)"))
	}
	fmt.Fprintln(out, "mode: demo (verifytest in-process; set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and VERIFY_SERVICE_SID for the real API, and VERIFY_BASE_URL for another)")
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	// The demo's "authenticator app" is the fake, which knows each factor's code.
	appCode := func(what string) func(factorSID string) (string, error) {
		return func(factorSID string) (string, error) {
			f, err := srv.TOTPFactor(srv.ServiceSID(), s.identity, factorSID)
			if err != nil {
				return "", err
			}
			code := f.Code() // read once, so that the code printed is the code typed
			fmt.Fprintf(out, "(demo: %s, the app shows %s)\n", what, code)
			return code, nil
		}
	}
	return enroll(ctx, out, client, srv.ServiceSID(), s, appCode("code for enrollment"), appCode("code to log in"))
}

// enroll is the flow itself: create, show, verify, log in. firstCode and
// loginCode give the codes the user types, given the factor SID, when
// s.code and s.loginCode are empty.
func enroll(ctx context.Context, out io.Writer, client *verify.Client, service string, s settings,
	firstCode, loginCode func(factorSID string) (string, error)) error {
	f, err := client.Factors.CreateTOTP(ctx, service, s.identity, &verify.CreateTOTPFactorParams{FriendlyName: s.name, Secret: verify.NewSecret(s.secret)})
	if err != nil {
		return fmt.Errorf("creating the factor: %w", err)
	}
	fmt.Fprintf(out, "1. factor %s created (%s); scan this with an authenticator app:\n\n", f.SID, f.Status)
	if err := showQR(out, f.Binding.URI.Reveal(), s.invert); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n   or type the secret by hand: %s\n", f.Binding.Secret.Reveal())
	if s.baseURL != "" {
		fmt.Fprintf(out, "   against verify-fake, this prints what the app shows now: go run ./cmd/verify-fake totp %s\n", f.Binding.Secret.Reveal())
	}

	code := s.code
	if code == "" {
		if code, err = firstCode(f.SID); err != nil {
			return err
		}
	}
	verified, err := client.Factors.Verify(ctx, service, s.identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(code)})
	if err != nil {
		return fmt.Errorf("verifying the factor: %w", err)
	}
	if verified.Status != verify.FactorStatusVerified {
		return fmt.Errorf("the code was not accepted: factor %s is still %s; run again and type the code the app shows now", f.SID, verified.Status)
	}
	fmt.Fprintf(out, "2. factor %s %s\n", f.SID, verified.Status)

	code = s.loginCode
	if code == "" {
		if code, err = loginCode(f.SID); err != nil {
			return err
		}
	}
	ch, err := client.Challenges.Create(ctx, service, s.identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(code)})
	if err != nil {
		return fmt.Errorf("logging in: %w", err)
	}
	fmt.Fprintf(out, "3. login with a TOTP challenge: %s -> %s\n", ch.SID, ch.Status)
	if !ch.Status.IsApproved() {
		return errors.New("the login code was not accepted; codes change every 30 s, try the current one")
	}
	return nil
}

// showQR draws the otpauth:// URI as a QR code with half-block characters.
func showQR(out io.Writer, uri string, invert bool) error {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return fmt.Errorf("reading the factor's URI: %w", err)
	}
	img, err := key.Image(512, 512)
	if err != nil {
		return fmt.Errorf("drawing the QR code: %w", err)
	}
	grid, err := qrModules(img)
	if err != nil {
		return err
	}
	return printQR(out, grid, invert)
}

// prompt asks the user for codes on in, one a line.
type prompt struct {
	out   io.Writer
	lines *bufio.Scanner
}

// newPrompt asks on out and reads the answers from in.
func newPrompt(out io.Writer, in io.Reader) *prompt {
	return &prompt{out: out, lines: bufio.NewScanner(in)}
}

// code returns a func that asks for a code, saying what it is for; flag
// says how to pass it instead. When in has no line left (stdin closed, as
// in a non-interactive run) it fails with an error naming flag.
func (p *prompt) code(what, flag string) func(string) (string, error) {
	return func(string) (string, error) {
		fmt.Fprintf(p.out, "%s (what the app shows now): ", what)
		if !p.lines.Scan() {
			fmt.Fprintln(p.out)
			if err := p.lines.Err(); err != nil {
				return "", fmt.Errorf("reading the %s: %w", what, err)
			}
			return "", fmt.Errorf("no %s: stdin is closed; pass %s", what, flag)
		}
		return strings.TrimSpace(p.lines.Text()), nil
	}
}
