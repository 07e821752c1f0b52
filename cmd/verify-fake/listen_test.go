package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// runChild runs the command (main) in a child process with args and
// returns its exit code, stdout and stderr; it fails the test after 10 s.
func runChild(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("verify-fake %v still running after 10 s; killed it", args)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errOut.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

// TestBusyPortIsAMessageNotAPanic: a port in use ends the command with
// exit status 1 and one line that says so and names another port.
func TestBusyPortIsAMessageNotAPanic(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	addr := "127.0.0.1:" + strconv.Itoa(port)
	code, _, stderr := runChild(t, "-addr", addr)
	want := "verify-fake: " + addr + " is in use; pass -addr 127.0.0.1:" + strconv.Itoa(port+1) + "\n"
	if code != 1 || stderr != want {
		t.Errorf("on a busy port: exit %d, stderr:\n%s\nwant exit 1 and:\n%s", code, stderr, want)
	}
}

// TestNonLoopbackAddrIsAMessageNotAPanic: an address other machines could
// reach ends the command with exit status 1 and one line naming a loopback
// address instead; nothing listens there meanwhile.
func TestNonLoopbackAddrIsAMessageNotAPanic(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:4010", ":4010", "192.0.2.7:4010", "example.com:4010", "127.0.0.1"} {
		code, _, stderr := runChild(t, "-addr", addr)
		want := "verify-fake: -addr " + addr + " is not a loopback host:port; the fake serves plain http to this machine only: pass -addr 127.0.0.1:4010\n"
		if code != 1 || stderr != want {
			t.Errorf("-addr %s: exit %d, stderr:\n%s\nwant exit 1 and:\n%s", addr, code, stderr, want)
		}
	}
}
