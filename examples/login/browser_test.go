package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestSessionCookieIsSecure: the command's session cookie is Secure with a
// __Host- name (so no subdomain can set or shadow it) also when it listens
// on loopback behind a TLS proxy; -insecure-cookie, for plain http on
// another host, drops both.
func TestSessionCookieIsSecure(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		name   string
		secure bool
	}{
		{nil, "__Host-session", true},
		{[]string{"-insecure-cookie"}, "session", false},
	} {
		c := startChild(t, tc.args...)
		b := c.visitor("127.0.0.1")
		if status, body := b.post("/login/password", url.Values{"username": {"ada"}, "password": {c.ada.password}}); status != 200 {
			t.Fatalf("%q: password step: %d %q", tc.args, status, body)
		}
		k := b.cookie
		if k == nil || k.Name != tc.name || k.Secure != tc.secure || k.Path != "/" || k.Domain != "" || !k.HttpOnly || k.SameSite != http.SameSiteStrictMode {
			t.Errorf("%q: session cookie %+v, want %s, Secure %t, Path=/, no Domain, HttpOnly, SameSite=Strict", tc.args, k, tc.name, tc.secure)
		}
	}
}

// TestCrossSiteRequestsAreRefused: a browser's cross-site POST (by
// Sec-Fetch-Site, or an Origin that is not the server's) is refused with
// 403 before it reaches a handler, so it creates no factor; same-origin
// requests and clients that send neither header (curl) pass, and so do
// Verify's webhooks, which are server-to-server and signed.
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	b := f.login(carol)
	for name, h := range map[string]http.Header{
		"Sec-Fetch-Site: cross-site": {"Sec-Fetch-Site": {"cross-site"}},
		"Sec-Fetch-Site: same-site":  {"Sec-Fetch-Site": {"same-site"}},
		"Origin of another site":     {"Origin": {"https://attacker.example"}},
	} {
		for _, path := range []string{"/enroll/totp", "/login/password", "/logout"} {
			if status, body := b.postWith(path, url.Values{"username": {carol.name}, "password": {carol.password}}, h); status != 403 || !strings.HasPrefix(body, "cross-origin request detected") {
				t.Errorf("%s, %s: %d %q, want 403", name, path, status, body)
			}
		}
	}
	if got := f.factors(carol.identity); len(got) != 0 {
		t.Fatalf("cross-site requests created factors %q", got)
	}

	same := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {b.base}}
	if status, _, text := b.postJSON("/enroll/totp", nil); status != 200 {
		t.Errorf("/enroll/totp without browser headers (curl): %d %q, want 200", status, text)
	}
	if status, body := b.postWith("/enroll/totp", nil, same); status != 200 {
		t.Errorf("/enroll/totp same-origin: %d %q, want 200", status, body)
	}

	ev := f.event(verify.EventFactorDeleted, carol.identity, "YF"+strings.Repeat("0", 32))
	if status, body := f.deliver(ev, verifytest.SignWebhook(f.fake.AuthToken(), f.hookURL, ev)); status != 204 {
		t.Errorf("a signed webhook delivery: %d %q, want 204", status, body)
	}
}

// TestLogout: POST /logout ends the session on the server, not only in
// the browser: the old cookie no longer opens /me.
func TestLogout(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	b := f.loggedIn(ada)
	old := *b.cookie
	if status, body := b.post("/logout", nil); status != 200 || body != "logged out" {
		t.Errorf("/logout: %d %q, want 200 logged out", status, body)
	}
	if b.cookie.Value != "" || b.cookie.MaxAge >= 0 {
		t.Errorf("cookie after /logout: %+v, want it deleted", b.cookie)
	}
	stale := f.browser()
	stale.cookie = &old
	if status, body := stale.do("GET", "/me", nil); status != 401 {
		t.Errorf("/me with the cookie from before /logout: %d %q, want 401", status, body)
	}
	if status, body := f.browser().post("/logout", nil); status != 200 || body != "logged out" {
		t.Errorf("/logout without a session: %d %q, want 200", status, body)
	}
}

// postWith posts form to path with the extra headers h and returns the
// status and the trimmed body.
func (b *browser) postWith(path string, form url.Values, h http.Header) (int, string) {
	resp, body := b.sendWith("POST", path, form, h)
	if resp == nil {
		return 0, ""
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}
