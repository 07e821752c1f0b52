package verify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// Environment tests use t.Setenv, so they cannot run in parallel.

func clearTwilioEnv(t *testing.T) {
	for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "TWILIO_EDGE", "TWILIO_REGION"} {
		t.Setenv(k, "")
	}
}

func TestNewClientFromEnvironment(t *testing.T) {
	clearTwilioEnv(t)
	_, err := NewClient()
	if err == nil || !strings.Contains(err.Error(), "TWILIO_ACCOUNT_SID") || !strings.Contains(err.Error(), "TWILIO_API_KEY") {
		t.Fatalf("no credentials: err = %v, want it to name the variables", err)
	}

	t.Setenv("TWILIO_ACCOUNT_SID", testAccount)
	_, err = NewClient()
	if err == nil || !strings.Contains(err.Error(), "auth token is empty") || !strings.Contains(err.Error(), "TWILIO_AUTH_TOKEN") {
		t.Fatalf("missing token: err = %v", err)
	}
	t.Setenv("TWILIO_AUTH_TOKEN", testToken)
	c, err := NewClient()
	if err != nil || c.AccountSID() != testAccount || c.BaseURL() != DefaultBaseURL {
		t.Fatalf("env credentials: %v %v", c, err)
	}

	t.Setenv("TWILIO_ACCOUNT_SID", "AC123")
	_, err = NewClient()
	if err == nil || !strings.Contains(err.Error(), "AC followed by 32 hex digits") {
		t.Fatalf("malformed account: %v", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error shows the token: %v", err)
	}

	t.Setenv("TWILIO_ACCOUNT_SID", testAccount)
	t.Setenv("TWILIO_API_KEY", "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	_, err = NewClient()
	if err == nil || !strings.Contains(err.Error(), "API key secret is empty") {
		t.Fatalf("key without secret: %v", err)
	}
	t.Setenv("TWILIO_API_SECRET", "key-secret")
	if _, err = NewClient(); err != nil {
		t.Fatalf("API key from env: %v", err)
	}

	t.Setenv("TWILIO_EDGE", "sydney")
	c, err = NewClient()
	if err != nil || c.BaseURL() != "https://verify.sydney.us1.twilio.com" {
		t.Fatalf("edge alone: %v %v", c.BaseURL(), err)
	}
	t.Setenv("TWILIO_REGION", "au1")
	c, _ = NewClient()
	if c.BaseURL() != "https://verify.sydney.au1.twilio.com" {
		t.Fatalf("edge and region: %v", c.BaseURL())
	}
	t.Setenv("TWILIO_EDGE", "")
	c, _ = NewClient()
	if c.BaseURL() != "https://verify.au1.twilio.com" {
		t.Fatalf("region alone: %v", c.BaseURL())
	}
	t.Setenv("TWILIO_REGION", "au1.evil.com/x")
	if _, err = NewClient(); err == nil || !strings.Contains(err.Error(), "TWILIO_REGION") {
		t.Fatalf("bad region: %v", err)
	}
}

func TestOptionsOverrideEnvironment(t *testing.T) {
	clearTwilioEnv(t)
	t.Setenv("TWILIO_ACCOUNT_SID", "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	t.Setenv("TWILIO_AUTH_TOKEN", "env-token")
	c, err := NewClient(WithCredentials(testAccount, testToken), WithRegion("ie1"))
	if err != nil || c.AccountSID() != testAccount || c.BaseURL() != "https://verify.ie1.twilio.com" {
		t.Fatalf("%v %v", c, err)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	creds := WithCredentials(testAccount, testToken)
	for _, tc := range []struct {
		name string
		opt  Option
		want string
	}{
		{"http to a public host", WithBaseURL("http://verify.twilio.com"), "only allowed for loopback"},
		{"relative URL", WithBaseURL("/v2"), "absolute http(s) URL"},
		{"user info", WithBaseURL("https://u:p@verify.example.com"), "no user info"},
		{"bad edge", WithEdge("Sydney!"), "edge name"},
		{"nil http client", WithHTTPClient(nil), "nil"},
		{"zero timeout", WithTimeout(0), "positive"},
		{"negative retries", WithMaxRetries(-1), "0 or more"},
		{"wait bounds", WithRetryWait(2, 1), "min <= max"},
		{"user agent newline", WithUserAgent("x\r\nEvil: 1"), "line breaks"},
		{"user agent NUL", WithUserAgent("app\x00/1"), "control characters"},
		{"API key SID", WithAPIKey(testAccount, "SK1", "s"), "SK followed by 32 hex digits"},
		{"empty token", WithCredentials(testAccount, ""), "auth token is empty"},
	} {
		_, err := NewClient(creds, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:9", "https://proxy.example.com/twilio"} {
		c, err := NewClient(creds, WithBaseURL(ok))
		if err != nil {
			t.Errorf("%s rejected: %v", ok, err)
		} else if strings.HasSuffix(c.BaseURL(), "/") {
			t.Errorf("%s kept a trailing slash: %s", ok, c.BaseURL())
		}
	}
}

func TestAPIKeyAuthAndUserAgentSuffix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithAPIKey(testAccount, "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "key-secret"), WithUserAgent("myapp/1.2"))
	h.mock.RegisterResponder("GET", oneURL, jsonResponder(t, 200, "fetch.json"))
	if _, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge); err != nil {
		t.Fatal(err)
	}
	s := h.only()
	req := &http.Request{Header: s.Header}
	user, pass, ok := req.BasicAuth()
	if !ok || user != "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || pass != "key-secret" {
		t.Errorf("basic auth = %q %q %v", user, pass, ok)
	}
	if ua := s.Header.Get("User-Agent"); !strings.HasSuffix(ua, " myapp/1.2") {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestClientNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithAPIKey(testAccount, "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", testToken))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v", *c, *c, *c),
		fmt.Sprintf("%+v %#v", c.Challenges, *c.Challenges),
	} {
		if strings.Contains(s, testToken) || strings.Contains(s, "Basic ") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func TestLoggingIsSilentByDefaultAndRedacted(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, WithLogger(logger), WithMaxRetries(1))
	h.mock.RegisterResponder("POST", oneURL, sequence(twilioError(429, 20429, "slow"), jsonResponder(t, 200, "update_push.json")))
	_, err := h.client.Challenges.Update(context.Background(), testService, testIdentity, testChallenge,
		&UpdateChallengeParams{AuthPayload: NewSecret("PAYLOAD-SECRET"), Metadata: map[string]string{"ip": "HIDDEN-VALUE"}})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "verify retry") || !strings.Contains(out, "attempt=1") || !strings.Contains(out, "status=429") ||
		!strings.Contains(out, "request_id=RQ0000") || !strings.Contains(out, "verify request") {
		t.Errorf("log lacks retry details:\n%s", out)
	}
	for _, secret := range []string{testToken, "PAYLOAD-SECRET", "HIDDEN-VALUE", "Basic "} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}

func TestRequestLogRecordsFinalStatusAndAttempts(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, WithLogger(logger), WithMaxRetries(2))
	h.mock.RegisterResponder("GET", oneURL, twilioError(503, 0, "down"))
	if _, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge); err == nil {
		t.Fatal("want an error")
	}
	var last string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Contains(line, `msg="verify request"`) {
			last = line
		}
	}
	for _, want := range []string{"status=503", "attempts=3", "ok=false", "method=GET"} {
		if !strings.Contains(last, want) {
			t.Errorf("request record %q lacks %s", last, want)
		}
	}
}
