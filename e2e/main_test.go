package e2e

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if a goroutine outlives them, and removes the
// login command they built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBuilt()
		os.Exit(code)
	}))
}
