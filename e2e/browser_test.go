package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser: $CHROMIUM, else the first of the usual
// names on $PATH or /usr/bin/chromium. Without one the test skips with
// how to install it, or fails when CI=true: CI installs it, so a missing
// browser there is a broken CI, not a reason to pass.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "no Chromium found: install it (Debian, Ubuntu: apt-get install chromium) or set CHROMIUM to a Chrome or Chromium binary"
	if os.Getenv("CI") == "true" {
		t.Fatal(how)
	}
	t.Skip(how)
	return ""
}

// stepTimeout bounds each browser step, so that a page that never shows
// what a test waits for fails the test instead of hanging it. It is a
// limit, not a measured time: no assertion depends on it.
const stepTimeout = 15 * time.Second

// page is one headless Chromium with one tab, fresh for each test (its own
// profile, so no cookie of another test), opened on a login server.
type page struct {
	t    *testing.T
	ctx  context.Context // the tab: every step runs in a context derived from it
	base string          // the login server, http://127.0.0.1:port

	mu      sync.Mutex
	console []chromedp.ConsoleMessage // what the page wrote to its console, and the browser's log
}

// newPage starts the browser, sized width × height, for a test of the
// login server at base. When the test fails, the page's screenshot,
// console log and HTML are saved to a directory the test's log names.
func newPage(t *testing.T, base string, width, height int) *page {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox, // as root in a container; the pages tested are our own
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The machines that run these tests reach no network: a browser that
		// tries to (updates, sync, safe browsing) stalls or fills its log.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	p := &page{t: t, ctx: ctx, base: base}
	// The first Run starts the browser and lives as long as ctx: no timeout here.
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting %s: %v", exe, err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			p.saveArtifacts()
		}
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing the browser: %v", err)
		}
		cancel()
		cancelAlloc()
		<-done
	})
	return p
}

// do runs steps in the tab, each bounded by stepTimeout, and fails the
// test at the first error, naming what it was doing.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v (at %s)", what, err, p.location())
	}
}

// open loads path from the login server and waits for its script to have
// set the page up (body[data-ready]).
func (p *page) open(path string) {
	p.t.Helper()
	p.do("opening "+path, chromedp.Navigate(p.base+path))
	p.waitReady()
}

// waitReady waits until app.js has set up the page it is on.
func (p *page) waitReady() {
	p.t.Helper()
	p.waitFor("the page's script to set it up", `document.body && document.body.dataset.ready === "1"`)
}

// waitFor waits until the JavaScript expression is true in the page. A
// poll does not survive a navigation (the page's script moves on to the
// next page by itself), so it polls again on the new document.
func (p *page) waitFor(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(stepTimeout)))
		if err == nil {
			return
		}
		if ctx.Err() != nil || strings.Contains(err.Error(), "timeout") {
			p.t.Fatalf("waiting for %s: %v (at %s)", what, err, p.location())
		}
		select { // navigated: poll the next document
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitText waits until the element with id shows a text containing want,
// and returns its text.
func (p *page) waitText(id, want string) string {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("#%s to show %q", id, want), fmt.Sprintf(
		`(() => { const e = document.getElementById(%q); return !!e && !e.hidden && e.offsetParent !== null && e.textContent.includes(%q); })()`, id, want))
	return p.text(id)
}

// waitPath waits until the tab is at path (the script navigated there).
func (p *page) waitPath(path string) {
	p.t.Helper()
	p.waitFor("the page to go to "+path, fmt.Sprintf(`location.pathname === %q && document.readyState === "complete"`, path))
	p.waitReady()
}

// text is the text of the element with id.
func (p *page) text(id string) string {
	p.t.Helper()
	return p.eval(fmt.Sprintf(`document.getElementById(%q).textContent.trim()`, id))
}

// visible reports whether the element matching the CSS selector is shown.
func (p *page) visible(selector string) bool {
	p.t.Helper()
	return p.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return String(!!e && e.offsetParent !== null); })()`, selector)) == "true"
}

// eval evaluates a JavaScript expression whose value is a string.
func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// typeIn types text into the input with id, as a person does, key by key.
func (p *page) typeIn(id, text string) {
	p.t.Helper()
	p.do("typing into #"+id, chromedp.Focus(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), text))
}

// click clicks the element with id.
func (p *page) click(id string) {
	p.t.Helper()
	p.do("clicking #"+id, chromedp.Click(chromedp.ID(id)))
}

// location is the tab's URL, for error messages ("?" if it cannot be read).
func (p *page) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

// screenshot captures the tab's viewport as a PNG.
func (p *page) screenshot() []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// consoleLog is every console message so far, one a line.
func (p *page) consoleLog() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, m := range p.console {
		fmt.Fprintf(&b, "%s %s", m.Time.Format("15:04:05.000"), m)
		if m.URL != "" {
			fmt.Fprintf(&b, " (%s:%d)", m.URL, m.Line+1)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// scriptErrors are the console's uncaught exceptions and Content Security
// Policy violations: a page of ours must have none.
func (p *page) scriptErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m.String())
		}
	}
	return out
}

// checkScripts fails the test if the page threw or broke its CSP.
func (p *page) checkScripts() {
	p.t.Helper()
	if errs := p.scriptErrors(); len(errs) > 0 {
		p.t.Errorf("the page's console has script errors:\n%s", strings.Join(errs, "\n"))
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// saveArtifacts writes the failed test's screenshot, console log and page
// HTML to $E2E_ARTIFACTS (or a new directory under the system's temp
// directory) and logs where.
func (p *page) saveArtifacts() {
	root := os.Getenv("E2E_ARTIFACTS")
	if root == "" {
		root = os.TempDir()
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		p.t.Logf("saving the failed page: %v", err)
		return
	}
	dir, err := os.MkdirTemp(root, "e2e-"+unsafeName.ReplaceAllString(p.t.Name(), "_")+"-")
	if err != nil {
		p.t.Logf("saving the failed page: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "screenshot.png"), png, 0o644)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "page.html"), []byte(html), 0o644)
	}
	log := "URL: " + p.location() + "\n" + p.consoleLog()
	_ = os.WriteFile(filepath.Join(dir, "console.log"), []byte(log), 0o644)
	p.t.Logf("the failed page's screenshot.png, console.log and page.html are in %s", dir)
}
