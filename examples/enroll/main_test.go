package main

import (
	"bytes"
	"context"
	"os"
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

func TestDemoEnrollsVerifiesAndLogsIn(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "")
	var out bytes.Buffer
	err := run(context.Background(), &out, strings.NewReader(""), settings{identity: "user-0001-enroll", name: "Ada's phone"})
	if err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	text := out.String()
	for _, want := range []string{"mode: demo", "1. factor YF", "created (unverified)", "or type the secret by hand: ",
		"(demo: code for enrollment, the app shows ", "2. factor YF", " verified\n",
		"(demo: code to log in, the app shows ", "3. login with a TOTP challenge: YC", "-> approved"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(text, "█") || strings.Count(text, "\n") < 20 {
		t.Errorf("no QR code drawn:\n%s", text)
	}
}

func TestWrongFirstCodeLeavesTheFactorUnverified(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "")
	var out bytes.Buffer
	err := run(context.Background(), &out, strings.NewReader(""), settings{identity: "user-0001-enroll", name: "Ada", code: "000000"})
	if err == nil || !strings.Contains(err.Error(), "still unverified") {
		t.Fatalf("err = %v, want the factor still unverified", err)
	}
	if strings.Contains(out.String(), "3. login") {
		t.Errorf("went on to log in with an unverified factor:\n%s", &out)
	}
}
