package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" { // a child started by a test, to run the command itself
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestQuickstartAgainstFake runs the README's first command's program.
// Its service, created through the API, shapes the TOTP factor. Each challenge the summary counts as expired was shown expiring, with
// why: step 2's, printed pending, and the unanswered push both expire when
// the demo skips the fake's clock ahead.
func TestQuickstartAgainstFake(t *testing.T) {
	var out bytes.Buffer
	if err := runFake(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	text := out.String()
	// The tour runs on a service it created with TOTP settings: its factor's
	// codes have the service's 8 digits, not the API's default 6.
	service := regexp.MustCompile(`(?m)^0\. service created: +(VA[0-9a-f]{32}) "Example Corp": TOTP codes of 8 digits every 30s, issuer "Example Corp"$`).FindStringSubmatch(text)
	step1 := regexp.MustCompile(`(?m)^1\. TOTP code accepted: +YC[0-9a-f]{32} -> approved \(8 digits, as the service says\)$`).FindStringSubmatch(text)
	if service == nil || step1 == nil {
		t.Fatalf("want the service created and an 8-digit code accepted on it:\n%s", text)
	}
	step2 := regexp.MustCompile(`(?m)^2\. wrong TOTP code refused: (YC[0-9a-f]{32}) -> pending`).FindStringSubmatch(text)
	step4 := regexp.MustCompile(`(?m)^4\. push nobody answers: +(YC[0-9a-f]{32}) -> pending`).FindStringSubmatch(text)
	if step2 == nil || step4 == nil {
		t.Fatalf("want step 2's challenge and step 4's push printed pending:\n%s", text)
	}
	why := "the demo skips the fake's clock 6 minutes ahead"
	for _, want := range []string{why, "step 2's challenge, never answered: " + step2[1] + " -> expired\n",
		"late answer to this push refused: " + step4[1] + " -> ErrChallengeExpired", "expired=2\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if i, j := strings.Index(text, why), strings.Index(text, "step 2's challenge, never answered"); i < strings.Index(text, "4. ") || j < i ||
		strings.Index(text, "5. ") < j {
		t.Errorf("want the skip explained after step 4's push is created and before the expiry and the summary:\n%s", text)
	}
}
