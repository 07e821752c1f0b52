package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

// TestUsageNamesTheCommand: -h prints the usage under the name report,
// never the path of the binary go run built.
func TestUsageNamesTheCommand(t *testing.T) {
	var usage bytes.Buffer
	_, err := parseOptions([]string{"-h"}, func(string) string { return "" }, &usage)
	if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(usage.String(), "Usage of report:\n") || strings.Contains(usage.String(), os.Args[0]) {
		t.Errorf("-h: %v, usage:\n%s\nwant flag.ErrHelp and the usage of report", err, &usage)
	}
}
