// Command report lists an identity's challenges as CSV or as a per-status
// summary, for audits and dashboards.
//
//	go run ./examples/report -service VA… -identity user-0001 -status approved -format csv > approved.csv
//	go run ./examples/report -demo 2500 -format summary    # against a seeded in-process fake
//
// Credentials come from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or an API
// key), the service and identity from VERIFY_SERVICE_SID and VERIFY_IDENTITY
// unless -service and -identity are given. -base-url (or VERIFY_BASE_URL;
// the flag wins) points it at another API, such as go run ./cmd/verify-fake,
// whose export line sets all of these:
//
//	go run ./examples/report -base-url http://127.0.0.1:4010
//
// Progress goes to stderr, the report to stdout.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// options are the report's flags.
type options struct {
	service, identity string
	params            verify.ListChallengesParams
	format            string // csv or summary
	progressEvery     int
	baseURL           string // the Verify API; "" means Twilio's
	demo              int    // > 0: seed an in-process fake with this many challenges instead
}

func main() {
	o, err := parseOptions(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag set has printed the error and the usage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := command(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// parseOptions reads args (without the program name), with defaults from
// the environment through getenv; a flag wins over its variable.
func parseOptions(args []string, getenv func(string) string, usage io.Writer) (options, error) {
	var o options
	var status, order string
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.IntVar(&o.demo, "demo", 0, "seed an in-process fake with this many challenges and report on it")
	fs.StringVar(&o.baseURL, "base-url", getenv("VERIFY_BASE_URL"),
		"Verify API base URL, e.g. http://127.0.0.1:4010 for go run ./cmd/verify-fake (env VERIFY_BASE_URL; empty: Twilio)")
	fs.StringVar(&o.service, "service", getenv("VERIFY_SERVICE_SID"), "Verify service SID, VA… (env VERIFY_SERVICE_SID)")
	fs.StringVar(&o.identity, "identity", getenv("VERIFY_IDENTITY"), "entity identity (env VERIFY_IDENTITY)")
	fs.StringVar(&o.params.FactorSID, "factor", "", "only this factor (YF…)")
	fs.StringVar(&status, "status", "", "only this status: pending, approved, denied, expired")
	fs.StringVar(&order, "order", "", "asc or desc by creation date")
	fs.IntVar(&o.params.Limit, "limit", 0, "stop after this many challenges (0: all)")
	fs.IntVar(&o.params.PageSize, "page-size", 1000, "challenges per request, 1–1000")
	fs.StringVar(&o.format, "format", "summary", "csv or summary")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.params.Status, o.params.Order, o.progressEvery = verify.ChallengeStatus(status), verify.Order(order), 1000
	return o, nil
}

// command makes the client o asks for (a seeded in-process fake with -demo,
// else the API at o.baseURL or Twilio's, with credentials from the
// environment) and writes the report.
func command(ctx context.Context, o options, out, progress io.Writer) error {
	if o.demo > 0 {
		client, service, identity, cleanup, err := seedDemo(ctx, o.demo)
		if cleanup != nil {
			defer cleanup()
		}
		if err != nil {
			return err
		}
		o.service, o.identity = service, identity
		return run(ctx, client, o, out, progress)
	}
	opts := []verify.Option{verify.WithUserAgent("report-example/1.0")}
	if o.baseURL != "" {
		opts = append(opts, verify.WithBaseURL(o.baseURL))
	}
	client, err := verify.NewClient(opts...)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	return run(ctx, client, o, out, progress)
}

// run writes the report for o to out and progress to progress.
func run(ctx context.Context, client *verify.Client, o options, out, progress io.Writer) error {
	if o.format != "csv" && o.format != "summary" {
		return errors.New("-format must be csv or summary")
	}
	var w *csv.Writer
	if o.format == "csv" {
		w = csv.NewWriter(out)
		_ = w.Write([]string{"sid", "factor_sid", "factor_type", "status", "responded_reason", "date_created", "date_responded", "expiration_date", "message"})
	}
	counts := map[string]map[verify.ChallengeStatus]int{} // factor type → status → count
	n := 0
	start := time.Now()
	for ch, err := range client.Challenges.List(ctx, o.service, o.identity, &o.params) {
		if err != nil {
			return err
		}
		n++
		if w != nil {
			_ = w.Write([]string{ch.SID, ch.FactorSID, string(ch.FactorType), string(ch.Status), string(ch.RespondedReason),
				stamp(ch.DateCreated), stamp(ch.DateResponded), stamp(ch.ExpirationDate), ch.Details.Message})
		} else {
			if counts[string(ch.FactorType)] == nil {
				counts[string(ch.FactorType)] = map[verify.ChallengeStatus]int{}
			}
			counts[string(ch.FactorType)][ch.Status]++
		}
		if o.progressEvery > 0 && n%o.progressEvery == 0 {
			fmt.Fprintf(progress, "report: %d challenges (%s)\n", n, time.Since(start).Round(time.Millisecond))
		}
	}
	fmt.Fprintf(progress, "report: done, %d challenges in %s\n", n, time.Since(start).Round(time.Millisecond))
	if w != nil {
		w.Flush()
		return w.Error()
	}
	return writeSummary(out, counts, n)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// writeSummary prints a table of counts by factor type and status.
func writeSummary(out io.Writer, counts map[string]map[verify.ChallengeStatus]int, total int) error {
	statuses := []verify.ChallengeStatus{verify.StatusPending, verify.StatusApproved, verify.StatusDenied, verify.StatusExpired}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "factor type\t")
	for _, s := range statuses {
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprintln(tw, "total\t")
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(tw, "%s\t", t)
		row := 0
		for _, s := range statuses {
			fmt.Fprintf(tw, "%d\t", counts[t][s])
			row += counts[t][s]
		}
		fmt.Fprintf(tw, "%d\t\n", row)
	}
	fmt.Fprintf(tw, "all\t\t\t\t\t%s\t\n", strconv.Itoa(total))
	return tw.Flush()
}

// seedDemo starts a fake with n challenges on one TOTP and one push factor.
func seedDemo(ctx context.Context, n int) (*verify.Client, string, string, func(), error) {
	srv := verifytest.NewServer()
	client := srv.Client()
	cleanup := func() { client.CloseIdleConnections(); srv.Close() }
	identity := "demo-user-0001"
	totp, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	if err != nil {
		return nil, "", "", cleanup, err
	}
	dev, err := srv.NewPushDevice(srv.ServiceSID(), identity)
	if err != nil {
		return nil, "", "", cleanup, err
	}
	for i := 0; i < n; i++ {
		p := &verify.CreateChallengeParams{FactorSID: totp.SID}
		switch i % 4 {
		case 0:
			p.AuthPayload = verify.NewSecret(totp.Code())
		case 1, 2:
			p = &verify.CreateChallengeParams{FactorSID: dev.FactorSID, Details: &verify.Details{Message: "Log in #" + strconv.Itoa(i) + "?"}}
		}
		ch, err := client.Challenges.Create(ctx, srv.ServiceSID(), identity, p)
		if err != nil {
			return nil, "", "", cleanup, err
		}
		if i%4 == 2 {
			if _, err := dev.Deny(ctx, ch.SID); err != nil {
				return nil, "", "", cleanup, err
			}
		}
	}
	srv.Advance(10 * time.Minute) // what nobody answered expires
	return client, srv.ServiceSID(), identity, cleanup, nil
}
