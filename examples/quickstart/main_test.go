package main

import (
	"context"
	"io"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstartAgainstFake runs the README's first command's program.
func TestQuickstartAgainstFake(t *testing.T) {
	if err := runFake(context.Background(), io.Discard); err != nil {
		t.Fatal(err)
	}
}
