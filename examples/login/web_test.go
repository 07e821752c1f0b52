package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// noRedirects makes b see a redirect instead of following it.
func (b *browser) noRedirects() *browser {
	c := *b.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b.client = &c
	return b
}

// TestPagesGoWhereTheSessionIs: each page is served to a visitor at its
// step and sends the others to theirs: the sign-in page, the second
// factor, or the account (which a user without a factor reaches past the
// password alone, to enroll one).
func TestPagesGoWhereTheSessionIs(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	carol := f.addBareUser("carol", "user-0003-carol")
	type want struct {
		status   int
		location string
	}
	check := func(who string, b *browser, pages map[string]want) {
		t.Helper()
		for path, w := range pages {
			resp, body := b.send("GET", path, nil)
			if resp == nil {
				continue
			}
			if resp.StatusCode != w.status || resp.Header.Get("Location") != w.location {
				t.Errorf("%s: GET %s: %d to %q, want %d to %q", who, path, resp.StatusCode, resp.Header.Get("Location"), w.status, w.location)
			}
			if w.status == 200 && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), `<script src="/static/app.js"`)) {
				t.Errorf("%s: GET %s: %s, without the page's script", who, path, resp.Header.Get("Content-Type"))
			}
		}
	}
	check("no session", f.browser().noRedirects(), map[string]want{
		"/": {200, ""}, "/second-factor": {303, "/"}, "/account": {303, "/"},
	})
	check("ada past the password", f.login(ada).noRedirects(), map[string]want{
		"/": {200, ""}, "/second-factor": {200, ""}, "/account": {303, "/second-factor"},
	})
	check("carol, without a factor, past the password", f.login(carol).noRedirects(), map[string]want{
		"/": {200, ""}, "/second-factor": {303, "/account"}, "/account": {200, ""},
	})
	check("ada logged in", f.loggedIn(ada).noRedirects(), map[string]want{
		"/": {303, "/account"}, "/second-factor": {303, "/account"}, "/account": {200, ""},
	})
}

// TestPagesCarryTheirPolicy: every answer of the web endpoints, pages,
// files, JSON and refusals alike, has the Content-Security-Policy that
// allows scripts and styles from this origin only; the script is served
// as a file with its type; no embedded page holds an inline script, an
// event-handler attribute or an inline style, which that policy would
// block; /static/ lists no directory.
func TestPagesCarryTheirPolicy(t *testing.T) {
	f := setup(t)
	b := f.browser()
	for _, path := range []string{"/", "/static/app.js", "/static/passkeys.js", "/static/style.css", "/session", "/me", "/static/", "/static/nothing.js"} {
		resp, _ := b.send("GET", path, nil)
		if resp == nil {
			continue
		}
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); csp != contentSecurityPolicy || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: X-Content-Type-Options %q, X-Frame-Options %q", path, h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"))
		}
	}
	if resp, _ := b.send("GET", "/static/app.js", nil); resp != nil && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("app.js served as %q", resp.Header.Get("Content-Type"))
	}
	if status, _ := b.do("GET", "/static/", nil); status != 404 {
		t.Errorf("GET /static/: %d, want 404 (no listing)", status)
	}
	if status, body := b.postWith("/login/password", url.Values{"username": {"ada"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}); status != 403 {
		t.Errorf("a cross-site POST: %d %q, want 403", status, body)
	}

	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>|\son[a-z]+\s*=|\sstyle\s*=|<style`)
	pages, _ := fs.Glob(webFiles, "web/*.html")
	if len(pages) != 3 {
		t.Fatalf("embedded pages %q, want 3", pages)
	}
	for _, name := range pages {
		html, _ := fs.ReadFile(webFiles, name)
		for _, m := range inline.FindAllString(string(html), -1) {
			if !strings.Contains(m, "src=") {
				t.Errorf("%s: %q would be blocked by the policy", name, m)
			}
		}
		if !strings.Contains(string(html), `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
			t.Errorf("%s has no viewport meta", name)
		}
	}
}

// TestSessionInfo: GET /session tells the pages the visitor's step and
// which factors the user has, the phone's last two digits only, no SIDs
// or identity, and no passkeys while none are served.
func TestSessionInfo(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	dan := f.addPhoneUser("dan", "user-0004-dan", "+15017122661")
	get := func(b *browser) (sessionState, string) {
		t.Helper()
		resp, body := b.send("GET", "/session", nil)
		var st sessionState
		if resp == nil {
			return st, ""
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("/session: Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
		}
		if err := json.Unmarshal(body, &st); err != nil {
			t.Errorf("/session: %v in %q", err, body)
		}
		return st, string(body)
	}
	if st, _ := get(f.browser()); st != (sessionState{Step: stepSignedOut}) {
		t.Errorf("no session: %+v", st)
	}
	st, raw := get(f.login(ada))
	if st != (sessionState{Step: stepSecondFactor, User: "ada", Factors: factorSet{Push: true, TOTP: true}}) {
		t.Errorf("ada past the password: %+v", st)
	}
	if strings.Contains(raw, ada.identity) || strings.Contains(raw, "YF") {
		t.Errorf("/session tells an identity or a SID: %s", raw)
	}
	if st, raw := get(f.login(dan)); st != (sessionState{Step: stepSecondFactor, User: "dan", Factors: factorSet{Push: true, TOTP: true, SMS: true}, PhoneEnding: "61"}) || strings.Contains(raw, "+1501") {
		t.Errorf("dan past the password: %+v %s", st, raw)
	}
	if st, _ := get(f.loggedIn(ada)); st.Step != stepSignedIn {
		t.Errorf("ada logged in: %+v", st)
	}
	if st, _ := get(f.login(f.addBareUser("carol", "user-0003-carol"))); st.Step != stepEnroll {
		t.Errorf("carol, without a factor, past the password: %+v", st)
	}
}

// streamPushAnswered posts /login/push/stream, answers the push on the
// phone once the login waits on it, and returns the status and the
// events, as "name data" lines.
func (b *browser) streamPushAnswered(a *account, approve bool) (int, []string) {
	b.t.Helper()
	from := b.f.api.mark()
	type result struct {
		resp *http.Response
		body []byte
	}
	done := make(chan result, 1)
	go func() {
		resp, body := b.send("POST", "/login/push/stream", nil)
		done <- result{resp, body}
	}()
	answer := a.phone.Deny
	if approve {
		answer = a.phone.Approve
	}
	if sid := b.f.pushWaiting(from, a.identity); sid != "" {
		if _, err := answer(ctx, sid); err != nil {
			b.t.Errorf("phone: %v", err)
		}
	}
	r := <-done
	if r.resp == nil {
		return 0, nil
	}
	if ct := r.resp.Header.Get("Content-Type"); r.resp.StatusCode == 200 && ct != "text/event-stream" {
		b.t.Errorf("the push stream's Content-Type: %q", ct)
	}
	var events []string
	for block := range strings.SplitSeq(strings.TrimSpace(string(r.body)), "\n\n") {
		name, data, _ := strings.Cut(block, "\n")
		events = append(events, strings.TrimPrefix(name, "event: ")+" "+strings.TrimPrefix(data, "data: "))
	}
	return r.resp.StatusCode, events
}

// TestPushStream: the page's push tells it "sent" as soon as the prompt is
// on the phone, then the answer. An approval only marks the session:
// /login/push/finish, in that session, logs it in under a new id. A
// denied push, or none, finishes nothing.
func TestPushStream(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")

	b := f.login(ada)
	before := b.cookie.Value
	status, events := b.streamPushAnswered(ada, true)
	want := []string{`sent {"expires_in":5}`, `approved {"next":"/login/push/finish"}`}
	if status != 200 || strings.Join(events, "|") != strings.Join(want, "|") {
		t.Errorf("approved push: %d %q, want 200 %q", status, events, want)
	}
	if status, _ := b.do("GET", "/me", nil); status != 401 {
		t.Errorf("/me before /login/push/finish: %d, want 401", status)
	}
	if status, body := b.post("/login/push/finish", nil); status != 200 || body != "welcome" || b.cookie.Value == before {
		t.Errorf("/login/push/finish: %d %q, new cookie %t", status, body, b.cookie.Value != before)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 || body != "logged in as ada" {
		t.Errorf("/me after /login/push/finish: %d %q", status, body)
	}

	b = f.login(ada)
	status, events = b.streamPushAnswered(ada, false)
	if status != 200 || strings.Join(events, "|") != `sent {"expires_in":5}|denied {}` {
		t.Errorf("denied push: %d %q", status, events)
	}
	if status, body := b.post("/login/push/finish", nil); status != 401 || body != "no push was approved in this session" {
		t.Errorf("/login/push/finish after a denied push: %d %q, want 401", status, body)
	}
	if status, _ := f.login(ada).post("/login/push/finish", nil); status != 401 {
		t.Errorf("/login/push/finish without a push: %d, want 401", status)
	}
	if status, _ := f.browser().post("/login/push/finish", nil); status != 401 {
		t.Errorf("/login/push/finish without a session: %d, want 401", status)
	}
	if status, body := f.login(f.addBareUser("carol", "user-0003-carol")).post("/login/push/stream", nil); status != 400 {
		t.Errorf("a push stream for a user without a phone: %d %q, want 400 before any event", status, body)
	}
}
