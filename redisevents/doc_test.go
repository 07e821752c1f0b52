package redisevents

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instancesPage is the page of the root docs whose snippets use this
// module; the root module's doc test leaves them to this one.
const instancesPage = "../docs/instances.md"

// TestInstancesPageSnippetsCompile builds every Go snippet of
// docs/instances.md against this module, each as a function's body, with
// the variables the page takes as given.
func TestInstancesPageSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the snippets with the go command")
	}
	page, err := os.ReadFile(instancesPage)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(page, -1)
	if len(blocks) == 0 {
		t.Fatal("no Go snippet in " + instancesPage)
	}
	var src strings.Builder
	src.WriteString(`package snippets

import (
	"context"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/redisevents"
)

var (
	ctx                                   context.Context
	client                                *verify.Client
	serviceSID, identity, challengeSID    string
	_                                     = os.Getenv
	_                                     = http.Handle
	_                                     = redis.NewClient
	_                                     = redisevents.New
)
`)
	for i, b := range blocks {
		src.WriteString("\nfunc snippet" + string(rune('a'+i)) + "() {\n" + string(b[1]) + "\n_, _ = ch, err\n}\n")
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "snippets-") // inside the module, to build against it
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "snippets.go"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "./"+filepath.ToSlash(dir)).CombinedOutput(); err != nil {
		t.Errorf("the snippets of %s do not build: %s\n%s", instancesPage, out, src.String())
	}
}
