package main

import (
	"os"
	"strings"
	"testing"
)

// TestUsageNamesTheCommand: -h prints the usage under the name
// verify-fake, not the path of the binary go run built, and exits 0; a
// flag it does not know prints the same usage and exits 2.
func TestUsageNamesTheCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		exit int
	}{{[]string{"-h"}, 0}, {[]string{"-no-such-flag"}, 2}} {
		code, stdout, stderr := runChild(t, tc.args...)
		_, usage, _ := strings.Cut(stderr, "Usage of ")
		if code != tc.exit || stdout != "" || !strings.HasPrefix(usage, "verify-fake:\n") ||
			strings.Contains(stderr, os.Args[0]) || strings.Contains(stderr, "go-build") {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s\nwant the usage of verify-fake, without a path", tc.args, code, tc.exit, stderr)
		}
		for _, want := range []string{"  -addr string\n", "  -push-answer string\n", "verify-fake totp SECRET"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: usage lacks %q:\n%s", tc.args, want, stderr)
			}
		}
	}
}

// TestUnexpectedArgumentIsAUsageError: an argument that is not the totp
// command (a typo such as "top") exits 2 with the usage, instead of
// starting a server.
func TestUnexpectedArgumentIsAUsageError(t *testing.T) {
	code, stdout, stderr := runChild(t, "-addr", "127.0.0.1:0", "top", "JBSWY3DPEHPK3PXP")
	want := "verify-fake: unexpected argument \"top\"; the one command is: verify-fake totp SECRET\nUsage of verify-fake:\n"
	if code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 2, nothing served, and stderr starting:\n%s", code, stdout, stderr, want)
	}
}
