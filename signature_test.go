package verify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/verifykit/verify-go/internal/twiliosig"
)

// signatureVector is one case of testdata/webhook_signatures.json, computed
// by testdata/webhook_signatures.py with Python's hmac, not by this package.
type signatureVector struct {
	Name        string   `json:"name"`
	PublicURL   string   `json:"public_url"`   // the URL as registered at Twilio
	DeliveryURL string   `json:"delivery_url"` // the URL Twilio called and signed
	ContentType string   `json:"content_type"`
	Body        string   `json:"body"`
	Tokens      []string `json:"tokens"` // WebhookConfig.AuthTokens
	Signature   string   `json:"signature"`
	Valid       bool     `json:"valid"`
	Replay      bool     `json:"replay"` // deliver twice through the handler
}

func loadSignatureVectors(t *testing.T) []signatureVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhook_signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Comment string            `json:"comment"`
		Vectors []signatureVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Comment, "python3 testdata/webhook_signatures.py") || len(f.Vectors) < 15 {
		t.Fatalf("vectors file: comment %q, %d vectors; regenerate it with the script", f.Comment, len(f.Vectors))
	}
	return f.Vectors
}

// vectorRequest is the delivery of v as a server receives it: r.Host and
// RequestURI from the delivery URL, TLS set for https.
func vectorRequest(t *testing.T, v signatureVector) *http.Request {
	t.Helper()
	u, err := url.Parse(v.DeliveryURL)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, u.RequestURI(), strings.NewReader(v.Body))
	r.Host = u.Host
	if u.Scheme == "https" {
		r.TLS = &tls.ConnectionState{}
	}
	r.Header.Set("Content-Type", v.ContentType)
	r.Header.Set(SignatureHeader, v.Signature)
	return r
}

func TestWebhookSignatureVectors(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, v := range loadSignatureVectors(t) {
		names[v.Name] = true
		// As deployed behind a proxy: PublicURL is the registered URL. The
		// vectors' bodies are fixed, without date_created: no age limit.
		ev, err := ParseEvent(vectorRequest(t, v), WebhookConfig{AuthTokens: Secrets(v.Tokens...), PublicURL: v.PublicURL, MaxEventAge: -1})
		if v.Valid != (err == nil) {
			t.Errorf("%s (PublicURL): err = %v, want valid=%v", v.Name, err, v.Valid)
			continue
		}
		if err != nil && !errors.Is(err, ErrWebhookSignature) {
			t.Errorf("%s: err = %v, want ErrWebhookSignature", v.Name, err)
		}
		if err == nil && (ev.UUID == "" || ev.ChallengeSID != "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
			t.Errorf("%s: parsed %+v", v.Name, ev)
		}
		// Without PublicURL the URL is rebuilt from the request; that is the
		// registered URL only when Twilio called it unchanged.
		called, _, _ := strings.Cut(v.DeliveryURL, "bodySHA256=")
		if strings.TrimRight(called, "?&") == v.PublicURL {
			_, err := ParseEvent(vectorRequest(t, v), WebhookConfig{AuthTokens: Secrets(v.Tokens...), MaxEventAge: -1})
			if v.Valid != (err == nil) {
				t.Errorf("%s (rebuilt URL): err = %v, want valid=%v", v.Name, err, v.Valid)
			}
		}
	}
	for _, want := range []string{"default port added by Twilio", "default port removed by Twilio", "query string present",
		"repeated keys, every value counts", "non-ASCII value", "JSON with bodySHA256", "wrong token",
		"rotated token: second of two", "tampered value", "replayed uuid"} {
		if !names[want] {
			t.Errorf("no vector %q", want)
		}
	}
}

func TestURLVariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"https://example.com/hooks", []string{"https://example.com/hooks", "https://example.com:443/hooks"}},
		{"https://example.com:443/hooks?a=1", []string{"https://example.com:443/hooks?a=1", "https://example.com/hooks?a=1"}},
		{"http://example.com", []string{"http://example.com", "http://example.com:80"}},
		{"http://example.com:80?x=a%2Fb#f", []string{"http://example.com:80?x=a%2Fb#f", "http://example.com?x=a%2Fb#f"}},
		{"HTTPS://user:pw@example.com/x", []string{"HTTPS://user:pw@example.com/x", "HTTPS://user:pw@example.com:443/x"}},
		{"https://[::1]/x", []string{"https://[::1]/x", "https://[::1]:443/x"}},
		{"https://[::1]:443/x", []string{"https://[::1]:443/x", "https://[::1]/x"}},
		{"https://example.com:8443/hooks", []string{"https://example.com:8443/hooks"}},
		{"https://example.com:80/hooks", []string{"https://example.com:80/hooks"}},
		{"ftp://example.com/x", []string{"ftp://example.com/x"}},
		{"not a url", []string{"not a url"}},
		{"https:///path", []string{"https:///path"}},
	} {
		if got := urlVariants(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("urlVariants(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzWebhookSignature checks that what signWebhook signs verifies, with
// the URL's default port added or removed too, and that another value or
// another token does not.
func FuzzWebhookSignature(f *testing.F) {
	f.Fuzz(func(t *testing.T, rawURL, key, value, token string) {
		if token == "" {
			return
		}
		form := url.Values{key: {value}}
		sig := signWebhook(token, rawURL, form)
		variants := urlVariants(rawURL)
		if len(variants) == 0 || len(variants) > 2 || variants[0] != rawURL {
			t.Fatalf("urlVariants(%q) = %q", rawURL, variants)
		}
		for _, v := range variants {
			if d := len(v) - len(rawURL); d != 0 && d != 3 && d != 4 && d != -3 && d != -4 {
				t.Fatalf("variant %q of %q differs by more than a default port", v, rawURL)
			}
		}
		if !verifies(Secrets("other", token), sig, rawURL, form) {
			t.Fatalf("own signature refused for %q", rawURL)
		}
		if len(variants) == 2 && !verifies(Secrets(token), signWebhook(token, variants[1], form), rawURL, form) {
			t.Fatalf("signature for %q refused for %q", variants[1], rawURL)
		}
		if verifies(Secrets(token), sig, rawURL, url.Values{key: {value + "x"}}) {
			t.Fatal("a changed value verified")
		}
		if verifies(Secrets(token+"x"), sig, rawURL, form) {
			t.Fatal("another token verified")
		}
	})
}

// verifies reports whether sig verifies form delivered to rawURL under
// one of tokens, as ParseEvent checks it.
func verifies(tokens []Secret, sig, rawURL string, form url.Values) bool {
	mac, ok := twiliosig.Decode(sig)
	return ok && checkSignature(tokens, mac, rawURL, twiliosig.FormData(form))
}

// TestBasicAuthWebhookURL: a webhook registered with HTTP Basic auth,
// http://twilio:password@host/hooks/verify, is called with an
// Authorization header and signed over the URL without the user info
// (Twilio's security notes: it drops the username and password before
// computing the signature). It verifies with PublicURL as the URL without
// them, or rebuilt from the request; a PublicURL holding them is refused,
// and the password shows in no error.
func TestBasicAuthWebhookURL(t *testing.T) {
	t.Parallel()
	const user, password = "twilio", "b4sic-pw-s3cret"
	calls := 0
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="hooks"`)
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	registered := "http://" + user + ":" + password + "@" + host + "/hooks/verify"
	signedByTwilio := "http://" + host + "/hooks/verify"
	deliver := func(signedURL string) int {
		t.Helper()
		form := eventForm()
		form.Set("uuid", "basic-"+signedURL)
		req, err := http.NewRequest(http.MethodPost, registered, strings.NewReader(form.Encode())) // Go sends the user info as Authorization
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(SignatureHeader, signWebhook(testToken, signedURL, form))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ok := func(context.Context, *Event) error { calls++; return nil }
	for _, publicURL := range []string{signedByTwilio, ""} {
		handler = NewWebhookHandler(WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: publicURL}, ok)
		if st := deliver(signedByTwilio); st != http.StatusNoContent {
			t.Errorf("PublicURL %q: signed without user info: HTTP %d, want 204", publicURL, st)
		}
		if st := deliver(registered); st != http.StatusForbidden {
			t.Errorf("PublicURL %q: signed with the user info, which Twilio does not do: HTTP %d, want 403", publicURL, st)
		}
	}
	if calls != 2 {
		t.Errorf("%d callbacks, want 2", calls)
	}

	cfg := WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: registered}
	_, err := ParseEvent(formRequest(signedByTwilio, eventForm(), testToken), cfg)
	if err == nil || !strings.Contains(err.Error(), "PublicURL holds user info") || strings.Contains(err.Error(), password) {
		t.Errorf("ParseEvent with the password in PublicURL: %v", err)
	}
	func() {
		defer func() {
			if p := recover(); p == nil || strings.Contains(fmt.Sprint(p), password) {
				t.Errorf("NewWebhookHandler with the password in PublicURL: panic %v", p)
			}
		}()
		NewWebhookHandler(cfg, ok)
	}()
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://user:pw@example.com/x":       "https://user:xxxxx@example.com/x",
		"https://user:p%40w@example.com:8443": "https://user:xxxxx@example.com:8443",
		"https://user@example.com/x":          "https://user@example.com/x",
		"https://example.com/x?u=a:b@c":       "https://example.com/x?u=a:b@c",
		"https://a:b@[::1]:443/x#f":           "https://a:xxxxx@[::1]:443/x#f",
		"https://a:b:c@example.com/":          "https://a:xxxxx@example.com/",
		"https://a:b@evil@example.com/":       "https://a:xxxxx@example.com/",
		"":                                    "",
		"not a url":                           "not a url",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
