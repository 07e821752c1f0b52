package verify_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docPages are the Markdown files whose Go snippets must compile.
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{"README.md"}
	for _, glob := range []string{"docs/*.md", "examples/*/README.md"} {
		more, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, more...)
	}
	return pages
}

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// otherModulePages hold snippets of a module other than this one, which
// that module's tests build: docs/instances.md's need redisevents.
var otherModulePages = map[string]bool{"docs/instances.md": true}

// snippetImports is the head of every generated file: the packages the
// snippets use.
const snippetImports = `package snippets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

var (
	_ = context.Background
	_ = json.Valid
	_ = io.ReadAll
	_ = verify.Version
	_ = errors.Is
	_ = fmt.Sprint
	_ = log.Print
	_ = slog.Info
	_ = http.Handle
	_ = httptest.NewServer
	_ = os.Getenv
	_ = strings.Contains
	_ = time.Second
	_ = testing.Short
	_ = verifytest.NewServer
)
`

// snippetGivens declares, once per package, what the snippets take as
// given: a context, a client, the SIDs and codes of the story, and the
// helpers they call.
const snippetGivens = `package snippets

import (
	"context"
	"net/http"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

var (
	ctx                                                       context.Context
	r                                                         *http.Request
	client                                                    *verify.Client
	hub                                                       *verify.EventHub
	srv                                                       *verifytest.Server
	phone                                                     *verifytest.Device
	ch                                                        *verify.Challenge
	f                                                         *verify.NewFactor
	t                                                         *testing.T
	accountSID, authToken, serviceSID, identity, challengeSID string
	factorSID, pushFactorSID, totpFactorSID, clientIP         string
	code, codeFromUser, firstCode                             string
	assertion                                                 []byte
	service, sid, verificationSID                             string
	params                                                    *verify.UpdateChallengeParams
)

func showQRCode(string)         {}
func sendToThisUsersApp(string) {}

func takePendingChallenge(*http.Request) string                  { return "" }
func takePendingFactor(*http.Request) (factorSID, identity string) { return "", "" }
`

// TestDocSnippetsCompile builds every Go snippet of the README, docs/ and
// the examples' READMEs against the current API, so that the docs cannot
// drift from the code. Snippets may leave variables unused; nothing else.
func TestDocSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the snippets with the go command")
	}
	t.Parallel()
	dir, err := os.MkdirTemp("testdata", "snippets-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "givens.go"), []byte(snippetGivens), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, page := range docPages(t) {
		if otherModulePages[filepath.ToSlash(page)] {
			continue
		}
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		var src strings.Builder
		src.WriteString(strings.Replace(snippetImports, "package snippets", "package snippets\n\n// from "+page, 1))
		for _, m := range goBlock.FindAllSubmatchIndex(b, -1) {
			block := string(b[m[2]:m[3]])
			line := bytes.Count(b[:m[2]], []byte("\n")) + 1
			n++
			if strings.HasPrefix(block, "package ") {
				continue // a whole file of its own; none so far
			}
			fmt.Fprintf(&src, "\n// %s:%d\n", page, line)
			if strings.HasPrefix(block, "func ") {
				src.WriteString(strings.ReplaceAll(block, "func Test", fmt.Sprintf("func Test%d", n)))
				continue
			}
			fmt.Fprintf(&src, "func snippet%d() error {\n%s\nreturn nil\n}\n", n, block)
		}
		name := filepath.Join(dir, strings.NewReplacer("/", "_", ".md", ".go").Replace(page))
		if err := os.WriteFile(name, []byte(src.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n < 10 {
		t.Fatalf("found %d snippets; the docs have more", n)
	}
	out, err := exec.Command("go", "build", "-gcflags=-e", "./"+filepath.ToSlash(dir)).CombinedOutput()
	if err == nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || strings.HasPrefix(line, "#") || strings.Contains(line, "declared and not used") {
			continue
		}
		t.Errorf("%s", line)
	}
	if !t.Failed() && !bytes.Contains(out, []byte("declared and not used")) {
		t.Errorf("go build failed: %s", out)
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinksResolve: every relative link of the README, docs/ and the
// examples' READMEs names a file that exists.
func TestDocLinksResolve(t *testing.T) {
	t.Parallel()
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllSubmatch(b, -1) {
			target, _, _ := strings.Cut(string(m[1]), "#")
			if target == "" || strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, m[1])
			}
		}
	}
}
