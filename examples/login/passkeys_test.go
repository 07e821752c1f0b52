package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// setupPasskeys is a fixture whose app serves passkeys.
func setupPasskeys(t *testing.T) *fixture { return newFixture(t, fixtureOptions{passkeys: true}) }

// authenticator is a passkey authenticator in a browser at the fixture's
// origin.
func (f *fixture) authenticator() *verifytest.Authenticator {
	return verifytest.NewAuthenticator(f.origin, nil)
}

// options posts to path, one of the endpoints that answer WebAuthn options,
// and returns the status and the body; a 200 must be JSON no cache keeps.
func (b *browser) options(path string) (int, []byte) {
	b.t.Helper()
	resp, body := b.send("POST", path, nil)
	if resp == nil {
		return 0, nil
	}
	if resp.StatusCode == 200 {
		if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
			b.t.Errorf("%s: Content-Type %q, Cache-Control %q; want application/json, no-store", path, ct, cc)
		}
	}
	return resp.StatusCode, body
}

// postCredential posts a credential's toJSON() to path as a browser's
// fetch does, and returns the status and the trimmed body.
func (b *browser) postCredential(path string, credential []byte) (int, string) {
	return b.postBody(path, "application/json", credential, nil)
}

// postBody posts body as contentType, with the extra headers h.
func (b *browser) postBody(path, contentType string, body []byte, h http.Header) (int, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(ctx, "POST", b.base+path, bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if h != nil {
		req.Header = h.Clone()
	}
	req.Header.Set("Content-Type", contentType)
	resp, got := b.sendRequest(req)
	if resp == nil {
		return 0, ""
	}
	return resp.StatusCode, strings.TrimSpace(string(got))
}

// registerPasskey runs the account page's "Add a passkey" in b with auth,
// and returns the new factor's SID.
func (f *fixture) registerPasskey(b *browser, auth *verifytest.Authenticator) string {
	f.t.Helper()
	status, opts := b.options("/enroll/passkey")
	if status != 200 {
		f.t.Fatalf("POST /enroll/passkey: %d %s", status, opts)
	}
	reg, err := auth.Register(opts)
	if err != nil {
		f.t.Fatalf("the authenticator refuses the creation options %s: %v", opts, err)
	}
	status, body := b.postCredential("/enroll/passkey/verify", reg)
	var got enrolledPasskey
	if status != 200 || json.Unmarshal([]byte(body), &got) != nil || !strings.HasPrefix(got.FactorSID, "YF") {
		f.t.Fatalf("POST /enroll/passkey/verify: %d %s", status, body)
	}
	return got.FactorSID
}

// passkeyUser seeds a user with push and TOTP factors who, logged in,
// registered a passkey on the account page, and returns her with the
// authenticator holding it.
func (f *fixture) passkeyUser(name, identity string) (*account, *verifytest.Authenticator) {
	f.t.Helper()
	a := f.addUser(name, identity)
	auth := f.authenticator()
	f.registerPasskey(f.loggedIn(a), auth)
	return a, auth
}

// signInWithPasskey runs a passkey sign-in in b with auth: usernameless
// without a session, the second factor after the password. It returns the
// answer to POST /login/passkey.
func (b *browser) signInWithPasskey(auth *verifytest.Authenticator) (int, string) {
	b.t.Helper()
	status, opts := b.options("/login/passkey/options")
	if status != 200 {
		return status, string(opts)
	}
	assertion, err := auth.Assert(opts)
	if err != nil {
		b.t.Fatalf("the authenticator refuses the request options %s: %v", opts, err)
	}
	return b.postCredential("/login/passkey", assertion)
}

// TestPasskeyRegisterThenSignIn: a logged-in user adds a passkey on the
// account page; then, signed out, signs in with it alone (usernameless)
// and, after the password, with it as the second factor.
func TestPasskeyRegisterThenSignIn(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	auth := f.authenticator()
	b := f.loggedIn(ada)
	if st := b.state(); !st.Passkeys || st.Factors.Passkeys != 0 {
		t.Fatalf("/session before: %+v, want passkeys on and none registered", st)
	}

	status, raw := b.options("/enroll/passkey")
	if status != 200 {
		t.Fatalf("POST /enroll/passkey: %d %s", status, raw)
	}
	var creation struct {
		Challenge string            `json:"challenge"`
		RP        map[string]string `json:"rp"`
		User      struct{ Name string }
		Params    []map[string]any `json:"pubKeyCredParams"`
		PublicKey json.RawMessage  `json:"publicKey"`
	}
	if err := json.Unmarshal(raw, &creation); err != nil {
		t.Fatal(err)
	}
	if creation.PublicKey != nil || creation.Challenge == "" || creation.RP["id"] != "localhost" || creation.User.Name != "ada" || len(creation.Params) == 0 {
		t.Fatalf("creation options %s: want them bare, for rp localhost and user ada, with a list of key types", raw)
	}
	reg, err := auth.Register(raw)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := b.postCredential("/enroll/passkey/verify", reg); status != 200 || !strings.Contains(body, `"factor_sid":"YF`) {
		t.Fatalf("POST /enroll/passkey/verify: %d %s", status, body)
	}
	fs := f.app.users.factors(f.app.users.byIdentity(ada.identity))
	if len(fs.passkeys) != 1 {
		t.Fatalf("the user's passkeys: %v, want one", fs.passkeys)
	}
	pk, err := f.look.Factors.Fetch(ctx, f.fake.ServiceSID(), ada.identity, fs.passkeys[0])
	if err != nil || pk.FactorType != verify.FactorTypePasskeys || pk.Status != verify.FactorStatusVerified {
		t.Fatalf("Verify's factor %s: %v, %v; want a verified passkey", fs.passkeys[0], pk, err)
	}
	if st := b.state(); st.Factors.Passkeys != 1 {
		t.Errorf("/session after: %+v, want one passkey", st)
	}
	if status, _ := b.post("/logout", nil); status != 200 {
		t.Fatal("logout failed")
	}

	// Usernameless: no session, no name; the passkey says who.
	v := f.browser()
	if status, body := v.signInWithPasskey(auth); status != 200 || body != "welcome" {
		t.Fatalf("usernameless sign-in: %d %q", status, body)
	}
	if v.prompt != nil {
		t.Errorf("the prompt's cookie %s outlives the sign-in", v.prompt.Name)
	}
	if status, body := v.do("GET", "/me", nil); status != 200 || body != "logged in as ada" {
		t.Fatalf("/me after a usernameless sign-in: %d %q", status, body)
	}

	// After the password: the passkey is the second factor.
	s := f.login(ada)
	before := s.cookie.Value
	if status, body := s.signInWithPasskey(auth); status != 200 || body != "welcome" {
		t.Fatalf("passkey as the second factor: %d %q", status, body)
	}
	if s.cookie.Value == before {
		t.Error("the session kept its id past the second factor")
	}
	if status, body := s.do("GET", "/me", nil); status != 200 || body != "logged in as ada" {
		t.Fatalf("/me after the passkey: %d %q", status, body)
	}
}

// TestPasskeyAsTheFirstFactor: a user without any factor, past the
// password, registers a passkey as the first one and then needs it.
func TestPasskeyAsTheFirstFactor(t *testing.T) {
	f := setupPasskeys(t)
	bob := f.addBareUser("bob", "user-0002-bob")
	auth := f.authenticator()
	b := f.login(bob)
	f.registerPasskey(b, auth)
	if st := b.state(); st.Step != stepSecondFactor {
		t.Fatalf("after the first passkey the step is %q, want %q", st.Step, stepSecondFactor)
	}
	if status, _ := b.do("GET", "/me", nil); status != 401 {
		t.Fatalf("registering a first factor logged the session in: /me %d", status)
	}
	if status, body := b.signInWithPasskey(auth); status != 200 {
		t.Fatalf("second factor with the new passkey: %d %q", status, body)
	}
	// Now a second passkey takes a full login, as any other factor.
	c := f.login(bob)
	if status, body := c.options("/enroll/passkey"); status != 403 {
		t.Fatalf("a second passkey past the password alone: %d %s, want 403", status, body)
	}
}

// TestPasskeyAnswersAreUsedOnce: an assertion that signed in once signs in
// no more, with or without the prompt's cookie, and a prompt's challenge
// cannot be answered by another browser.
func TestPasskeyAnswersAreUsedOnce(t *testing.T) {
	f := setupPasskeys(t)
	_, auth := f.passkeyUser("ada", "user-0001-ada")

	v := f.browser()
	status, opts := v.options("/login/passkey/options")
	if status != 200 || v.prompt == nil {
		t.Fatalf("usernameless options: %d %s, prompt cookie %v", status, opts, v.prompt)
	}
	if v.prompt.Name != "__Host-passkey-login" || !v.prompt.HttpOnly || !v.prompt.Secure || v.prompt.SameSite != http.SameSiteStrictMode || v.prompt.Path != "/" {
		t.Errorf("prompt cookie %+v: want __Host-, HttpOnly, Secure, SameSite=Strict, Path=/", v.prompt)
	}
	prompt := *v.prompt
	assertion, err := auth.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Another browser, without the cookie, cannot use this browser's prompt.
	thief := f.browser()
	if status, body := thief.postCredential("/login/passkey", assertion); status != 401 {
		t.Fatalf("an assertion posted without its prompt's cookie: %d %q, want 401", status, body)
	}
	if status, body := v.postCredential("/login/passkey", assertion); status != 200 {
		t.Fatalf("sign-in: %d %q", status, body)
	}
	again := f.browser()
	again.prompt = &prompt
	if status, body := again.postCredential("/login/passkey", assertion); status != 401 {
		t.Fatalf("the same assertion and cookie again: %d %q, want 401", status, body)
	}
	if n := f.app.passkeyLogins.count(); n != 0 {
		t.Errorf("%d usernameless prompts kept after their answer", n)
	}
}

// TestPasskeyOfAnotherUserIsRefused: someone with ada's password and a
// passkey of their own (mallory's) cannot finish ada's login with it: the
// challenge Verify approves is not the one ada's session was given, and
// the wrong answers count against the session.
func TestPasskeyOfAnotherUserIsRefused(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	mallory := f.addUser("mallory", "user-0003-mallory")
	f.registerPasskey(f.loggedIn(ada), f.authenticator())
	malloryKey := f.authenticator()
	f.registerPasskey(f.loggedIn(mallory), malloryKey)

	s := f.login(ada)
	for i := range maxWrongCodes {
		if status, opts := s.options("/login/passkey/options"); status != 200 {
			t.Fatalf("ada's options, try %d: %d %s", i+1, status, opts)
		}
		// mallory signs a usernameless challenge of her own and posts the
		// answer in ada's session.
		side := f.browser()
		_, opts := side.options("/login/passkey/options")
		assertion, err := malloryKey.Assert(opts)
		if err != nil {
			t.Fatal(err)
		}
		status, body := s.postCredential("/login/passkey", assertion)
		if i < maxWrongCodes-1 && (status != 401 || body != errOtherPrompt.Error()) {
			t.Fatalf("mallory's passkey in ada's session, try %d: %d %q, want 401", i+1, status, body)
		}
		if i == maxWrongCodes-1 && (status != 401 || !strings.Contains(body, "log in with your password again")) {
			t.Fatalf("the last wrong answer: %d %q, want the session ended", status, body)
		}
	}
	if status, _ := s.do("GET", "/me", nil); status != 401 {
		t.Fatal("mallory's passkey logged ada's session in")
	}
	if _, _, ok := f.app.sessions.lookup(&http.Request{Header: http.Header{"Cookie": {s.cookie.Name + "=" + s.cookie.Value}}}); ok {
		t.Error("the session lives on after maxWrongCodes wrong passkey answers")
	}
}

// TestPasskeyNotRecordedHereIsRefused: a passkey that Verify holds for the
// user but that was not registered through this site signs no one in.
func TestPasskeyNotRecordedHereIsRefused(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	stray := f.authenticator()
	sid := f.fake.ServiceSID()
	pf, err := f.look.Passkeys.CreateFactor(ctx, sid, &verify.CreatePasskeyFactorParams{Identity: ada.identity, FriendlyName: "stray"})
	if err != nil {
		t.Fatal(err)
	}
	creation, err := pf.Options.BrowserJSON()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := stray.Register(creation)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.look.Passkeys.VerifyFactor(ctx, sid, reg); err != nil {
		t.Fatal(err)
	}
	v := f.browser()
	if status, body := v.signInWithPasskey(stray); status != 401 {
		t.Fatalf("a passkey not registered here: %d %q, want 401", status, body)
	}
	if v.cookie != nil {
		t.Errorf("a refused passkey got a session cookie %s", v.cookie.Name)
	}
	if !strings.Contains(f.logs.String(), "no passkey of this sign-in's user") {
		t.Errorf("the refusal is not logged: %q", f.logs.String())
	}
}

// TestPasskeyMisbehavingAuthenticatorsAreRefused: answers Verify refuses
// (another origin, no user verification) are 401s that sign no one in.
func TestPasskeyMisbehavingAuthenticatorsAreRefused(t *testing.T) {
	f := setupPasskeys(t)
	_, auth := f.passkeyUser("ada", "user-0001-ada")
	for _, m := range []verifytest.Misbehaviour{{Origin: "https://evil.example"}, {NoUserVerification: true}, {NoUserPresence: true}} {
		auth.MisbehaveNext(m)
		v := f.browser()
		if status, body := v.signInWithPasskey(auth); status != 401 || v.cookie != nil {
			t.Errorf("%+v: %d %q, cookie %v; want 401 and no session", m, status, body, v.cookie)
		}
	}
}

// TestPasskeyAnswersMustBeSmallJSON: the two endpoints that take a
// browser's credential read JSON objects of at most maxPasskeyJSONBytes,
// and nothing else, before they look at anything.
func TestPasskeyAnswersMustBeSmallJSON(t *testing.T) {
	f := setupPasskeys(t)
	from := f.api.mark()
	wellFormed := map[string]string{ // in shape a browser's credential.toJSON(), and answering nothing
		"/login/passkey":         `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiQUFBQSJ9","authenticatorData":"AAAA","signature":"AAAA"}}`,
		"/enroll/passkey/verify": `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiQUFBQSJ9","attestationObject":"AAAA"}}`,
	}
	for _, path := range []string{"/login/passkey", "/enroll/passkey/verify"} {
		b := f.browser()
		cases := []struct {
			contentType string
			body        []byte
			want        int
		}{
			{"application/x-www-form-urlencoded", []byte("id=x"), 415},
			{"multipart/form-data; boundary=x", []byte("--x--"), 415},
			{"text/plain", []byte(`{"id":"x"}`), 415},
			{"application/json", bytes.Repeat([]byte(" "), maxPasskeyJSONBytes+1), 413},
			{"application/json", []byte(`["not","an","object"]`), 400},
			{"application/json", []byte(`{"id":`), 400},
			{"application/json; charset=utf-8", []byte(`{"id":"x"}`), map[string]int{"/login/passkey": 400, "/enroll/passkey/verify": 401}[path]}, // read; then no credential, or no session
			{"application/json", []byte(wellFormed[path]), map[string]int{"/login/passkey": 401, "/enroll/passkey/verify": 401}[path]},            // then: no prompt, no session
		}
		for _, c := range cases {
			if status, body := b.postBody(path, c.contentType, c.body, nil); status != c.want {
				t.Errorf("%s as %s (%d bytes): %d %q, want %d", path, c.contentType, len(c.body), status, body, c.want)
			}
		}
		h := http.Header{"Sec-Fetch-Site": {"cross-site"}}
		if status, body := b.postBody(path, "application/json", []byte(`{}`), h); status != 403 {
			t.Errorf("%s cross-site: %d %q, want 403", path, status, body)
		}
	}
	if got := f.api.since(from); len(got) != 0 {
		t.Errorf("refused answers reached Verify: %v", got)
	}
}

// TestPasskeyPromptsAreLimited: usernameless prompts from one address are
// slowed after passkeysPerAddress.free, and a sign-in gives its prompt back.
func TestPasskeyPromptsAreLimited(t *testing.T) {
	f := setupPasskeys(t)
	from := f.api.mark()
	for i := range passkeysPerAddress.free {
		if status, body := f.browser().options("/login/passkey/options"); status != 200 {
			t.Fatalf("prompt %d: %d %s", i+1, status, body)
		}
	}
	resp, body := f.browser().send("POST", "/login/passkey/options", nil)
	if resp == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("prompt %d: %v %s, want 429 with Retry-After", passkeysPerAddress.free+1, resp, body)
	}
	if got := f.api.since(from); len(got) != passkeysPerAddress.free {
		t.Errorf("%d requests reached Verify for %d prompts allowed: %v", len(got), passkeysPerAddress.free, got)
	}
	if n := f.app.passkeyLogins.count(); n != passkeysPerAddress.free {
		t.Errorf("%d prompts kept, want %d", n, passkeysPerAddress.free)
	}
}

// TestPasskeyRegistrationIsBound: a registration answers the pending
// factor of the session that asked for it, and only once.
func TestPasskeyRegistrationIsBound(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	auth := f.authenticator()
	b := f.loggedIn(ada)
	stray := []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiQUFBQSJ9","attestationObject":"AAAA"}}`)
	if status, body := b.postCredential("/enroll/passkey/verify", stray); status != 404 {
		t.Fatalf("a registration nobody asked for: %d %q, want 404", status, body)
	}
	_, opts := b.options("/enroll/passkey")
	reg, err := auth.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	other := f.loggedIn(ada) // another session of the same user, with nothing pending
	if status, body := other.postCredential("/enroll/passkey/verify", reg); status != 404 {
		t.Fatalf("a registration posted in another session: %d %q, want 404", status, body)
	}
	if status, body := b.postCredential("/enroll/passkey/verify", reg); status != 200 {
		t.Fatalf("the registration in its session: %d %q", status, body)
	}
	if status, body := b.postCredential("/enroll/passkey/verify", reg); status != 404 {
		t.Fatalf("the same registration again: %d %q, want 404", status, body)
	}
	if n := len(f.app.users.factors(f.app.users.byIdentity(ada.identity)).passkeys); n != 1 {
		t.Errorf("%d passkeys recorded, want 1", n)
	}
}

// TestPasskeysNeedAnOrigin: without -passkey-origin the endpoints are not
// there and the pages hide their buttons.
func TestPasskeysNeedAnOrigin(t *testing.T) {
	f := setup(t)
	b := f.browser()
	for _, path := range []string{"/login/passkey/options", "/enroll/passkey"} {
		if status, _ := b.post(path, nil); status != 404 {
			t.Errorf("%s without passkeys: %d, want 404", path, status)
		}
	}
	for _, path := range []string{"/login/passkey", "/enroll/passkey/verify"} {
		if status, _ := b.postCredential(path, []byte(`{}`)); status != 404 {
			t.Errorf("%s without passkeys: %d, want 404", path, status)
		}
	}
	if st := b.state(); st.Passkeys {
		t.Error("/session says passkeys without -passkey-origin")
	}
}

// TestConfigurePasskeys: the service's relying party becomes the origin's
// site, once; an origin that is no origin is refused.
func TestConfigurePasskeys(t *testing.T) {
	fake := verifytest.NewServer()
	defer fake.Close()
	client := fake.Client()
	defer client.CloseIdleConnections()
	sid := fake.ServiceSID()
	changed, err := configurePasskeys(ctx, client, sid, "https://login.example.com")
	if err != nil || !changed {
		t.Fatalf("first configure: %v, %v; want a change", changed, err)
	}
	svc, err := client.Services.Fetch(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	p := svc.Passkeys
	if p.RelyingParty.ID != "login.example.com" || !slices.Equal(p.RelyingParty.Origins, []string{"https://login.example.com"}) ||
		p.UserVerification != verify.PasskeyRequired || p.DiscoverableCredentials != verify.PasskeyRequired {
		t.Fatalf("service passkey settings %+v", p)
	}
	if changed, err := configurePasskeys(ctx, client, sid, "https://login.example.com"); err != nil || changed {
		t.Fatalf("second configure: %v, %v; want no change", changed, err)
	}
	for _, bad := range []string{"login.example.com", "https://login.example.com/signin", "ftp://example.com", ""} {
		if _, err := configurePasskeys(ctx, client, sid, bad); err == nil || !strings.Contains(err.Error(), "-passkey-origin") {
			t.Errorf("origin %q: %v, want an error naming -passkey-origin", bad, err)
		}
	}
	// Another site: its origins replace the old site's, never join them.
	if changed, err := configurePasskeys(ctx, client, sid, "http://localhost:8080"); err != nil || !changed {
		t.Fatalf("another site: %v, %v", changed, err)
	}
	if svc, err = client.Services.Fetch(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if rp := svc.Passkeys.RelyingParty; rp.ID != "localhost" || !slices.Equal(rp.Origins, []string{"http://localhost:8080"}) {
		t.Errorf("after another site, the relying party is %+v; want localhost with its origin alone", rp)
	}
	// The same site on another port joins it.
	if _, err := configurePasskeys(ctx, client, sid, "http://localhost:8081"); err != nil {
		t.Fatal(err)
	}
	if svc, err = client.Services.Fetch(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if rp := svc.Passkeys.RelyingParty; !slices.Equal(rp.Origins, []string{"http://localhost:8080", "http://localhost:8081"}) {
		t.Errorf("the same site on another port: origins %v", rp.Origins)
	}
}

// TestPasskeyOrigins: -passkey-origin takes an origin as the browser writes
// it, and refuses what WebAuthn would never match, saying why.
func TestPasskeyOrigins(t *testing.T) {
	for raw, want := range map[string]string{
		"https://login.example.com":      "https://login.example.com",
		"https://Login.Example.COM:443/": "https://login.example.com",
		"http://localhost:8080/":         "http://localhost:8080",
		"http://LOCALHOST:80":            "http://localhost",
		"http://app.localhost:3000":      "http://app.localhost:3000",
		"https://example.com:8443":       "https://example.com:8443",
	} {
		if got, err := parseOrigin(raw); err != nil || got != want {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for raw, rule := range map[string]string{
		"localhost:8080":                  "origin, such as",
		"ftp://example.com":               "origin, such as",
		"https://":                        "origin, such as",
		"http://localhost:8080/login":     "without a user, path",
		"http://localhost:8080?x=1":       "without a user, path",
		"http://localhost:8080/#f":        "without a user, path",
		"https://user@example.com":        "without a user, path",
		"http://127.0.0.1:8080":           "IP addresses",
		"https://[::1]:8443":              "IP addresses",
		"http://example.com":              "must be https",
		"http://localhost.example.com:80": "must be https",
	} {
		_, err := parseOrigin(raw)
		if err == nil || !strings.Contains(err.Error(), rule) || !strings.Contains(err.Error(), "-passkey-origin") {
			t.Errorf("parseOrigin(%q): %v; want an error naming -passkey-origin and saying %q", raw, err, rule)
		}
	}
}

// TestPasskeyButtonsOnlyAtTheOrigin: reached by another host than the
// origin's (127.0.0.1 for localhost), the pages are told not to offer
// passkeys, which the browser would refuse there.
func TestPasskeyButtonsOnlyAtTheOrigin(t *testing.T) {
	f := setupPasskeys(t)
	at := f.browser()
	if !at.state().Passkeys {
		t.Errorf("at %s /session says no passkeys", at.base)
	}
	elsewhere := f.browser()
	elsewhere.base = f.web.URL
	if elsewhere.state().Passkeys {
		t.Errorf("at %s /session offers passkeys, which only work at %s", f.web.URL, f.origin)
	}
}

// state is the visitor's GET /session.
func (b *browser) state() sessionState {
	b.t.Helper()
	resp, body := b.send("GET", "/session", nil)
	var st sessionState
	if resp == nil || resp.StatusCode != 200 || json.Unmarshal(body, &st) != nil {
		b.t.Fatalf("GET /session: %v %s", resp, body)
	}
	return st
}

// TestOnlyTheLatestCeremonyCounts: two "Add a passkey" (or two passkey
// prompts) in one browser, then the first one's answer: it is refused
// before it reaches Verify, so no factor is verified that the site will
// not record, and the latest one still goes through.
func TestOnlyTheLatestCeremonyCounts(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	auth := f.authenticator()
	b := f.loggedIn(ada)
	_, first := b.options("/enroll/passkey")
	_, latest := b.options("/enroll/passkey")
	early, err := auth.Register(first)
	if err != nil {
		t.Fatal(err)
	}
	from := f.api.mark()
	if status, body := b.postCredential("/enroll/passkey/verify", early); status != 409 || !strings.Contains(body, "earlier") {
		t.Fatalf("the first registration after a second began: %d %q, want 409", status, body)
	}
	if got := f.api.since(from); len(got) != 0 {
		t.Errorf("a registration for an earlier prompt reached Verify: %v", got)
	}
	reg, err := auth.Register(latest)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := b.postCredential("/enroll/passkey/verify", reg); status != 200 {
		t.Fatalf("the latest registration: %d %q", status, body)
	}

	v := f.browser()
	_, older := v.options("/login/passkey/options")
	status, newest := v.options("/login/passkey/options")
	if status != 200 {
		t.Fatal("the second prompt was refused")
	}
	newer := v.prompt
	stale, err := auth.Assert(older)
	if err != nil {
		t.Fatal(err)
	}
	from = f.api.mark()
	if status, body := v.postCredential("/login/passkey", stale); status != 401 || body != errOtherPrompt.Error() {
		t.Fatalf("the older prompt's answer: %d %q, want 401 %q", status, body, errOtherPrompt)
	}
	if got := f.api.since(from); len(got) != 0 || v.prompt != newer {
		t.Errorf("the older prompt's answer reached Verify (%v) or cost the latest prompt (cookie %v)", got, v.prompt)
	}
	fresh, err := auth.Assert(newest)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := v.postCredential("/login/passkey", fresh); status != 200 || body != "welcome" {
		t.Fatalf("the latest prompt's answer after a stale one: %d %q", status, body)
	}
}

// TestExpiredPasskeyPromptSaysSo: an answer Verify finds too late (60323)
// is told as an expired prompt, a 401 the visitor can act on.
func TestExpiredPasskeyPromptSaysSo(t *testing.T) {
	f := setupPasskeys(t)
	_, auth := f.passkeyUser("ada", "user-0001-ada")
	v := f.browser()
	_, opts := v.options("/login/passkey/options")
	assertion, err := auth.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.fake.Advance(maxPasskeyWait + time.Minute) // Verify's clock only: the app still holds the prompt
	if status, body := v.postCredential("/login/passkey", assertion); status != 401 || body != errPromptGone.Error() || v.cookie != nil {
		t.Fatalf("an answer Verify finds expired: %d %q, cookie %v; want 401 %q and no session", status, body, v.cookie, errPromptGone)
	}
}
