package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestMain fails the tests if a goroutine outlives them, and removes the
// command built for the tests that run it (loginBinary).
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" { // a child started by a test, to run the command itself
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBuilt()
		os.Exit(code)
	}))
}

// ctx is the tests' context for calls to the fake.
var ctx = context.Background()

// fixture is the login server wired to a fake Verify, reached over HTTP,
// with the fake's webhook deliveries going to its /hooks/verify.
type fixture struct {
	t        *testing.T
	fake     *verifytest.Server
	look     *verify.Client // the test's own view of the fake
	api      *apiLog        // every request the app sent to the fake
	web      *httptest.Server
	hookURL  string // the login server's /hooks/verify, registered at the fake
	app      *app
	clock    *testClock
	logs     *syncBuffer
	hookLogs *syncBuffer // the app's webhook log, as text without times
	origin   string      // the pages' origin with passkeys (fixtureOptions.passkeys); "" without
}

// setup starts a fixture whose app checks webhooks with the fake's auth token.
func setup(t *testing.T) *fixture { return newFixture(t, fixtureOptions{}) }

// fixtureOptions shape a fixture.
type fixtureOptions struct {
	// rotated: the app's current auth token is a new one the fake does not
	// sign with, and the fake's is the previous one, as during a rotation.
	rotated bool
	// passkeys: the app serves passkeys at http://localhost:<its port>,
	// the service's relying party (as -passkey-origin sets it).
	passkeys bool
	// wrapAPI, when set, wraps the transport of the app's Verify client
	// (around the request log), to change what Verify answers.
	wrapAPI func(http.RoundTripper) http.RoundTripper
}

// newFixture starts a fixture shaped by opts.
func newFixture(t *testing.T, opts fixtureOptions) *fixture {
	fake := verifytest.NewServer()
	f := &fixture{
		t: t, fake: fake, look: fake.Client(), clock: &testClock{now: time.Now()}, logs: &syncBuffer{}, hookLogs: &syncBuffer{},
		api: &apiLog{next: http.DefaultTransport.(*http.Transport).Clone(), grew: make(chan struct{})},
	}
	var api http.RoundTripper = f.api
	if opts.wrapAPI != nil {
		api = opts.wrapAPI(f.api)
	}
	client := fake.Client(verify.WithHTTPClient(&http.Client{Transport: api}))
	f.web = httptest.NewUnstartedServer(nil)
	f.hookURL = "http://" + f.web.Listener.Addr().String() + "/hooks/verify"
	tokens := []string{fake.AuthToken()}
	if opts.rotated {
		tokens = []string{newAuthToken, fake.AuthToken()}
	}
	f.app = newApp(client, fake.ServiceSID(), newUsers(), verify.WebhookConfig{AuthTokens: verify.Secrets(tokens...), PublicURL: f.hookURL}, nil, f.clock.Now)
	// Logins wait on the hub with Wait's default safety net, a poll every
	// 10 s (±20 %), and give up after 5 s: in these tests a push ends on its
	// webhook or not at all, and a Fetch after the first is an event's.
	if o := f.app.waitOptions; o == nil || o.Events != f.app.events || o.Interval != 0 {
		t.Fatalf("wait options %+v, want the hub and the default interval", o)
	}
	f.app.pushTimeout = 5 * time.Second
	f.app.log = log.New(f.logs, "", 0)
	f.app.hookLog = slog.New(slog.NewTextHandler(f.hookLogs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	if opts.passkeys {
		f.origin = "http://localhost:" + strconv.Itoa(f.web.Listener.Addr().(*net.TCPAddr).Port)
		if _, err := configurePasskeys(ctx, client, fake.ServiceSID(), f.origin); err != nil {
			t.Fatal(err)
		}
		f.app.passkeys, f.app.passkeyHost = true, hostOf(f.origin)
	}
	f.web.Config.Handler = f.app.routes()
	f.web.Start()
	t.Cleanup(func() {
		f.web.Close()
		client.CloseIdleConnections()
		f.look.CloseIdleConnections()
		fake.Close()
	})
	if _, err := fake.WebhookURL(f.hookURL); err != nil {
		t.Fatal(err)
	}
	return f
}

// newAuthToken is the app's current auth token in a rotation (newFixture).
const newAuthToken = "0123456789abcdef0123456789abcdef"

// account is a user seeded in the app, with a push and a TOTP factor or
// with none.
type account struct {
	name, password, identity string
	phone                    *verifytest.Device
	number                   string // the phone number on record, for codes by SMS; "" when none
	totp                     *verifytest.TOTPFactor
}

// addUser seeds a user with a push and a TOTP factor.
func (f *fixture) addUser(name, identity string) *account {
	f.t.Helper()
	a := &account{name: name, password: "pw-of-" + name, identity: identity}
	var err error
	if a.phone, err = f.fake.NewPushDevice(f.fake.ServiceSID(), identity); err != nil {
		f.t.Fatal(err)
	}
	if a.totp, err = f.fake.NewTOTPFactor(f.fake.ServiceSID(), identity, &verifytest.TOTPOptions{CodeLength: 8}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.app.users.add(a.name, a.password, identity, factors{push: a.phone.FactorSID, totp: a.totp.SID}); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// addBareUser seeds a user without any factor, who has to enroll one.
func (f *fixture) addBareUser(name, identity string) *account {
	f.t.Helper()
	a := &account{name: name, password: "pw-of-" + name, identity: identity}
	if err := f.app.users.add(a.name, a.password, identity, factors{}); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// browser is one visitor: it keeps the session cookie the server sets.
type browser struct {
	t        *testing.T
	base     string        // the login server's http://host:port
	client   *http.Client  // how it reaches the server
	f        *fixture      // the in-process server's fixture; nil for a child's visitor
	hangUp   time.Duration // when set, it hangs up after this long: status 0, and no test error
	cookie   *http.Cookie
	prompt   *http.Cookie // the usernameless passkey prompt's cookie; nil when none
	lastPush string       // the challenge pushAnswered answered last
}

// browser is a new visitor without a session.
func (f *fixture) browser() *browser {
	base := f.web.URL
	if f.origin != "" { // where WebAuthn works, as a browser would reach it
		base = f.origin
	}
	return &browser{t: f.t, base: base, client: f.web.Client(), f: f}
}

// login is a browser past the password step for a.
func (f *fixture) login(a *account) *browser {
	f.t.Helper()
	b := f.browser()
	if status, body := b.post("/login/password", url.Values{"username": {a.name}, "password": {a.password}}); status != 200 {
		f.t.Fatalf("password step for %s: %d %q", a.name, status, body)
	}
	return b
}

// loggedIn is a browser past both steps for a, with a TOTP code.
func (f *fixture) loggedIn(a *account) *browser {
	f.t.Helper()
	b := f.login(a)
	if status, body := b.post("/login/totp", url.Values{"code": {a.totp.Code()}}); status != 200 {
		f.t.Fatalf("TOTP login for %s: %d %q", a.name, status, body)
	}
	return b
}

// send makes one request with the browser's cookie and returns the
// response with its whole body (nil after a failure, reported with
// t.Error); safe to call from a goroutine other than the test's.
func (b *browser) send(method, path string, form url.Values) (*http.Response, []byte) {
	return b.sendWith(method, path, form, nil)
}

// sendWith is send with the extra headers h.
func (b *browser) sendWith(method, path string, form url.Values, h http.Header) (*http.Response, []byte) {
	reqCtx := ctx
	if b.hangUp > 0 {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, b.hangUp)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(reqCtx, method, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Error(err)
		return nil, nil
	}
	if h != nil {
		req.Header = h.Clone()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.sendRequest(req)
}

// sendRequest sends req as send does, and keeps the session cookie the
// answer sets.
func (b *browser) sendRequest(req *http.Request) (*http.Response, []byte) {
	for _, c := range []*http.Cookie{b.cookie, b.prompt} {
		if c != nil {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		if req.Context().Err() == nil { // not hung up
			b.t.Error(err)
		}
		return nil, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && req.Context().Err() == nil {
		b.t.Error(err)
	}
	for _, c := range resp.Cookies() {
		switch c.Name {
		case sessionCookie, insecureSessionCookie:
			b.cookie = c
		case cookieName(passkeyLoginCookie, true), passkeyLoginCookie:
			if b.prompt = c; c.MaxAge < 0 {
				b.prompt = nil
			}
		}
	}
	return resp, body
}

// do is send for a text answer: its status and its body, trimmed.
func (b *browser) do(method, path string, form url.Values) (int, string) {
	resp, body := b.send(method, path, form)
	if resp == nil {
		return 0, ""
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// post is do for a POST.
func (b *browser) post(path string, form url.Values) (int, string) { return b.do("POST", path, form) }

// postJSON posts form to path and returns the status, the JSON of a 200
// decoded into a map, and the body as text. A 200 must be JSON that no
// cache keeps.
func (b *browser) postJSON(path string, form url.Values) (int, map[string]any, string) {
	b.t.Helper()
	resp, body := b.send("POST", path, form)
	if resp == nil {
		return 0, nil, ""
	}
	text := strings.TrimSpace(string(body))
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil, text
	}
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		b.t.Errorf("%s: Content-Type %q, Cache-Control %q; want application/json and no-store", path, ct, cc)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		b.t.Errorf("%s: %v in %q", path, err, body)
	}
	return resp.StatusCode, got, text
}

// pushAnswered posts /login/push, answers on phone the push it creates
// (approve or deny) once the login waits on it, and returns the login's
// response.
func (b *browser) pushAnswered(phone *verifytest.Device, approve bool, form url.Values) (int, string) {
	return b.pushAnsweredWith(phone, approve, form, nil)
}

// pushAnsweredFrom is pushAnswered from the client address ip, for an app
// that trusts X-Forwarded-For (fixture.trustProxy).
func (b *browser) pushAnsweredFrom(phone *verifytest.Device, approve bool, ip string) (int, string) {
	return b.pushAnsweredWith(phone, approve, nil, from(ip))
}

// pushAnsweredWith is pushAnswered with the extra headers h.
func (b *browser) pushAnsweredWith(phone *verifytest.Device, approve bool, form url.Values, h http.Header) (int, string) {
	type result struct {
		status int
		body   string
	}
	from := b.f.api.mark()
	done := make(chan result, 1)
	go func() {
		status, body := b.postWith("/login/push", form, h)
		done <- result{status, body}
	}()
	answer := phone.Deny
	if approve {
		answer = phone.Approve
	}
	b.lastPush = b.f.pushWaiting(from, phone.Identity)
	if b.lastPush != "" {
		if _, err := answer(ctx, b.lastPush); err != nil {
			b.f.t.Errorf("phone: %v", err)
		}
	}
	r := <-done
	return r.status, r.body
}

// pushWaiting waits for the first Fetch, from request from on, of a
// challenge of identity, and returns the challenge's SID. That Fetch is
// the login's Wait, which subscribed to the hub before it: from then on
// an answer's webhook ends it. "" (and a test error) after 5 s.
func (f *fixture) pushWaiting(from int, identity string) string {
	f.t.Helper()
	sid := f.api.pushWaiting(from, identity)
	if sid == "" {
		f.t.Errorf("no login waits on a push to %s", identity)
	}
	return sid
}

// pushWaiting waits up to 5 s for the first Fetch, from request from on,
// of a challenge of identity, and returns the challenge's SID ("" if none
// came).
func (l *apiLog) pushWaiting(from int, identity string) string {
	r, ok := l.waitFor(from, func(r string) bool {
		return strings.HasPrefix(r, "GET ") && strings.Contains(r, "/Entities/"+identity+"/Challenges/YC")
	})
	if !ok {
		return ""
	}
	return path.Base(r)
}

// fetches counts the app's Fetches of challenge sid from request from on.
func (f *fixture) fetches(from int, sid string) int {
	n := 0
	for _, r := range f.api.since(from) {
		if strings.HasPrefix(r, "GET ") && strings.HasSuffix(r, "/Challenges/"+sid) {
			n++
		}
	}
	return n
}

// settle waits until the fake has delivered every event so far and had
// the login server's answer.
func (f *fixture) settle() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := f.fake.WaitForDeliveries(ctx); err != nil {
		f.t.Fatal(err)
	}
}

// deliveries describes the fake's delivery attempts of events of type typ,
// one line each, in the order they ended.
func (f *fixture) deliveries(typ verify.EventType) []string {
	var out []string
	for _, d := range f.fake.Deliveries() {
		if d.Type != typ {
			continue
		}
		subject := d.FactorSID
		if d.ChallengeSID != "" {
			subject = d.ChallengeSID
		}
		line := fmt.Sprintf("%s %s attempt %d: %d", d.Type, subject, d.Attempt, d.StatusCode)
		if d.Duplicate {
			line += " (duplicate)"
		}
		out = append(out, line)
	}
	return out
}

// factors lists identity's factors on the fake, as "SID type status name".
func (f *fixture) factors(identity string) []string {
	f.t.Helper()
	var out []string
	for fa, err := range f.look.Factors.List(ctx, f.fake.ServiceSID(), identity, nil) {
		if errors.Is(err, verify.ErrNotFound) {
			return nil // no entity: no factor
		}
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, strings.Join([]string{fa.SID, string(fa.FactorType), string(fa.Status), fa.FriendlyName}, " "))
	}
	return out
}

// challenges counts every challenge the fake holds for identity.
func (f *fixture) challenges(identity string) int {
	f.t.Helper()
	n := 0
	for _, err := range f.look.Challenges.List(ctx, f.fake.ServiceSID(), identity, nil) {
		if err != nil {
			f.t.Fatal(err)
		}
		n++
	}
	return n
}

// TestPasswordStep: a wrong password, none, or an unknown user is 401
// without a session; the right one opens a session (a random, HttpOnly,
// Secure, SameSite=Strict cookie) that is not logged in and costs Verify
// nothing.
func TestPasswordStep(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	for name, form := range map[string]url.Values{
		"wrong password": {"username": {"ada"}, "password": {"pw-of-bob"}},
		"no password":    {"username": {"ada"}},
		"unknown user":   {"username": {"bob"}, "password": {"pw-of-bob"}},
	} {
		b := f.browser()
		status, body := b.post("/login/password", form)
		if status != 401 || body != "wrong username or password" || b.cookie != nil {
			t.Errorf("%s: %d %q cookie %v, want 401 and no session", name, status, body, b.cookie)
		}
	}

	b := f.browser()
	status, body := b.post("/login/password", url.Values{"username": {"ada"}, "password": {ada.password}})
	if status != 200 || body != "password ok; now POST /login/push or /login/totp" {
		t.Fatalf("right password: %d %q", status, body)
	}
	c := b.cookie
	if c == nil || len(c.Value) < 26 || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("session cookie %+v, want a random id, HttpOnly, Secure, SameSite=Strict, Path=/", c)
	}
	if status, body := b.do("GET", "/me", nil); status != 401 || body != "not logged in" {
		t.Errorf("/me after the password alone: %d %q, want 401", status, body)
	}
	if n := f.challenges(ada.identity); n != 0 {
		t.Errorf("the password step created %d challenges", n)
	}
}

// TestPushLoginApprovedAndDenied: an approved push logs in under a new
// session id; a denied one does not.
func TestPushLoginApprovedAndDenied(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")

	b := f.login(ada)
	before := *b.cookie
	status, body := b.pushAnswered(ada.phone, true, nil)
	if status != 200 || body != "welcome" {
		t.Fatalf("approved push: %d %q, want 200 welcome", status, body)
	}
	if b.cookie.Value == before.Value || !b.cookie.HttpOnly {
		t.Errorf("session id not renewed at login: %+v", b.cookie)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 || body != "logged in as ada" {
		t.Errorf("/me after login: %d %q", status, body)
	}
	old := f.browser()
	old.cookie = &before
	if status, _ := old.do("GET", "/me", nil); status != 401 {
		t.Errorf("/me with the id from before the second factor: %d, want 401", status)
	}

	b = f.login(ada)
	status, body = b.pushAnswered(ada.phone, false, nil)
	if status != 401 || body != "push denied" {
		t.Errorf("denied push: %d %q, want 401 push denied", status, body)
	}
	if status, _ := b.do("GET", "/me", nil); status != 401 {
		t.Errorf("/me after a denied push: %d, want 401", status)
	}
	if n := f.challenges(ada.identity); n != 2 {
		t.Errorf("%d challenges, want 2", n)
	}
}

// TestTOTPLogin: wrong and malformed codes are refused, the right one logs
// in, and the fifth wrong code ends the session.
func TestTOTPLogin(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")

	b := f.login(ada)
	wrong := wrongCode(ada.totp.Code())
	if status, body := b.post("/login/totp", url.Values{"code": {wrong}}); status != 401 || body != "wrong code" {
		t.Errorf("wrong code: %d %q, want 401 wrong code", status, body)
	}
	if status, body := b.post("/login/totp", url.Values{"code": {"12"}}); status != 400 || body != "that is not a valid code" {
		t.Errorf("malformed code: %d %q, want 400", status, body)
	}
	if status, body := b.post("/login/totp", url.Values{"code": {ada.totp.Code()}}); status != 200 || body != "welcome" {
		t.Fatalf("right code: %d %q, want 200 welcome", status, body)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 || body != "logged in as ada" {
		t.Errorf("/me after login: %d %q", status, body)
	}

	b = f.login(ada)
	for i := 1; i < maxWrongCodes; i++ {
		if status, body := b.post("/login/totp", url.Values{"code": {wrong}}); status != 401 || body != "wrong code" {
			t.Fatalf("wrong code %d: %d %q", i, status, body)
		}
	}
	f.clock.Advance(codesPerAddress.first) // this address has had its 5 codes at once (limits_test.go)
	if status, body := b.post("/login/totp", url.Values{"code": {wrong}}); status != 401 || body != "too many wrong codes; log in with your password again" {
		t.Errorf("wrong code %d: %d %q, want the session ended", maxWrongCodes, status, body)
	}
	if status, body := b.post("/login/totp", url.Values{"code": {ada.totp.Code()}}); status != 401 || body != "log in with your password first" {
		t.Errorf("right code after the session ended: %d %q, want 401", status, body)
	}
}

// wrongCode is code with its first digit changed.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestSecondFactorNeedsALiveSession: without a session, with a made-up id
// or with an expired one, neither the second step nor any enrollment sends
// anything to Verify.
func TestSecondFactorNeedsALiveSession(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	expired := f.login(ada)
	f.clock.Advance(secondFactorTTL)
	for name, b := range map[string]*browser{
		"no session": f.browser(),
		"forged id":  {t: t, base: f.web.URL, client: f.web.Client(), f: f, cookie: &http.Cookie{Name: sessionCookie, Value: "AAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		"expired":    expired,
	} {
		for route, form := range map[string]url.Values{
			"/login/push":             {"identity": {ada.identity}, "factor": {ada.phone.FactorSID}},
			"/login/totp":             {"identity": {ada.identity}, "factor": {ada.totp.SID}, "code": {ada.totp.Code()}},
			"/enroll/totp":            {"identity": {ada.identity}},
			"/enroll/totp/verify":     {"identity": {ada.identity}, "factor_sid": {ada.totp.SID}, "code": {ada.totp.Code()}},
			"/enroll/push/token":      {"identity": {ada.identity}},
			"/enroll/push/done":       {"identity": {ada.identity}},
			"GET /enroll/totp/qr.png": nil,
		} {
			method, target, ok := strings.Cut(route, " ")
			if !ok {
				method, target = "POST", route
			}
			if status, body := b.do(method, target, form); status != 401 || body != "log in with your password first" {
				t.Errorf("%s, %s: %d %q, want 401", name, route, status, body)
			}
		}
		if status, _ := b.do("GET", "/me", nil); status != 401 {
			t.Errorf("%s, /me: %d, want 401", name, status)
		}
	}
	if n := f.challenges(ada.identity); n != 0 {
		t.Errorf("%d challenges created without a session, want 0", n)
	}
	if n := len(f.factors(ada.identity)); n != 2 {
		t.Errorf("ada has %d factors, want her 2: none enrolled without a session", n)
	}
}

// TestRequestCannotChooseWhoLogsIn: bob, logged in with his own password,
// names ada's identity and factors in the body; they are ignored, and
// everything happens on bob's own factors.
func TestRequestCannotChooseWhoLogsIn(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	bob := f.addUser("bob", "user-0002-bob")
	b := f.login(bob)

	status, body := b.post("/login/totp", url.Values{"identity": {ada.identity}, "factor": {ada.totp.SID}, "code": {ada.totp.Code()}})
	if status != 401 || body != "wrong code" {
		t.Errorf("ada's code in bob's session: %d %q, want 401 wrong code", status, body)
	}
	status, body = b.pushAnswered(bob.phone, true, url.Values{"identity": {ada.identity}, "factor": {ada.phone.FactorSID}})
	if status != 200 || body != "welcome" {
		t.Errorf("push naming ada, answered on bob's phone: %d %q", status, body)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 || body != "logged in as bob" {
		t.Errorf("/me: %d %q, want bob", status, body)
	}
	if n := f.challenges(ada.identity); n != 0 {
		t.Errorf("ada got %d challenges from bob's session, want 0", n)
	}
	if n := f.challenges(bob.identity); n != 2 {
		t.Errorf("bob has %d challenges, want 2 (the code and the push)", n)
	}
}

// TestPushLimits: one pending push per user, even from two sessions, and
// three unapproved pushes at once from an address, then a minute's wait;
// a refused push creates no challenge.
func TestPushLimits(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	first, second := f.login(ada), f.login(ada)

	from := f.api.mark()
	done := make(chan string, 1)
	go func() {
		status, body := first.post("/login/push", nil)
		done <- strings.TrimSpace(body) + " " + http.StatusText(status)
	}()
	sid := f.pushWaiting(from, ada.identity)
	if status, body := second.post("/login/push", nil); status != 429 || body != "a push is already waiting on your phone" {
		t.Errorf("second push while one is pending: %d %q, want 429", status, body)
	}
	if n := f.challenges(ada.identity); n != 1 {
		t.Errorf("%d challenges after a refused concurrent push, want 1", n)
	}
	if _, err := ada.phone.Deny(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != "push denied Unauthorized" {
		t.Errorf("first push: %q", got)
	}

	for i := 2; i <= 3; i++ {
		if status, body := second.pushAnswered(ada.phone, false, nil); status != 401 || body != "push denied" {
			t.Fatalf("push %d in a minute: %d %q", i, status, body)
		}
	}
	if status, body := second.post("/login/push", nil); status != 429 || body != "too many attempts; try again in 1m0s" {
		t.Errorf("fourth push in a minute: %d %q, want 429", status, body)
	}
	if n := f.challenges(ada.identity); n != 3 {
		t.Errorf("%d challenges, want 3: the fourth push must not create one", n)
	}

	f.clock.Advance(time.Minute)
	if status, body := second.pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Errorf("push a minute later: %d %q, want 200", status, body)
	}
}

// TestUnexpectedErrorsAreLoggedOnce: an error the user cannot act on is a
// 503 for them and one log line for us, with a single "verify:" prefix.
func TestUnexpectedErrorsAreLoggedOnce(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	b := f.login(ada)
	f.fake.FailNext(1, 500, 0)
	status, body := b.post("/login/totp", url.Values{"code": {ada.totp.Code()}})
	if status != 503 || body != "second factor unavailable" {
		t.Errorf("Verify failing: %d %q, want 503", status, body)
	}
	got := f.logs.String()
	if !strings.HasPrefix(got, "/login/totp: verify: ") || strings.Count(got, "verify:") != 1 || strings.Count(got, "\n") != 1 {
		t.Errorf("log = %q, want one line starting \"/login/totp: verify: \" and no doubled prefix", got)
	}
}

// testClock is the app's clock, moved by tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now is the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log lines written by handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset forgets what was written.
func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// apiLog is the app's transport to the fake: it records every request,
// once answered, as "METHOD /path", so that tests see what the app asked
// of Verify and when a login started waiting.
type apiLog struct {
	next *http.Transport
	mu   sync.Mutex
	reqs []string
	grew chan struct{} // closed and replaced at each request
}

// RoundTrip sends req and records it.
func (l *apiLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, req.Method+" "+req.URL.Path)
	close(l.grew)
	l.grew = make(chan struct{})
	return resp, err
}

// CloseIdleConnections lets verify.Client.CloseIdleConnections reach the
// pool.
func (l *apiLog) CloseIdleConnections() { l.next.CloseIdleConnections() }

// mark is the index the next request will have.
func (l *apiLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// since returns the requests from index from on.
func (l *apiLog) since(from int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs[from:]...)
}

// waitFor returns the first request from index from on that match
// accepts, waiting for it up to 5 s.
func (l *apiLog) waitFor(from int, match func(string) bool) (string, bool) {
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		l.mu.Lock()
		for _, r := range l.reqs[from:] {
			if match(r) {
				l.mu.Unlock()
				return r, true
			}
		}
		grew := l.grew
		l.mu.Unlock()
		select {
		case <-grew:
		case <-timeout.C:
			return "", false
		}
	}
}
