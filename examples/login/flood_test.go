package main

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
)

// TestLargeFormsAreRefused: 20 clients at once post 2 MB forms; each is
// refused with 413 after the first few KiB, and the command's memory
// barely moves. A multipart form is refused with 415, before any part of
// it is read or stored in a temporary file.
func TestLargeFormsAreRefused(t *testing.T) {
	c := startChild(t)
	client := clientFrom(t, "127.0.0.1")
	before := c.rss()
	big := url.Values{"username": {"ada"}, "password": {strings.Repeat("x", 2<<20)}}.Encode()
	c.refusesLarge(t, client, "/login/password", "application/x-www-form-urlencoded", big)
	after := c.rss()
	t.Logf("memory: %d MB before, %d MB after 20 refused 2 MB forms", before>>20, after>>20)
	if grew := after - before; grew > 16<<20 {
		t.Errorf("the command grew by %d MB for 20 refused 2 MB forms, want less than 16 MB", grew>>20)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("username", "ada")
	part, _ := mw.CreateFormFile("password", "big.bin")
	_, _ = part.Write(bytes.Repeat([]byte{'x'}, 1<<20))
	_ = mw.Close()
	if status, err := c.postRaw(t.Context(), client, "/login/password", mw.FormDataContentType(), &body); status != 415 && !isReset(err) {
		t.Errorf("a 1 MB multipart form: %d (%v), want 415", status, err)
	}
	if entries, err := os.ReadDir(c.tmp); err != nil || len(entries) != 0 {
		t.Errorf("the command's temporary directory holds %d entries (%v), want none", len(entries), err)
	}
}

// TestStalledBodiesAreCut: 30 clients send a request's headers and part
// of its body, then nothing. With -read-timeout 1s, each has an answer or
// a closed connection within 3 s, instead of being held open.
func TestStalledBodiesAreCut(t *testing.T) {
	c := startChild(t, "-read-timeout", "1s")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			stallBody(ctx, t, c.base, "/login/password", "application/x-www-form-urlencoded", "username=a")
		})
	}
	wg.Wait()
}

// refusesLarge posts body, which is over the server's cap, to path 20
// times at once from client, and fails t unless each is refused with 413
// or cut off while it is sent.
func (c *child) refusesLarge(t *testing.T, client *http.Client, path, contentType, body string) {
	t.Helper()
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			status, err := c.postRaw(t.Context(), client, path, contentType, strings.NewReader(body))
			if err != nil && !isReset(err) { // the server may close before reading all we send
				t.Error(err)
			}
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		if status != 413 && status != 0 {
			t.Errorf("%d bytes to %s: %d, want 413", len(body), path, status)
		}
	}
}

// stallBody sends a POST to path at base (http://host:port) with its
// headers and the start of a 100-byte body, then nothing, and fails t
// unless the server answers or hangs up before ctx ends.
func stallBody(ctx context.Context, t *testing.T, base, path, contentType, start string) {
	addr := strings.TrimPrefix(base, "http://")
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("POST " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nContent-Type: " + contentType + "\r\nContent-Length: 100\r\n\r\n" + start)); err != nil {
		t.Error(err)
		return
	}
	_, err = conn.Read(make([]byte, 512)) // an answer, or EOF when the server hangs up
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("a stalled body to %s: no answer and still open when the wait ended", path)
	}
}

// isReset reports whether err is the server closing the connection while
// the client was still sending.
func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// TestLoadCheck: 16 workers flood the built command from one address with
// wrong passwords, then (with the password) wrong TOTP codes, then
// pushes, for 2 s each; the right user, from another address, logs in
// after each flood. Rates, what reached the checks, and memory are
// logged for the README's security notes.
func TestLoadCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("a 6 s load check")
	}
	c := startChild(t)
	ada := c.ada
	before := c.rss()
	right := url.Values{"username": {ada.name}, "password": {ada.password}}

	counts := c.flood("wrong passwords", "127.0.0.1", func(b *browser) (int, string) {
		return b.post("/login/password", url.Values{"username": {ada.name}, "password": {"guess"}})
	})
	if n := counts[401]; n > passwordsPerAddress.free+2 {
		t.Errorf("%d wrong passwords checked in 2 s from one address, want at most %d", n, passwordsPerAddress.free+2)
	}
	if status, body := c.visitor("127.0.0.1").post("/login/password", right); status != 429 {
		t.Errorf("the right password from the flooding address: %d %q, want 429", status, body)
	}
	c.logsIn(ada, "127.0.0.2", "totp")

	c.flood("wrong TOTP codes", "127.0.0.3", func(b *browser) (int, string) {
		if b.cookie == nil {
			if status, body := b.post("/login/password", right); status != 200 {
				return status, body
			}
		}
		status, body := b.post("/login/totp", url.Values{"code": {wrongCode(ada.totp.Code())}})
		if status == 401 && body != "wrong code" {
			b.cookie = nil // the session ended: log in again
		}
		return status, body
	})
	if n := len(c.challenges(ada.identity, ada.totp.SID, "")); n > codesPerAddress.free+2 {
		t.Errorf("%d wrong codes reached Verify in 2 s from one address, want at most %d", n, codesPerAddress.free+2)
	}
	c.logsIn(ada, "127.0.0.4", "totp")

	before = min(before, c.rss())
	c.flood("pushes", "127.0.0.5", func(b *browser) (int, string) {
		if b.cookie == nil {
			if status, body := b.post("/login/password", right); status != 200 {
				return status, body
			}
		}
		return b.post("/login/push", nil)
	})
	t.Logf("after the floods: %d MB, was %d MB", c.rss()>>20, before>>20)
	sids := c.challenges(ada.identity, ada.phone.FactorSID, verify.StatusPending)
	if len(sids) != 1 {
		t.Fatalf("%d pushes pending on ada's phone after the flood, want 1", len(sids))
	}
	if _, err := ada.phone.Deny(t.Context(), sids[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.fake.WaitForDeliveries(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.logsIn(ada, "127.0.0.6", "push")
}
