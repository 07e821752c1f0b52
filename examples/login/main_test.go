package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

// fixture is the login server wired to a fake Verify, reached over HTTP.
type fixture struct {
	t     *testing.T
	fake  *verifytest.Server
	look  *verify.Client // the test's own view of the fake
	web   *httptest.Server
	app   *app
	clock *testClock
	logs  *syncBuffer
}

func setup(t *testing.T) *fixture {
	fake := verifytest.NewServer()
	f := &fixture{t: t, fake: fake, look: fake.Client(), clock: &testClock{now: time.Now()}, logs: &syncBuffer{}}
	client := fake.Client()
	f.app = newApp(client, fake.ServiceSID(), newUsers(), f.clock.Now)
	f.app.pushTimeout = 5 * time.Second
	f.app.waitOptions = &verify.WaitOptions{Interval: 10 * time.Millisecond}
	f.app.log = log.New(f.logs, "", 0)
	f.web = httptest.NewServer(f.app.routes())
	t.Cleanup(func() {
		f.web.Close()
		client.CloseIdleConnections()
		f.look.CloseIdleConnections()
		fake.Close()
	})
	return f
}

// account is a user seeded in the app with a push and a TOTP factor.
type account struct {
	name, password, identity string
	phone                    *verifytest.Device
	totp                     *verifytest.TOTPFactor
}

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
	if err := f.app.users.add(a.name, a.password, identity, a.phone.FactorSID, a.totp.SID); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// browser is one visitor: it keeps the session cookie the server sets.
type browser struct {
	f      *fixture
	cookie *http.Cookie
}

func (f *fixture) browser() *browser { return &browser{f: f} }

// login is a browser past the password step for a.
func (f *fixture) login(a *account) *browser {
	f.t.Helper()
	b := f.browser()
	if status, body := b.post("/login/password", url.Values{"username": {a.name}, "password": {a.password}}); status != 200 {
		f.t.Fatalf("password step for %s: %d %q", a.name, status, body)
	}
	return b
}

// do sends one request with the browser's cookie; safe to call from a
// goroutine other than the test's.
func (b *browser) do(method, path string, form url.Values) (int, string) {
	req, err := http.NewRequest(method, b.f.web.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.f.t.Error(err)
		return 0, ""
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.cookie != nil {
		req.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
	}
	resp, err := b.f.web.Client().Do(req)
	if err != nil {
		b.f.t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			b.cookie = c
		}
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func (b *browser) post(path string, form url.Values) (int, string) { return b.do("POST", path, form) }

// pushAnswered posts /login/push, answers on phone the push it creates
// (approve or deny), and returns the login's response.
func (b *browser) pushAnswered(phone *verifytest.Device, approve bool, form url.Values) (int, string) {
	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		status, body := b.post("/login/push", form)
		done <- result{status, body}
	}()
	answer := phone.Deny
	if approve {
		answer = phone.Approve
	}
	if sid := b.f.pendingPush(phone); sid != "" {
		if _, err := answer(ctx, sid); err != nil {
			b.f.t.Errorf("phone: %v", err)
		}
	}
	r := <-done
	return r.status, r.body
}

// pendingPush waits up to 2 s for a pending push to phone.
func (f *fixture) pendingPush(phone *verifytest.Device) string {
	f.t.Helper()
	for i := 0; i < 400; i++ {
		for ch, err := range f.look.Challenges.List(ctx, f.fake.ServiceSID(), phone.Identity,
			&verify.ListChallengesParams{FactorSID: phone.FactorSID, Status: verify.StatusPending}) {
			if err == nil {
				return ch.SID
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Errorf("no pending push for %s appeared", phone.Identity)
	return ""
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
	old := &browser{f: f, cookie: &before}
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
	if status, body := b.post("/login/totp", url.Values{"code": {wrong}}); status != 401 || body != "too many wrong codes; log in with your password again" {
		t.Errorf("wrong code %d: %d %q, want the session ended", maxWrongCodes, status, body)
	}
	if status, body := b.post("/login/totp", url.Values{"code": {ada.totp.Code()}}); status != 401 || body != "log in with your password first" {
		t.Errorf("right code after the session ended: %d %q, want 401", status, body)
	}
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestSecondFactorNeedsALiveSession: without a session, with a made-up id
// or with an expired one, neither step sends anything to Verify.
func TestSecondFactorNeedsALiveSession(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	expired := f.login(ada)
	f.clock.Advance(secondFactorTTL)
	for name, b := range map[string]*browser{
		"no session": f.browser(),
		"forged id":  {f: f, cookie: &http.Cookie{Name: sessionCookie, Value: "AAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		"expired":    expired,
	} {
		for path, form := range map[string]url.Values{
			"/login/push": {"identity": {ada.identity}, "factor": {ada.phone.FactorSID}},
			"/login/totp": {"identity": {ada.identity}, "factor": {ada.totp.SID}, "code": {ada.totp.Code()}},
		} {
			if status, body := b.post(path, form); status != 401 || body != "log in with your password first" {
				t.Errorf("%s, %s: %d %q, want 401", name, path, status, body)
			}
		}
		if status, _ := b.do("GET", "/me", nil); status != 401 {
			t.Errorf("%s, /me: %d, want 401", name, status)
		}
	}
	if n := f.challenges(ada.identity); n != 0 {
		t.Errorf("%d challenges created without a session, want 0", n)
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
// at most three a minute; a refused push creates no challenge.
func TestPushLimits(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	first, second := f.login(ada), f.login(ada)

	done := make(chan string, 1)
	go func() {
		status, body := first.post("/login/push", nil)
		done <- strings.TrimSpace(body) + " " + http.StatusText(status)
	}()
	sid := f.pendingPush(ada.phone)
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
	if status, body := second.post("/login/push", nil); status != 429 || body != "too many pushes, try again in a minute" {
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

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

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

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
