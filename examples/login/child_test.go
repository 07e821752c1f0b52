package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// built is the login command, built once with go build for the tests that
// run it as a child process over real sockets; TestMain removes its
// directory.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// loginBinary builds the command (once per test run) and returns its path.
func loginBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "login-test-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "login")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = &buildError{err: err, out: string(out)}
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// buildError is a failed go build with its output.
type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// removeBuilt removes the built command's directory, if any.
func removeBuilt() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// child is the built login command running against an in-process fake,
// for user ada with a push and a TOTP factor. The fake's webhooks go to
// the child's /hooks/verify.
type child struct {
	t      *testing.T
	fake   *verifytest.Server
	api    *apiLog // every request the child sent to the fake
	base   string  // http://host:port of the child
	cmd    *exec.Cmd
	stderr *syncBuffer
	ada    *account
	tmp    string // the child's TMPDIR
}

// startChild runs the command with args after the flags that point it at
// a new fake, and waits for its "listening on" line. It is stopped and the
// fake closed at the end of the test.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	bin := loginBinary(t)
	fake := verifytest.NewServer()
	c := &child{t: t, fake: fake, stderr: &syncBuffer{}, tmp: t.TempDir(),
		api: &apiLog{next: http.DefaultTransport.(*http.Transport).Clone(), grew: make(chan struct{})}}
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target) // to the fake, through c.api
	proxy.Transport = c.api
	front := httptest.NewServer(proxy)
	ada := &account{name: "ada", password: "pw-of-ada", identity: "user-0001-ada"}
	if ada.phone, err = fake.NewPushDevice(fake.ServiceSID(), ada.identity); err != nil {
		t.Fatal(err)
	}
	if ada.totp, err = fake.NewTOTPFactor(fake.ServiceSID(), ada.identity, nil); err != nil {
		t.Fatal(err)
	}
	c.ada = ada
	c.cmd = exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-base-url", front.URL, "-user", ada.name, "-password", ada.password}, args...)...)
	c.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + c.tmp,
		"TWILIO_ACCOUNT_SID=" + fake.AccountSID(), "TWILIO_AUTH_TOKEN=" + fake.AuthToken(),
		"VERIFY_SERVICE_SID=" + fake.ServiceSID(), "VERIFY_IDENTITY=" + ada.identity,
		"VERIFY_PUSH_FACTOR_SID=" + ada.phone.FactorSID, "VERIFY_TOTP_FACTOR_SID=" + ada.totp.SID}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	copied := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		defer close(copied)
		r := bufio.NewReader(stderr)
		for sent := false; ; {
			line, err := r.ReadString('\n')
			_, _ = c.stderr.Write([]byte(line))
			// The listening line, after what the flags make it log first
			// (-passkey-origin: the relying party it set), or the last
			// line of a command that ended without it.
			if !sent && (strings.Contains(line, "listening on http://") || err != nil) {
				lines <- line
				sent = true
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		<-copied
		front.Close()
		c.api.CloseIdleConnections()
		fake.Close()
	})
	select {
	case line := <-lines:
		_, rest, ok := strings.Cut(line, "listening on http://")
		addr, _, _ := strings.Cut(rest, ",")
		if !ok {
			t.Fatalf("the command said %q, want a line with %q", c.stderr.String(), "listening on http://")
		}
		c.base = "http://" + addr
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not say it was listening within 20 s")
	}
	if _, err := fake.WebhookURL(c.base + "/hooks/verify"); err != nil {
		t.Fatal(err)
	}
	return c
}

// rss is the child's resident memory in bytes, from /proc.
func (c *child) rss() int64 {
	c.t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
	if err != nil {
		c.t.Skipf("no /proc to read the child's memory from: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				c.t.Fatal(err)
			}
			return kb << 10
		}
	}
	c.t.Fatal("no VmRSS in /proc/<pid>/status")
	return 0
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (any 127.x.y.z on Linux), so that the child sees another
// client address; it sends requests without any cookie jar.
func clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// visitor is a browser of the child's, from one client address.
func (c *child) visitor(ip string) *browser {
	return &browser{t: c.t, base: c.base, client: clientFrom(c.t, ip)}
}

// postRaw posts body with contentType to the child's path from client
// and returns the status (0 when the request failed, with err).
func (c *child) postRaw(ctx context.Context, client *http.Client, path, contentType string, body io.Reader) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// flood runs fn in 16 workers, each a visitor from ip with its own
// session, for 2 s, and returns how many answers had each status (0: the
// request failed or was hung up); it logs the rate.
func (c *child) flood(name, ip string, fn func(*browser) (int, string)) map[int]int {
	c.t.Helper()
	var mu sync.Mutex
	counts := map[int]int{}
	end := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for range 16 {
		b := c.visitor(ip)
		b.hangUp = time.Second // a push waits for the phone: hang up
		wg.Go(func() {
			for time.Now().Before(end) {
				status, _ := fn(b)
				mu.Lock()
				counts[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	c.t.Logf("%s from %s: %d requests in 2 s (%d/s), by status %v", name, ip, total, total/2, counts)
	return counts
}

// logsIn logs a in from ip with the password, then with a TOTP code or a
// push that a's phone approves, and checks /me.
func (c *child) logsIn(a *account, ip, how string) {
	c.t.Helper()
	b := c.visitor(ip)
	if status, body := b.post("/login/password", url.Values{"username": {a.name}, "password": {a.password}}); status != 200 {
		c.t.Fatalf("%s's password from %s: %d %q, want 200", a.name, ip, status, body)
	}
	var status int
	var body string
	if how == "totp" {
		status, body = b.post("/login/totp", url.Values{"code": {a.totp.Code()}})
	} else {
		from := c.api.mark()
		done := make(chan struct{})
		go func() {
			defer close(done)
			status, body = b.post("/login/push", nil)
		}()
		if sid := c.api.pushWaiting(from, a.identity); sid == "" {
			c.t.Errorf("no push to %s's phone", a.name)
		} else if _, err := a.phone.Approve(c.t.Context(), sid); err != nil {
			c.t.Error(err)
		}
		<-done
	}
	if status != 200 || body != "welcome" {
		c.t.Errorf("%s's %s login from %s: %d %q, want 200 welcome", a.name, how, ip, status, body)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 {
		c.t.Errorf("%s's /me: %d %q, want 200", a.name, status, body)
	}
}

// challenges lists the challenges of factorSID of identity's on the fake
// with status ("": any).
func (c *child) challenges(identity, factorSID string, status verify.ChallengeStatus) []string {
	c.t.Helper()
	look := c.fake.Client()
	defer look.CloseIdleConnections()
	var sids []string
	for ch, err := range look.Challenges.List(c.t.Context(), c.fake.ServiceSID(), identity, &verify.ListChallengesParams{FactorSID: factorSID, Status: status}) {
		if err != nil {
			c.t.Fatal(err)
		}
		sids = append(sids, ch.SID)
	}
	return sids
}
