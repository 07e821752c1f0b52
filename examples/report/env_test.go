package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"strings"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// runMainEnv makes the test binary run main() instead of the tests, so a
// test can run the real command without building it.
const runMainEnv = "REPORT_RUN_MAIN"

// seedFake starts a fake whose identity has n challenges on a TOTP factor,
// every other one approved.
func seedFake(t *testing.T, identity string, n int) *verifytest.Server {
	t.Helper()
	srv := verifytest.NewServer()
	t.Cleanup(srv.Close)
	client := srv.Client()
	defer client.CloseIdleConnections()
	f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p := &verify.CreateChallengeParams{FactorSID: f.SID}
		if i%2 == 0 {
			p.AuthPayload = verify.NewSecret(f.Code())
		}
		if _, err := client.Challenges.Create(t.Context(), srv.ServiceSID(), identity, p); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// fakeEnv is the environment verify-fake's export line sets for srv, with
// VERIFY_BASE_URL, and no other Twilio variable.
func fakeEnv(srv *verifytest.Server, identity, baseURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TWILIO_") && !strings.HasPrefix(kv, "VERIFY_") {
			env = append(env, kv)
		}
	}
	return append(env, "TWILIO_ACCOUNT_SID="+srv.AccountSID(), "TWILIO_AUTH_TOKEN="+srv.AuthToken(),
		"VERIFY_SERVICE_SID="+srv.ServiceSID(), "VERIFY_IDENTITY="+identity, "VERIFY_BASE_URL="+baseURL)
}

// TestReportsOnTheFakeFromTheEnvironment: with the environment verify-fake
// prints (VERIFY_BASE_URL included), the command reports on that fake, not
// on Twilio.
func TestReportsOnTheFakeFromTheEnvironment(t *testing.T) {
	const identity = "user-0001-report"
	srv := seedFake(t, identity, 5)
	cmd := exec.Command(os.Args[0], "-format", "csv")
	cmd.Env = append(fakeEnv(srv, identity, srv.URL), runMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("report with the fake's environment: %v\nstderr:\n%s", err, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil || len(rows) != 6 || rows[0][0] != "sid" {
		t.Fatalf("csv %v (%v), want a header and 5 challenges", rows, err)
	}
	approved := 0
	for _, r := range rows[1:] {
		if r[3] == "approved" {
			approved++
		}
	}
	if approved != 3 || !strings.Contains(stderr.String(), "done, 5 challenges") {
		t.Errorf("%d approved, want 3; stderr:\n%s", approved, stderr.String())
	}
}

// TestBaseURLFlagWinsOverTheEnvironment: -base-url, else VERIFY_BASE_URL,
// sets the API the report reads; the service and identity come from
// VERIFY_SERVICE_SID and VERIFY_IDENTITY unless flags say otherwise.
func TestBaseURLFlagWinsOverTheEnvironment(t *testing.T) {
	const identity = "user-0001-report"
	srv := seedFake(t, identity, 3)
	for _, k := range []string{"TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_EDGE", "TWILIO_REGION"} {
		t.Setenv(k, "") // the client reads these too
	}
	for _, kv := range fakeEnv(srv, identity, "http://127.0.0.1:1") { // nothing listens on port 1
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TWILIO_") || strings.HasPrefix(k, "VERIFY_") {
			t.Setenv(k, v)
		}
	}
	for _, tc := range []struct {
		what, env string
		args      []string
	}{
		{"the flag over the variable", "http://127.0.0.1:1", []string{"-base-url", srv.URL}},
		{"the variable alone", srv.URL, nil},
	} {
		t.Setenv("VERIFY_BASE_URL", tc.env)
		o, err := parseOptions(append(tc.args, "-format", "summary"), os.Getenv, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if o.baseURL != srv.URL || o.service != srv.ServiceSID() || o.identity != identity {
			t.Errorf("%s: base URL %q, service %q, identity %q", tc.what, o.baseURL, o.service, o.identity)
		}
		var out, progress bytes.Buffer
		if err := command(t.Context(), o, &out, &progress); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if last := strings.Fields(lines[len(lines)-1]); len(last) != 2 || last[1] != "3" {
			t.Errorf("%s: summary %q, want 3 challenges:\n%s", tc.what, last, out.String())
		}
	}
	o, err := parseOptions([]string{"-service", "VA00000000000000000000000000000000", "-identity", "someone-else"}, os.Getenv, &bytes.Buffer{})
	if err != nil || o.service != "VA00000000000000000000000000000000" || o.identity != "someone-else" {
		t.Errorf("flags over VERIFY_SERVICE_SID and VERIFY_IDENTITY: %+v %v", o, err)
	}
}
