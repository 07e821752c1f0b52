package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
)

// rfcSecret is RFC 6238's SHA-1 test key, "12345678901234567890", in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// TestTOTPSubcommandPrintsTheCode: `verify-fake totp SECRET` prints the
// 6-digit code at the clock's time: RFC 6238's SHA-1 test vectors (their
// last 6 digits), and pquerna/otp's code for a fresh secret.
func TestTOTPSubcommandPrintsTheCode(t *testing.T) {
	run := func(now time.Time, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := totpCommand(args, &out, &errOut, func() time.Time { return now })
		return code, out.String(), errOut.String()
	}
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471",
		1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		for _, secret := range []string{rfcSecret, strings.ToLower(rfcSecret), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", rfcSecret + "===="} {
			if code, out, errOut := run(time.Unix(unix, 0), secret); code != 0 || out != want+"\n" || errOut != "" {
				t.Errorf("totp %q at %d: exit %d, stdout %q, stderr %q; want %s", secret, unix, code, out, errOut, want)
			}
		}
	}
	at := time.Date(2024, time.March, 14, 9, 26, 53, 0, time.UTC)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "verifytest", AccountName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := totp.GenerateCode(key.Secret(), at)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(at, key.Secret()); code != 0 || out != want+"\n" {
		t.Errorf("totp %s: exit %d, %q; pquerna/otp says %s", key.Secret(), code, out, want)
	}

	for _, args := range [][]string{nil, {}, {rfcSecret, "extra"}, {""}, {"not base32!"}, {"ABC1"}, {"-x"}} {
		code, out, errOut := run(at, args...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "verify-fake totp: ") || strings.Contains(errOut, "goroutine") {
			t.Errorf("totp %q: exit %d, stdout %q, stderr %q; want exit 2 and a message", args, code, out, errOut)
		}
	}
	if code, _, errOut := run(at, "-h"); code != 0 || !strings.Contains(errOut, "usage: verify-fake totp SECRET") {
		t.Errorf("totp -h: exit %d, stderr %q; want the usage and exit 0", code, errOut)
	}
}

// TestTOTPSubcommandInTheBanner: the banner prints the totp command for
// the factor's secret; run as a command, it prints a code the fake takes.
func TestTOTPSubcommandInTheBanner(t *testing.T) {
	ctx := context.Background()
	text := startFake(t, config{addr: "127.0.0.1:0", identity: "user-0001-totp", answer: "none"})
	m := regexp.MustCompile(`TOTP factor\s+(YF[0-9a-f]{32})\s+secret (\S+)\s+code now \d{6}\n\s+next codes\s+go run \./cmd/verify-fake totp (\S+)\n`).FindStringSubmatch(text)
	if m == nil || m[3] != m[2] {
		t.Fatalf("no totp command for the factor's secret in the banner:\n%s", text)
	}
	factor, secret := m[1], m[2]
	code, stdout, stderr := runChild(t, "totp", secret)
	if code != 0 || !regexp.MustCompile(`^\d{6}\n$`).MatchString(stdout) {
		t.Fatalf("verify-fake totp %s: exit %d, stdout %q, stderr %q", secret, code, stdout, stderr)
	}
	field := func(name string) string { return bannerField(t, text, name) }
	client, err := verify.NewClient(verify.WithCredentials(field("account SID"), field("auth token")),
		verify.WithBaseURL(field("verify-fake listening on")))
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()
	ch, err := client.Challenges.Create(ctx, field("service SID"), field("identity"), &verify.CreateChallengeParams{
		FactorSID: factor, AuthPayload: verify.NewSecret(strings.TrimSpace(stdout))})
	if err != nil || !ch.Status.IsApproved() {
		t.Errorf("login with the code verify-fake totp printed: %v %v, want approved", ch, err)
	}
}
