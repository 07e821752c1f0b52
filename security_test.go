package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
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
		"1025-char map":   {FactorSID: testFactor, HiddenDetails: map[string]string{"k": strings.Repeat("v", 1025-8)}},
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

// TestEnrollmentSecretsNeverPrinted: a new factor's binding secret and URI,
// an access token, and a TOTP secret passed in never show in any fmt verb
// of the values that hold them, alone or nested, nor in a log/slog record
// (text or JSON) that carries them.
func TestEnrollmentSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	h.mock.RegisterResponder("POST", apiBase+pathFactors, jsonResponder(t, 201, "factor_create_totp.json"))
	h.mock.RegisterResponder("POST", apiBase+pathTokens, jsonResponder(t, 201, "access_token.json"))
	params := &CreateTOTPFactorParams{FriendlyName: "Ada's phone", Secret: goldenBindingSecret, Skew: Ptr(1)}
	nf, err := h.client.Factors.CreateTOTP(ctx, testService, testIdentity, params)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := h.client.AccessTokens.Create(ctx, testService, &CreateAccessTokenParams{Identity: testIdentity})
	if err != nil {
		t.Fatal(err)
	}
	// The secrets are there to be used; only their printing is refused.
	if nf.Binding.Secret != goldenBindingSecret || !strings.Contains(nf.Binding.URI, goldenBindingSecret) || tok.Token != goldenAccessToken {
		t.Fatalf("decoded binding %q %q and token %.20q; want the golden values", nf.Binding.Secret, nf.Binding.URI, tok.Token)
	}

	values := []struct {
		name string
		v    any
		show string // a non-secret part the output must still show
	}{
		{"NewFactor", *nf, goldenFactor},
		{"*NewFactor", nf, goldenFactor},
		{"Binding", nf.Binding, "[redacted]"},
		{"*Binding", &nf.Binding, "[redacted]"},
		{"[]NewFactor", []NewFactor{*nf}, goldenFactor},
		{"AccessToken", *tok, testAccessToken},
		{"*AccessToken", tok, testAccessToken},
		{"struct holding both", struct {
			F NewFactor
			T AccessToken
		}{*nf, *tok}, testAccessToken},
		{"CreateTOTPFactorParams", *params, "Ada's phone"},
		{"*CreateTOTPFactorParams", params, "Skew: 1"},
	}
	for _, tc := range values {
		assertPrintsRedacted(t, tc.name, tc.v, tc.show)
	}

	for _, mk := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var buf strings.Builder
		slog.New(mk(&buf)).Info("enrolled", "factor", nf, "binding", nf.Binding, "token", tok, "value", *tok, "params", params)
		out := buf.String()
		assertNoSecrets(t, "log record", out)
		for _, want := range []string{goldenFactor, testAccessToken, "[redacted]", "Ada's phone"} {
			if !strings.Contains(out, want) {
				t.Errorf("log record %s; want it to show %q", out, want)
			}
		}
	}
}

// TestPayloadParamsNeverPrinted: the params that carry an AuthPayload,
// HiddenDetails or Metadata print and log them redacted.
func TestPayloadParamsNeverPrinted(t *testing.T) {
	t.Parallel()
	create := &CreateChallengeParams{FactorSID: testFactor, AuthPayload: secretTOTP,
		HiddenDetails: StringMap{"ip": secretHidden}, Details: &Details{Message: "Log in?"}}
	update := &UpdateChallengeParams{AuthPayload: secretJWT, Metadata: StringMap{"os": secretHidden}}
	factor := &UpdateFactorParams{AuthPayload: secretTOTP, FriendlyName: "Ada's phone", Skew: Ptr(0)}
	for _, tc := range []struct {
		name string
		v    any
		show string
	}{
		{"CreateChallengeParams", *create, "ip:[redacted]"},
		{"*CreateChallengeParams", create, "Log in?"},
		{"UpdateChallengeParams", *update, "os:[redacted]"},
		{"*UpdateChallengeParams", update, "AuthPayload: [redacted]"},
		{"UpdateFactorParams", *factor, "Skew: 0"},
		{"*UpdateFactorParams", factor, "Ada's phone"},
	} {
		assertPrintsRedacted(t, tc.name, tc.v, tc.show)
	}
	for _, mk := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var buf strings.Builder
		slog.New(mk(&buf)).Info("sent", "create", create, "update", *update, "factor", factor)
		assertNoSecrets(t, "log record", buf.String())
		if !strings.Contains(buf.String(), "[redacted]") {
			t.Errorf("log record %s; want redacted values", buf.String())
		}
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

// assertPrintsRedacted prints v with every verb: never a secret, and with
// %+v still the non-secret part show.
func assertPrintsRedacted(t *testing.T, name string, v any, show string) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, v)
		assertNoSecrets(t, name+" "+verb, out)
		if verb == "%+v" && !strings.Contains(out, show) {
			t.Errorf("%s %s = %s; want it to show %q", name, verb, out, show)
		}
	}
}
