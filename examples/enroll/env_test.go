package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// runMainEnv makes the test binary run main() instead of the tests, so a
// test can run the real command without building it.
const runMainEnv = "ENROLL_RUN_MAIN"

// fakeEnv is the environment verify-fake's export line sets for srv, with
// VERIFY_BASE_URL, and no other Twilio variable.
func fakeEnv(srv *verifytest.Server, baseURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TWILIO_") && !strings.HasPrefix(kv, "VERIFY_") {
			env = append(env, kv)
		}
	}
	return append(env, "TWILIO_ACCOUNT_SID="+srv.AccountSID(), "TWILIO_AUTH_TOKEN="+srv.AuthToken(),
		"VERIFY_SERVICE_SID="+srv.ServiceSID(), "VERIFY_IDENTITY=user-0001-demo", "VERIFY_BASE_URL="+baseURL)
}

// TestEnrollsAgainstTheFakeFromTheEnvironment: with the environment
// verify-fake prints (VERIFY_BASE_URL included), the command enrolls on that
// fake, not on Twilio: the user types the codes of the secret it shows.
func TestEnrollsAgainstTheFakeFromTheEnvironment(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	cmd := exec.Command(os.Args[0], "-identity", "user-0001-typed")
	cmd.Env = append(fakeEnv(srv, srv.URL), runMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var text strings.Builder
	r := bufio.NewReader(stdout)
	secret := ""
	for {
		line, err := r.ReadString('\n')
		text.WriteString(line)
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "or type the secret by hand: "); ok {
			secret = s
			break
		}
		if err != nil {
			break
		}
	}
	if secret != "" {
		for range 2 { // the first code, then the login's; the fake takes one twice within its window
			code, err := totp.GenerateCode(secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(stdin, code+"\n")
		}
	}
	stdin.Close()
	rest, _ := io.ReadAll(r)
	text.Write(rest)
	err = cmd.Wait()
	out := text.String()
	if err != nil {
		t.Fatalf("enroll with the fake's environment: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	for _, want := range []string{"mode: API at " + srv.URL, "2. factor YF", " verified\n", "-> approved"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// app is the command's stdin: each read is what an authenticator app
// holding the secret the command has printed so far shows now.
type app struct{ out *bytes.Buffer }

var secretLine = regexp.MustCompile(`or type the secret by hand: (\S+)`)

func (a app) Read(p []byte) (int, error) {
	m := secretLine.FindStringSubmatch(a.out.String())
	if m == nil {
		return 0, io.EOF // nothing to read a code from yet
	}
	code, err := totp.GenerateCode(m[1], time.Now())
	if err != nil {
		return 0, err
	}
	return copy(p, code+"\n"), nil
}

// setFakeEnv sets the environment verify-fake's export line gives, with
// VERIFY_BASE_URL set to baseURL, and clears the other Twilio variables.
func setFakeEnv(t *testing.T, srv *verifytest.Server, baseURL string) {
	t.Helper()
	for _, k := range []string{"TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_EDGE", "TWILIO_REGION"} {
		t.Setenv(k, "")
	}
	for _, kv := range fakeEnv(srv, baseURL) {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TWILIO_") || strings.HasPrefix(k, "VERIFY_") {
			t.Setenv(k, v)
		}
	}
}

// TestBaseURLFlagWinsOverTheEnvironment: -base-url, else VERIFY_BASE_URL,
// is the API the command enrolls on, with the credentials and service of
// the environment; the codes are typed, and it says how verify-fake gives
// them.
func TestBaseURLFlagWinsOverTheEnvironment(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	setFakeEnv(t, srv, "http://127.0.0.1:1") // nothing listens on port 1
	for _, tc := range []struct {
		what, identity, env string
		args                []string
	}{
		{"the flag over the variable", "user-0001-flag", "http://127.0.0.1:1", []string{"-base-url", srv.URL}},
		{"the variable alone", "user-0001-env", srv.URL, nil},
	} {
		t.Setenv("VERIFY_BASE_URL", tc.env)
		s, err := parseSettings(append(tc.args, "-identity", tc.identity), os.Getenv, io.Discard)
		if err != nil || s.baseURL != srv.URL || s.service != srv.ServiceSID() {
			t.Fatalf("%s: settings %+v %v", tc.what, s, err)
		}
		var out bytes.Buffer
		if err := run(context.Background(), &out, app{&out}, s); err != nil {
			t.Fatalf("%s: %v\n%s", tc.what, err, &out)
		}
		text := out.String()
		m := regexp.MustCompile(`1\. factor (YF[0-9a-f]{32}) created`).FindStringSubmatch(text)
		secret := secretLine.FindStringSubmatch(text)
		if m == nil || secret == nil {
			t.Fatalf("%s: no factor or secret printed:\n%s", tc.what, text)
		}
		for _, want := range []string{"mode: API at " + srv.URL + " ", "code for enrollment (what the app shows now): ",
			"fresh code to log in (what the app shows now): ",
			"against verify-fake, this prints what the app shows now: go run ./cmd/verify-fake totp " + secret[1] + "\n",
			"2. factor " + m[1] + " verified", "-> approved"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: output lacks %q:\n%s", tc.what, want, text)
			}
		}
		f, err := client.Factors.Fetch(context.Background(), srv.ServiceSID(), tc.identity, m[1])
		if err != nil || f.Status != verify.FactorStatusVerified {
			t.Errorf("%s: the factor on the fake: %+v %v, want verified", tc.what, f, err)
		}
	}
}

// TestCodeFlagAgainstTheFake: with -secret chosen, -code can be computed
// before the run and is the first code, not asked for; only the login's
// is typed. A wrong -code leaves the factor unverified.
func TestCodeFlagAgainstTheFake(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	setFakeEnv(t, srv, srv.URL)
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseSettings([]string{"-identity", "user-0001-code", "-secret", secret, "-code", code}, os.Getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, app{&out}, s); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	text := out.String()
	if !strings.Contains(text, "or type the secret by hand: "+secret+"\n") || strings.Contains(text, "code for enrollment") ||
		strings.Count(text, "fresh code to log in (what the app shows now): ") != 1 || strings.Index(text, "fresh code to log in") < strings.Index(text, "2. factor") || !strings.Contains(text, "-> approved") {
		t.Errorf("want the secret chosen, the first code from -code and only the login's asked:\n%s", text)
	}

	s.identity, s.code = "user-0002-code", wrongCode(code)
	out.Reset()
	err = run(context.Background(), &out, app{&out}, s)
	if err == nil || !strings.Contains(err.Error(), "still unverified") || strings.Contains(out.String(), "(what the app shows now): ") {
		t.Errorf("a wrong -code: %v, want the factor still unverified and no prompt:\n%s", err, &out)
	}
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestBaseURLNeedsAService: -base-url without VERIFY_SERVICE_SID says so
// rather than falling back to the in-process demo.
func TestBaseURLNeedsAService(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	setFakeEnv(t, srv, srv.URL)
	t.Setenv("VERIFY_SERVICE_SID", "")
	s, err := parseSettings(nil, os.Getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = run(context.Background(), &out, strings.NewReader(""), s)
	if err == nil || !strings.Contains(err.Error(), "VERIFY_SERVICE_SID") || strings.Contains(out.String(), "mode: demo") {
		t.Errorf("-base-url without a service: %v\n%s", err, &out)
	}
}

// TestBothCodesAsFlagsNeedNoStdin: the README's one-line run against
// verify-fake, -secret with -code and -login-code computed beforehand,
// enrolls and logs in with stdin closed, and asks for nothing.
func TestBothCodesAsFlagsNeedNoStdin(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	setFakeEnv(t, srv, srv.URL)
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseSettings([]string{"-identity", "user-0001-flags", "-secret", secret, "-code", code, "-login-code", code}, os.Getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, strings.NewReader(""), s); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	if text := out.String(); !strings.Contains(text, "2. factor YF") || !strings.Contains(text, "-> approved") ||
		strings.Contains(text, "code for enrollment") || strings.Contains(text, "code to log in") {
		t.Errorf("want enrolled and logged in with no prompt:\n%s", text)
	}
}

// TestClosedStdinNamesTheFlag: with stdin closed and a code missing, the
// command stops with an error naming the flag that gives that code, at the
// step that needs it, after a prompt saying what the code is for.
func TestClosedStdinNamesTheFlag(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	setFakeEnv(t, srv, srv.URL)
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, identity string
		args           []string
		prompt, flag   string
		verified       bool
	}{
		{"no -code", "user-0001-nocode", nil, "code for enrollment", "-code", false},
		{"-code without -login-code", "user-0001-nologin", []string{"-secret", secret, "-code", code}, "fresh code to log in", "-login-code", true},
	} {
		s, err := parseSettings(append(tc.args, "-identity", tc.identity), os.Getenv, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		var out bytes.Buffer
		err = run(context.Background(), &out, strings.NewReader(""), s)
		if err == nil || !strings.Contains(err.Error(), "stdin is closed") || !strings.Contains(err.Error(), "pass "+tc.flag+" ") {
			t.Errorf("%s: err = %v, want stdin closed and the flag %s named", tc.what, err, tc.flag)
		}
		text := out.String()
		if !strings.Contains(text, tc.prompt) {
			t.Errorf("%s: no prompt saying %q:\n%s", tc.what, tc.prompt, text)
		}
		if got := strings.Contains(text, "2. factor YF"); got != tc.verified || strings.Contains(text, "3. login") {
			t.Errorf("%s: verified %v, want %v, and no login:\n%s", tc.what, got, tc.verified, text)
		}
	}
}

// TestREADMECommandWithStdinClosed runs the command itself as the README
// does, with stdin closed (/dev/null): without -login-code it exits 1 with
// one message naming the flag; with it, it exits 0, logged in.
func TestREADMECommandWithStdinClosed(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	const secret = "JBSWY3DPEHPK3PXP"
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		args       []string
		wantExit   int
		wantStderr string // a substring
		wantStdout string // a substring
	}{
		{[]string{"-secret", secret, "-code", code}, 1, "enroll: no fresh code to log in: stdin is closed; pass -login-code ", "2. factor YF"},
		{[]string{"-secret", secret, "-code", code, "-login-code", code}, 0, "", "-> approved"},
	} {
		cmd := exec.Command(os.Args[0], append(tc.args, "-identity", "user-000"+strconv.Itoa(i)+"-readme")...)
		cmd.Env = append(fakeEnv(srv, srv.URL), runMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr // cmd.Stdin nil: /dev/null
		timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
		err := cmd.Run()
		timer.Stop()
		exit := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			exit = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if exit != tc.wantExit || !strings.Contains(stderr.String(), tc.wantStderr) || !strings.Contains(stdout.String(), tc.wantStdout) ||
			(tc.wantStderr != "" && strings.Count(stderr.String(), "\n") != 1) {
			t.Errorf("%v: exit %d, want %d\nstderr:\n%s\nwant in it %q\nstdout:\n%s", tc.args, exit, tc.wantExit, &stderr, tc.wantStderr, &stdout)
		}
	}
}
