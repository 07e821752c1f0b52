package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestPasskeyScript: the pages' passkey buttons work end to end in the
// browser, ahead of the server. examples/login serves no passkey
// endpoint yet, so a proxy in front of it plays the future server: it
// says "passkeys": true in GET /session and answers the four endpoints
// web/static/passkeys.js calls, with WebAuthn options as Verify's JSON
// gives them. Chromium's virtual authenticator stands in for the
// visitor's device. "Add a passkey" on the account page creates a
// credential and posts its toJSON(); "Sign in with a passkey", with no
// username, gets an assertion from that same credential and posts it.
func TestPasskeyScript(t *testing.T) {
	s := startServer(t, "ada", userOptions{totp: true})
	future := newPasskeyProxy(t, s.base)
	p := newPage(t, future.url, 1024, 768)
	p.addVirtualAuthenticator()

	p.signIn(s.user)
	p.waitPath("/second-factor")
	if !p.visible("#passkey-second") {
		t.Error(`"Use a passkey" is hidden although /session says passkeys`)
	}
	p.typeIn("totp-code", s.user.totp.Code())
	p.click("totp-verify")
	p.waitPath("/account")

	p.stay()
	p.click("passkey-add")
	reg := future.waitPost(t, "/enroll/passkey/verify")
	p.waitFor("the account page to load again", `window.e2eStayed === undefined && document.body.dataset.ready === "1"`)
	var created struct {
		ID       string `json:"id"`
		RawID    string `json:"rawId"`
		Type     string `json:"type"`
		Response struct {
			ClientDataJSON    string `json:"clientDataJSON"`
			AttestationObject string `json:"attestationObject"`
		} `json:"response"`
	}
	if err := json.Unmarshal(reg, &created); err != nil {
		t.Fatalf("the registration posted %q: %v", reg, err)
	}
	if created.Type != "public-key" || created.ID == "" || created.RawID != created.ID || created.Response.AttestationObject == "" {
		t.Fatalf("the registration posted %s", reg)
	}
	future.checkClientData(t, created.Response.ClientDataJSON, "webauthn.create")

	p.click("sign-out")
	p.waitPath("/")
	p.waitFor("the passkey button", `document.getElementById("passkey-signin").offsetParent !== null`)
	p.click("passkey-signin")
	got := future.waitPost(t, "/login/passkey")
	var assertion struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Response struct {
			ClientDataJSON    string `json:"clientDataJSON"`
			AuthenticatorData string `json:"authenticatorData"`
			Signature         string `json:"signature"`
			UserHandle        string `json:"userHandle"`
		} `json:"response"`
	}
	if err := json.Unmarshal(got, &assertion); err != nil {
		t.Fatalf("the sign-in posted %q: %v", got, err)
	}
	if assertion.ID != created.ID || assertion.Response.Signature == "" || assertion.Response.AuthenticatorData == "" {
		t.Errorf("the sign-in posted %s; want an assertion by the credential %s", got, created.ID)
	}
	if user, _ := base64.RawURLEncoding.DecodeString(assertion.Response.UserHandle); string(user) != s.user.identity {
		t.Errorf("the assertion's user handle is %q, want %q: a usernameless sign-in learns the user from it", user, s.user.identity)
	}
	future.checkClientData(t, assertion.Response.ClientDataJSON, "webauthn.get")
	p.checkScripts()
}

// addVirtualAuthenticator gives the browser a platform authenticator that
// holds discoverable credentials and verifies its user without a prompt.
func (p *page) addVirtualAuthenticator() {
	p.t.Helper()
	p.do("adding a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// passkeyProxy is examples/login as it will be with passkeys: the real
// server behind a proxy that adds the passkey endpoints. The browser
// reaches it as localhost, a name WebAuthn takes as a relying party ID
// (an IP address it refuses).
type passkeyProxy struct {
	url    string // http://localhost:port
	origin string
	mu     sync.Mutex
	posts  map[string][]byte // the JSON body posted to each finishing endpoint
	posted chan struct{}     // a finishing endpoint got a body
	challs map[string]bool   // the challenges handed out
}

func newPasskeyProxy(t *testing.T, backend string) *passkeyProxy {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	pp := &passkeyProxy{posts: map[string][]byte{}, posted: make(chan struct{}, 8), challs: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/session" || resp.StatusCode != 200 {
			return nil
		}
		var st map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return err
		}
		resp.Body.Close()
		st["passkeys"] = true
		b, _ := json.Marshal(st)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/", proxy)
	mux.HandleFunc("POST /enroll/passkey", func(w http.ResponseWriter, r *http.Request) {
		pp.options(w, map[string]any{
			"rp":               map[string]any{"id": "localhost", "name": "Example"},
			"user":             map[string]any{"id": b64("user-0001-ada"), "name": "ada", "displayName": "ada"},
			"pubKeyCredParams": []map[string]any{{"type": "public-key", "alg": -7}},
			"authenticatorSelection": map[string]any{
				"residentKey": "required", "userVerification": "preferred",
			},
			"attestation": "none",
			"timeout":     60000,
		})
	})
	mux.HandleFunc("POST /login/passkey/options", func(w http.ResponseWriter, r *http.Request) {
		pp.options(w, map[string]any{"rpId": "localhost", "allowCredentials": []any{}, "userVerification": "preferred", "timeout": 60000})
	})
	for _, path := range []string{"/enroll/passkey/verify", "/login/passkey"} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			if media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); media != "application/json" {
				http.Error(w, "send JSON", http.StatusUnsupportedMediaType)
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
			if err != nil {
				http.Error(w, "too large", http.StatusRequestEntityTooLarge)
				return
			}
			pp.mu.Lock()
			pp.posts[path] = body
			pp.mu.Unlock()
			pp.posted <- struct{}{}
			w.WriteHeader(http.StatusOK)
		})
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	pp.url = "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	pp.origin = pp.url
	return pp
}

// options answers with WebAuthn options under "publicKey", as Verify's
// JSON nests them, with a fresh challenge.
func (pp *passkeyProxy) options(w http.ResponseWriter, opts map[string]any) {
	c := make([]byte, 32)
	_, _ = rand.Read(c)
	opts["challenge"] = base64.RawURLEncoding.EncodeToString(c)
	pp.mu.Lock()
	pp.challs[opts["challenge"].(string)] = true
	pp.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"publicKey": opts})
}

// waitPost waits for the page to post to path and returns the body.
func (pp *passkeyProxy) waitPost(t *testing.T, path string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	for {
		pp.mu.Lock()
		body := pp.posts[path]
		pp.mu.Unlock()
		if body != nil {
			return body
		}
		select {
		case <-pp.posted:
		case <-ctx.Done():
			t.Fatalf("the page posted nothing to %s", path)
		}
	}
}

// checkClientData checks that the browser signed one of our challenges,
// for this origin, in a ceremony of type typ.
func (pp *passkeyProxy) checkClientData(t *testing.T, encoded, typ string) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("clientDataJSON %q: %v", encoded, err)
	}
	var cd struct{ Type, Challenge, Origin string }
	if err := json.Unmarshal(raw, &cd); err != nil {
		t.Fatalf("clientDataJSON %s: %v", raw, err)
	}
	pp.mu.Lock()
	known := pp.challs[cd.Challenge]
	pp.mu.Unlock()
	if cd.Type != typ || cd.Origin != pp.origin || !known {
		t.Errorf("clientDataJSON %s: want type %s, origin %s and a challenge the server gave", raw, typ, pp.origin)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
