package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runMainEnv makes the test binary run main() instead of the tests, so a
// test can run the real command without building it.
const runMainEnv = "LOGIN_RUN_MAIN"

// command is the login command with args, run by the test binary, with
// an environment that configures it and no Twilio variable of the test's.
// The Verify API it is given is never reached in these tests.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append(args, "-password", "demo", "-base-url", "http://127.0.0.1:1")...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TWILIO_") && !strings.HasPrefix(kv, "VERIFY_") && !strings.HasPrefix(kv, "LOGIN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, runMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0",
		"TWILIO_ACCOUNT_SID=AC"+strings.Repeat("0", 32), "TWILIO_AUTH_TOKEN="+newAuthToken,
		"VERIFY_SERVICE_SID=VA"+strings.Repeat("0", 32), "VERIFY_IDENTITY=user-0001-demo")
	return cmd
}

// TestBusyPortSaysWhatToPass: a port in use ends the command with exit
// status 1 and one line, worded as verify-fake's, that names another port;
// it never said it was listening.
func TestBusyPortSaysWhatToPass(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := command("-addr", addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	err = cmd.Run()
	timer.Stop()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("on a busy port: %v, want exit status 1\nstderr:\n%s", err, &stderr)
	}
	want := " " + addr + " is in use; pass -addr 127.0.0.1:" + strconv.Itoa(port+1) + "\n"
	if text := stderr.String(); !strings.HasSuffix(text, want) || strings.Count(text, "\n") != 1 {
		t.Errorf("on a busy port, stderr:\n%s\nwant one line ending in:\n%s", text, want)
	}
}

// TestListensBeforeSayingSo: the "listening on" line comes once the port
// is bound, and names the address bound (with -addr :0, the port chosen),
// where the server answers at once.
func TestListensBeforeSayingSo(t *testing.T) {
	cmd := command("-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil {
		t.Fatalf("no line on stderr: %v", err)
	}
	_, rest, ok := strings.Cut(line, "listening on http://")
	addr, _, _ := strings.Cut(rest, ",")
	if !ok || strings.HasSuffix(addr, ":0") {
		t.Fatalf("first line %q, want the address bound after %q", line, "listening on http://")
	}
	resp, err := http.Get("http://" + addr + "/me")
	if err != nil {
		t.Fatalf("GET /me on the address printed: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /me without a session: %d, want 401", resp.StatusCode)
	}
}
