package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runMainEnv makes the test binary run main() instead of the tests, so a
// test can run the real command without building it.
const runMainEnv = "QUICKSTART_RUN_MAIN"

// TestHelpPrintsUsage: -h prints the usage under the name quickstart and
// exits 0 without running the tour; a flag it does not know exits 2.
func TestHelpPrintsUsage(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		exit int
	}{{"-h", 0}, {"-no-such-flag", 2}} {
		cmd := exec.Command(os.Args[0], tc.arg)
		for _, kv := range os.Environ() { // never the live mode
			if !strings.HasPrefix(kv, "TWILIO_") && !strings.HasPrefix(kv, "VERIFY_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, runMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
		err := cmd.Run()
		timer.Stop()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		_, usage, _ := strings.Cut(stderr.String(), "Usage of ")
		if code != tc.exit || stdout.Len() != 0 || !strings.HasPrefix(usage, "quickstart:\n") || strings.Contains(stderr.String(), os.Args[0]) ||
			!strings.Contains(usage, "VERIFY_FACTOR_SID") {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s\nwant only the usage of quickstart on stderr", tc.arg, code, tc.exit, &stdout, &stderr)
		}
	}
}
