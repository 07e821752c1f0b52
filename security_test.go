package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

func TestTLSTrustedThroughWithHTTPClient(t *testing.T) {
	t.Parallel()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != testAccount || p != testToken {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, golden(t, "fetch.json"))
	}))
	defer ts.Close()
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(ts.URL), WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ch, err := c.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
	if err != nil || !ch.Status.IsApproved() {
		t.Fatalf("over TLS: %v %v", ch, err)
	}
}

func TestTLSUntrustedCertificateIsNotRetried(t *testing.T) {
	t.Parallel()
	var handshakes atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request got through an untrusted certificate")
	}))
	ts.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		handshakes.Add(1)
		return nil, nil
	}}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	defer ts.Close()
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(ts.URL), WithMaxRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for _, op := range []func() error{
		func() error {
			_, err := c.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
			return err
		},
		func() error {
			_, err := c.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
			return err
		},
	} {
		handshakes.Store(0)
		err := op()
		var certErr *tls.CertificateVerificationError
		if !errors.As(err, &certErr) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("err = %v, want a certificate error", err)
		}
		if n := handshakes.Load(); n != 1 {
			t.Errorf("%d handshakes, want 1 (a bad certificate is not retried)", n)
		}
	}
}

func TestForeignNextPageURLNeverGetsCredentials(t *testing.T) {
	t.Parallel()
	foreign := newRawServer(t, "127.0.0.2", func(conn net.Conn, _ *http.Request) { writeRaw(conn, 200, "", "{}") })
	srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
		writeRaw(conn, 200, jsonHeader, pageBody(0, 1, foreign.url+listPath+"?PageToken=PT2"))
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	var last error
	for _, err := range c.Challenges.List(context.Background(), testService, testIdentity, nil) {
		last = err
	}
	if last == nil || !strings.Contains(last.Error(), "refusing") {
		t.Errorf("err = %v, want a refusal", last)
	}
	if n := foreign.connections(); n != 0 {
		t.Errorf("the foreign host received %d connections", n)
	}
}

// TestPanicsDoNotPrintSecrets panics with a Client in a child process and
// reads what the runtime printed.
func TestPanicsDoNotPrintSecrets(t *testing.T) {
	if os.Getenv("VERIFY_PANIC_CHILD") != "" {
		c, _ := NewClient(WithCredentials(testAccount, testToken))
		switch os.Getenv("VERIFY_PANIC_CHILD") {
		case "pointer":
			panic(c)
		case "value":
			panic(*c)
		case "error":
			panic(fmt.Errorf("login failed with %v / %+v / %#v", c, c, *c))
		}
		return
	}
	t.Parallel()
	for _, mode := range []string{"pointer", "value", "error"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPanicsDoNotPrintSecrets$")
		cmd.Env = append(os.Environ(), "VERIFY_PANIC_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "panic") {
			t.Fatalf("%s: child did not panic: %v\n%s", mode, err, out)
		}
		assertNoSecrets(t, "panic output ("+mode+")", string(out))
	}
}

func TestHostileInputIsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	long := strings.Repeat("a", 10<<10)
	for _, id := range []string{
		"user/../../admin", "abc/defgh", "..", "../abcdefgh", "abcd%2Fefgh", "abcdefgh?x=1", "abcdefgh#frag",
		"abcd\x00efgh", "аbcdefgh" /* Cyrillic a */, "abcdefgh\u200b", "ａbcdefgh", long, "", " abcdefgh",
	} {
		_, err := h.client.Challenges.Fetch(ctx, testService, id, testChallenge)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "Identity" {
			t.Errorf("identity %.40q: err = %v", id, err)
		}
	}
	for _, sid := range []string{
		"YC03aaaaaaaaaaaaaaaaaaaaaaaaaaa/..", "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaa%2F", "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaa?",
		"YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaa#", "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x00", "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaа", "YC" + long,
	} {
		_, err := h.client.Challenges.Fetch(ctx, testService, testIdentity, sid)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "Sid" {
			t.Errorf("sid %.40q: err = %v", sid, err)
		}
		_, err = h.client.Challenges.Fetch(ctx, "VA"+sid[2:], testIdentity, testChallenge)
		if !errors.As(err, &ve) || ve.Field != "ServiceSid" {
			t.Errorf("service sid %.40q: err = %v", sid, err)
		}
	}
	fields := make([]Field, 21)
	for i := range fields {
		fields[i] = Field{Label: "l", Value: "v"}
	}
	for name, p := range map[string]*CreateChallengeParams{
		"21 fields":       {FactorSID: testFactor, Details: &Details{Message: "m", Fields: fields}},
		"37-char label":   {FactorSID: testFactor, Details: &Details{Message: "m", Fields: []Field{{Label: strings.Repeat("l", 37), Value: "v"}}}},
		"1025-char map":   {FactorSID: testFactor, HiddenDetails: NewSecretMap(map[string]string{"k": strings.Repeat("v", 1025-8)})},
		"10 kB message":   {FactorSID: testFactor, Details: &Details{Message: long}},
		"factor sid NUL":  {FactorSID: "YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\x00"},
		"factor sid path": {FactorSID: "YF03aaaaaaaaaaaaaaaaaaaaaaaaaaa/../"},
	} {
		_, err := h.client.Challenges.Create(ctx, testService, testIdentity, p)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want *ValidationError", name, err)
		}
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("hostile input sent %d requests", n)
	}
}

// TestHostileZeroValuesDoNotPanic: a nil ctx for Wait, a zero EventHub and
// a Page built by hand give errors or work, never a panic.
func TestHostileZeroValuesDoNotPanic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var nilCtx context.Context // a caller's mistake, not a context.TODO
	if _, err := h.client.Challenges.Wait(nilCtx, testService, testIdentity, testChallenge, nil); err == nil || !strings.Contains(err.Error(), "nil context") {
		t.Errorf("Wait(nil ctx): %v", err)
	}
	var hub EventHub
	events, stop := hub.Subscribe(testChallenge)
	if err := hub.Publish(context.Background(), &Event{UUID: "u", Type: EventChallengeApproved, ChallengeSID: testChallenge}); err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.UUID != "u" {
		t.Errorf("zero EventHub delivered %+v", ev)
	}
	stop()
	page := &Page[Challenge]{Meta: PageMeta{NextPageURL: apiBase + listPath + "?Page=1"}}
	if _, err := page.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "use ListPage") {
		t.Errorf("Next on a hand-built Page: %v", err)
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
