package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runMainEnv makes the test binary run main() instead of the tests, so a
// test can start the real command without building it.
const runMainEnv = "VERIFY_FAKE_RUN_MAIN"

// TestStopsCleanlyOnSignals starts the command in a child process, waits
// for its banner, signals it, and expects exit status 0 within seconds.
func TestStopsCleanlyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-push-answer", "approve")
			// Under -race the child would otherwise sleep 1 s at exit.
			cmd.Env = append(os.Environ(), runMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			banner := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				seen := false
				for sc.Scan() {
					if !seen && strings.HasPrefix(sc.Text(), "verify-fake listening on http://127.0.0.1:") {
						seen = true
						banner <- true
					}
				}
				if !seen {
					banner <- false
				}
				exited <- cmd.Wait()
			}()
			if ok := waitFor(t, banner, cmd); !ok {
				t.Fatalf("no banner; stderr: %s", stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := waitFor(t, exited, cmd); err != nil {
				t.Fatalf("after %v: %v (want exit status 0); stderr: %s", sig, err, stderr.String())
			}
		})
	}
}

// waitFor receives from ch, killing the child if it takes over 5 seconds.
func waitFor[T any](t *testing.T, ch <-chan T, cmd *exec.Cmd) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the command did not answer within 5 s; killed it")
		panic("unreachable")
	}
}
