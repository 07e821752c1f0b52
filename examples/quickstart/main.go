// Command quickstart walks through the Challenge API: TOTP and push
// challenges, waiting for an answer, expiry, and listing.
//
// With no Twilio environment it runs against verifytest's in-process fake,
// so it needs no account: it creates a Verify service with push and TOTP
// settings through the API, then runs the tour on it. With TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
// VERIFY_SERVICE_SID, VERIFY_IDENTITY and VERIFY_FACTOR_SID set it creates
// and reads real challenges instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

func main() {
	err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag set has printed the error and the usage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if live := liveConfig(); live != nil {
		err = runLive(ctx, os.Stdout, live)
	} else {
		err = runFake(ctx, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// parseFlags reads args (without the program name): there are no flags
// and no arguments, but -h prints what the command does and which
// variables choose its mode, under the name quickstart.
func parseFlags(args []string, usage io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(usage, `Usage of quickstart:
  go run ./examples/quickstart

A tour of the Challenge API: a service with push and TOTP settings, TOTP
and push challenges, waiting for an answer, expiry, and listing. It runs
against an in-process fake, no account needed, unless TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (or
TWILIO_API_KEY and TWILIO_API_SECRET), VERIFY_SERVICE_SID, VERIFY_IDENTITY
and VERIFY_FACTOR_SID are all set: then it creates a real challenge for
that factor. It takes no flags.
`)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(usage, "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errors.New("unexpected argument")
	}
	return nil
}

// exampleFCMCredential stands for the SID of your FCM credential.
const exampleFCMCredential = "CR0123456789abcdef0123456789abcdef"

type live struct{ service, identity, factor string }

// liveConfig returns the real-API settings when all of them are set.
func liveConfig() *live {
	l := &live{os.Getenv("VERIFY_SERVICE_SID"), os.Getenv("VERIFY_IDENTITY"), os.Getenv("VERIFY_FACTOR_SID")}
	hasCreds := os.Getenv("TWILIO_ACCOUNT_SID") != "" &&
		(os.Getenv("TWILIO_AUTH_TOKEN") != "" || os.Getenv("TWILIO_API_KEY") != "")
	if !hasCreds || l.service == "" || l.identity == "" || l.factor == "" {
		return nil
	}
	return l
}

func runFake(ctx context.Context, out io.Writer) error {
	fmt.Fprintln(out, "mode: fake (verifytest in-process; set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, VERIFY_SERVICE_SID, VERIFY_IDENTITY, VERIFY_FACTOR_SID for the real API)")
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	identity := "user-7f3a9c21"

	// 0. The service: the name users see, and the settings of its factors.
	svc, err := client.Services.Create(ctx, &verify.CreateServiceParams{
		FriendlyName: "Example Corp",
		// Pushes to Android go through your FCM credential (Console →
		// Credentials); the fake keeps the SID and sends nothing.
		Push: &verify.PushSettings{FCMCredentialSID: exampleFCMCredential},
		// New TOTP factors: 8-digit codes every 30 s, one step of clock
		// skew either side, "Example Corp" in the authenticator app.
		TOTP: &verify.TOTPSettings{Issuer: "Example Corp", CodeLength: 8, TimeStep: 30 * time.Second, Skew: verify.Ptr(1)},
	})
	if err != nil {
		return fmt.Errorf("service create: %w", err)
	}
	service := svc.SID
	fmt.Fprintf(out, "0. service created:         %s %q: TOTP codes of %d digits every %s, issuer %q\n",
		svc.SID, svc.FriendlyName, svc.TOTP.CodeLength, svc.TOTP.TimeStep, svc.TOTP.Issuer)

	// 1. TOTP: the user types the code from their authenticator app.
	totp, err := srv.NewTOTPFactor(service, identity, nil) // the service's TOTP settings
	if err != nil {
		return err
	}
	code := totp.Code()
	ch, err := client.Challenges.Create(ctx, service, identity, &verify.CreateChallengeParams{
		FactorSID: totp.SID, AuthPayload: verify.NewSecret(code),
	})
	if err != nil {
		return fmt.Errorf("TOTP create: %w", err)
	}
	fmt.Fprintf(out, "1. TOTP code accepted:      %s -> %s (%d digits, as the service says)\n", ch.SID, ch.Status, len(code))

	// 2. A wrong code leaves the challenge pending.
	ch, err = client.Challenges.Create(ctx, service, identity, &verify.CreateChallengeParams{FactorSID: totp.SID})
	if err != nil {
		return err
	}
	ch, err = client.Challenges.Update(ctx, service, identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(strings.Repeat("0", len(code)))})
	if err != nil {
		return fmt.Errorf("TOTP update: %w", err)
	}
	refused := ch.SID
	fmt.Fprintf(out, "2. wrong TOTP code refused: %s -> %s (open for another try until it expires)\n", ch.SID, ch.Status)

	// 3. Push: the user's phone approves while the login handler waits.
	device, err := srv.NewPushDevice(service, identity)
	if err != nil {
		return err
	}
	ch, err = client.Challenges.Create(ctx, service, identity, &verify.CreateChallengeParams{
		FactorSID: device.FactorSID,
		Details: &verify.Details{
			Message: "Log in to Example Corp?",
			Fields:  []verify.Field{{Label: "Location", Value: "Lyon, FR"}, {Label: "IP", Value: "203.0.113.7"}},
		},
		HiddenDetails: verify.NewSecretMap(map[string]string{"session": "web-42"}),
	})
	if err != nil {
		return fmt.Errorf("push create: %w", err)
	}
	approved := make(chan error, 1)
	go func() {
		time.Sleep(150 * time.Millisecond) // the user reaches for the phone
		_, err := device.Approve(ctx, ch.SID)
		approved <- err
	}()
	ch, err = client.Challenges.Wait(ctx, service, identity, ch.SID, &verify.WaitOptions{Interval: 50 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("push wait: %w", err)
	}
	if err := <-approved; err != nil {
		return fmt.Errorf("device approve: %w", err)
	}
	fmt.Fprintf(out, "3. push approved on device: %s -> %s (%q, %d fields)\n", ch.SID, ch.Status, ch.Details.Message, len(ch.Details.Fields))

	// 4. A push nobody answers expires; answering it late is refused.
	ch, err = client.Challenges.Create(ctx, service, identity, &verify.CreateChallengeParams{
		FactorSID: device.FactorSID, Details: &verify.Details{Message: "Log in from a new browser?"},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "4. push nobody answers:     %s -> %s\n", ch.SID, ch.Status)
	fmt.Fprintln(out, "   (the demo skips the fake's clock 6 minutes ahead; a challenge expires 5 minutes after it is created)")
	srv.Advance(6 * time.Minute) // the fake's clock; nobody sleeps
	old, err := client.Challenges.Fetch(ctx, service, identity, refused)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	fmt.Fprintf(out, "   step 2's challenge, never answered: %s -> %s\n", old.SID, old.Status)
	_, err = device.Approve(ctx, ch.SID)
	if !errors.Is(err, verify.ErrChallengeExpired) {
		return fmt.Errorf("late approve: got %v, want ErrChallengeExpired", err)
	}
	var apiErr *verify.APIError
	errors.As(err, &apiErr)
	fmt.Fprintf(out, "   late answer to this push refused: %s -> ErrChallengeExpired (code %d, HTTP %d)\n", ch.SID, apiErr.Code, apiErr.Status)

	// 5. List everything for the identity, page by page.
	return summarize(ctx, out, client, service, identity, nil)
}

func runLive(ctx context.Context, out io.Writer, l *live) error {
	fmt.Fprintln(out, "mode: live (real Twilio API, credentials from the environment)")
	client, err := verify.NewClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	ch, err := client.Challenges.Create(ctx, l.service, l.identity, &verify.CreateChallengeParams{
		FactorSID: l.factor,
		Details:   &verify.Details{Message: "verify-go quickstart: approve or deny this test login"},
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Fprintf(out, "1. created %s (%s), expires %s\n", ch.SID, ch.FactorType, ch.ExpirationDate.Format(time.RFC3339))
	if ch.FactorType == verify.FactorTypePush {
		fmt.Fprintln(out, "2. waiting up to 60 s for the device to answer...")
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		got, err := client.Challenges.Wait(wctx, l.service, l.identity, ch.SID, nil)
		cancel()
		switch {
		case err == nil:
			fmt.Fprintf(out, "   %s -> %s\n", got.SID, got.Status)
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Fprintln(out, "   no answer within 60 s; the challenge stays pending until it expires")
		default:
			return fmt.Errorf("wait: %w", err)
		}
	} else {
		got, err := client.Challenges.Fetch(ctx, l.service, l.identity, ch.SID)
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		fmt.Fprintf(out, "2. fetched %s -> %s (answer it with Update and a TOTP code)\n", got.SID, got.Status)
	}
	return summarize(ctx, out, client, l.service, l.identity, &verify.ListChallengesParams{Order: verify.OrderDesc, ListParams: verify.ListParams{Limit: 50}})
}

// summarize lists challenges and prints a count per status.
func summarize(ctx context.Context, out io.Writer, client *verify.Client, service, identity string, params *verify.ListChallengesParams) error {
	counts := map[verify.ChallengeStatus]int{}
	total := 0
	for ch, err := range client.Challenges.List(ctx, service, identity, params) {
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		counts[ch.Status]++
		total++
	}
	statuses := make([]string, 0, len(counts))
	for s := range counts {
		statuses = append(statuses, string(s))
	}
	sort.Strings(statuses)
	fmt.Fprintf(out, "5. listed %d challenges for %s:", total, identity)
	for _, s := range statuses {
		fmt.Fprintf(out, " %s=%d", s, counts[verify.ChallengeStatus(s)])
	}
	fmt.Fprintln(out)
	return nil
}
