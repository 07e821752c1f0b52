package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// These tests attack the passkey endpoints from two positions: someone who
// holds only the victim's password, and an unauthenticated flood. Each
// proves a defence holds, by exact statuses and by what reached Verify.

// passkeyCalls counts the requests in reqs to the Verify Passkeys
// endpoint named by name: "Factors", "VerifyFactor", "Challenges" or
// "ApproveChallenge".
func passkeyCalls(reqs []string, name string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r, "/Passkeys/"+name) {
			n++
		}
	}
	return n
}

// live reports whether b's session cookie names a live session.
func (f *fixture) live(b *browser) bool {
	if b.cookie == nil || b.cookie.Value == "" {
		return false
	}
	_, _, ok := f.app.sessions.lookup(&http.Request{Header: http.Header{"Cookie": {b.cookie.Name + "=" + b.cookie.Value}}})
	return ok
}

// clone is a browser holding b's cookies, for a request sent alongside
// b's own.
func (b *browser) clone() *browser {
	c := *b
	return &c
}

// postAtOnce posts credential to path n times at once, each from a clone
// of b, and counts the statuses.
func (b *browser) postAtOnce(n int, path string, credential []byte) map[int]int {
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		c := b.clone()
		wg.Go(func() {
			status, _ := c.postCredential(path, credential)
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	return counts
}

// strayPasskey registers a passkey for identity straight at Verify, not
// through the site, as a registration the site refused would leave it:
// verified in Verify, recorded on no user here.
func (f *fixture) strayPasskey(identity string) *verifytest.Authenticator {
	f.t.Helper()
	stray := f.authenticator()
	sid := f.fake.ServiceSID()
	pf, err := f.look.Passkeys.CreateFactor(ctx, sid, &verify.CreatePasskeyFactorParams{Identity: identity, FriendlyName: "stray"})
	if err != nil {
		f.t.Fatal(err)
	}
	creation, err := pf.Options.BrowserJSON()
	if err != nil {
		f.t.Fatal(err)
	}
	reg, err := stray.Register(creation)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.look.Passkeys.VerifyFactor(ctx, sid, reg); err != nil {
		f.t.Fatal(err)
	}
	return stray
}

// usernamelessAssertion gets a usernameless prompt in b and has auth sign
// it, without posting the answer.
func (b *browser) usernamelessAssertion(auth *verifytest.Authenticator) []byte {
	b.t.Helper()
	status, opts := b.options("/login/passkey/options")
	if status != 200 {
		b.t.Fatalf("usernameless options: %d %s", status, opts)
	}
	assertion, err := auth.Assert(opts)
	if err != nil {
		b.t.Fatal(err)
	}
	return assertion
}

// TestPasswordAloneAddsNoFactor: with only the password of a user who has
// a factor (push and TOTP, or a passkey alone), none of the four ways to
// add one reaches Verify: each is 403 before anything is made.
func TestPasswordAloneAddsNoFactor(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	bob := f.addBareUser("bob", "user-0002-bob")
	f.registerPasskey(f.login(bob), f.authenticator()) // bob's first and only factor
	from := f.api.mark()
	for _, victim := range []*account{ada, bob} {
		thief := f.login(victim)
		for _, path := range []string{"/enroll/totp", "/enroll/push/token", "/enroll/passkey"} {
			if status, body := thief.post(path, nil); status != 403 || body != notYourFirstFactor {
				t.Errorf("%s with %s's password alone: %d %q, want 403", path, victim.name, status, body)
			}
		}
		if status, body := thief.postCredential("/enroll/passkey/verify", []byte(`{"id":"x"}`)); status != 403 || body != notYourFirstFactor {
			t.Errorf("/enroll/passkey/verify with %s's password alone: %d %q, want 403", victim.name, status, body)
		}
	}
	if got := f.api.since(from); len(got) != 0 {
		t.Errorf("enrollments refused for want of a login reached Verify: %v", got)
	}
	if n := len(f.app.users.factors(f.app.users.byIdentity(bob.identity)).passkeys); n != 1 {
		t.Errorf("bob has %d passkeys, want his 1", n)
	}
}

// TestRelayedAssertionSignsNoOneIn: an assertion by ada's passkey for a
// prompt given to another browser (relayed from a phishing page, say) does
// not sign in the browser that posts it, with a prompt of its own or in a
// session past ada's password: it signed another challenge than the one
// this browser was given, which the app sees before asking Verify. So the
// relay neither reaches Verify nor uses up ada's prompts.
func TestRelayedAssertionSignsNoOneIn(t *testing.T) {
	f := setupPasskeys(t)
	ada, key := f.passkeyUser("ada", "user-0001-ada")

	victim1, victim2 := f.browser(), f.browser()
	relayed1, relayed2 := victim1.usernamelessAssertion(key), victim2.usernamelessAssertion(key)

	usernameless := f.browser()
	if status, opts := usernameless.options("/login/passkey/options"); status != 200 {
		t.Fatalf("the thief's own prompt: %d %s", status, opts)
	}
	from := f.api.mark()
	if status, body := usernameless.postCredential("/login/passkey", relayed1); status != 401 || usernameless.cookie != nil {
		t.Errorf("a relayed assertion with the thief's own prompt: %d %q, cookie %v; want 401 and no session", status, body, usernameless.cookie)
	}
	withPassword := f.login(ada)
	if status, opts := withPassword.options("/login/passkey/options"); status != 200 {
		t.Fatalf("ada's passkey options past the password: %d %s", status, opts)
	}
	if status, body := withPassword.postCredential("/login/passkey", relayed2); status != 401 || body != errOtherPrompt.Error() {
		t.Errorf("a relayed assertion past ada's password: %d %q, want 401", status, body)
	}
	if status, _ := withPassword.do("GET", "/me", nil); status != 401 {
		t.Error("a relayed assertion finished the login of a password holder")
	}
	if n := passkeyCalls(f.api.since(from), "ApproveChallenge"); n != 0 {
		t.Errorf("%d approvals asked of Verify for relayed answers, want none", n)
	}
	// The victims' prompts are intact: their own answers sign them in.
	for i, v := range []*browser{victim1, victim2} {
		assertion := []byte(relayed1)
		if i == 1 {
			assertion = relayed2
		}
		if status, body := v.postCredential("/login/passkey", assertion); status != 200 {
			t.Errorf("victim %d's own answer after the relay: %d %q, want 200", i+1, status, body)
		}
	}
}

// TestPasskeySignInRenewsTheSessionID: a passkey sign-in never keeps an id
// the browser held before: a planted (made-up) cookie is replaced, and
// the id of a session past the password is dead after its passkey.
func TestPasskeySignInRenewsTheSessionID(t *testing.T) {
	f := setupPasskeys(t)
	ada, key := f.passkeyUser("ada", "user-0001-ada")

	planted := &http.Cookie{Name: sessionCookie, Value: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
	b := f.browser()
	b.cookie = planted
	if status, body := b.signInWithPasskey(key); status != 200 || body != "welcome" {
		t.Fatalf("usernameless sign-in with a planted cookie: %d %q", status, body)
	}
	if b.cookie.Value == planted.Value {
		t.Fatal("the usernameless sign-in kept the planted session id")
	}
	stale := f.browser()
	stale.cookie = planted
	if status, _ := stale.do("GET", "/me", nil); status != 401 {
		t.Errorf("/me with the planted id: %d, want 401", status)
	}

	s := f.login(ada)
	before := *s.cookie
	if status, body := s.signInWithPasskey(key); status != 200 {
		t.Fatalf("passkey past the password: %d %q", status, body)
	}
	old := f.browser()
	old.cookie = &before
	if status, _ := old.do("GET", "/me", nil); status != 401 || f.live(old) {
		t.Errorf("the id from before the passkey: /me %d, live %t; want 401 and dead", status, f.live(old))
	}
}

// TestConcurrentPasskeyAnswersSignInOnce: the same assertion posted 8
// times at once, with the same prompt cookie or in the same session,
// signs in once, and only one of them reaches Verify.
func TestConcurrentPasskeyAnswersSignInOnce(t *testing.T) {
	f := setupPasskeys(t)
	ada, key := f.passkeyUser("ada", "user-0001-ada")

	race := func(name string, b *browser, assertion []byte) {
		t.Helper()
		from := f.api.mark()
		if counts := b.postAtOnce(8, "/login/passkey", assertion); counts[200] != 1 || counts[401] != 7 {
			t.Errorf("%s: statuses %v, want one 200 and seven 401s", name, counts)
		}
		if n := passkeyCalls(f.api.since(from), "ApproveChallenge"); n != 1 {
			t.Errorf("%s: %d approvals asked of Verify, want 1", name, n)
		}
	}
	v := f.browser()
	race("usernameless", v, v.usernamelessAssertion(key))

	s := f.login(ada)
	_, opts := s.options("/login/passkey/options")
	assertion, err := key.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	race("past the password", s, assertion)
}

// TestConcurrentFirstPasskeysRecordOne: two sessions past the password of
// a user without a factor (the user and a thief) register a passkey each
// and post them at once: one is recorded, the other refused with 403, and
// the refused one signs no one in although Verify verified it. The same
// registration posted twice at once in one session reaches Verify once.
func TestConcurrentFirstPasskeysRecordOne(t *testing.T) {
	f := setupPasskeys(t)
	bob := f.addBareUser("bob", "user-0002-bob")
	type side struct {
		b    *browser
		key  *verifytest.Authenticator
		reg  []byte
		code int
		body string
	}
	sides := []*side{{b: f.login(bob), key: f.authenticator()}, {b: f.login(bob), key: f.authenticator()}}
	for _, s := range sides {
		status, opts := s.b.options("/enroll/passkey")
		if status != 200 {
			t.Fatalf("/enroll/passkey: %d %s", status, opts)
		}
		var err error
		if s.reg, err = s.key.Register(opts); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, s := range sides {
		wg.Go(func() { s.code, s.body = s.b.postCredential("/enroll/passkey/verify", s.reg) })
	}
	wg.Wait()
	won, lost := sides[0], sides[1]
	if won.code != 200 {
		won, lost = lost, won
	}
	if won.code != 200 || lost.code != 403 || lost.body != notYourFirstFactor {
		t.Fatalf("two first passkeys at once: %d %q and %d %q, want one 200 and one 403", won.code, won.body, lost.code, lost.body)
	}
	fs := f.app.users.factors(f.app.users.byIdentity(bob.identity))
	if len(fs.passkeys) != 1 || !strings.Contains(won.body, fs.passkeys[0]) {
		t.Fatalf("bob's passkeys %v, want only the winner's %s", fs.passkeys, won.body)
	}
	if status, body := f.browser().signInWithPasskey(lost.key); status != 401 {
		t.Errorf("the refused passkey, usernameless: %d %q, want 401", status, body)
	}
	if status, body := f.browser().signInWithPasskey(won.key); status != 200 {
		t.Errorf("the recorded passkey, usernameless: %d %q, want 200", status, body)
	}

	in := f.browser()
	if status, body := in.signInWithPasskey(won.key); status != 200 {
		t.Fatalf("bob signs in: %d %q", status, body)
	}
	status, opts := in.options("/enroll/passkey")
	if status != 200 {
		t.Fatalf("a second passkey, logged in: %d %s", status, opts)
	}
	reg, err := f.authenticator().Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	from := f.api.mark()
	got := in.postAtOnce(2, "/enroll/passkey/verify", reg)
	if got[200] != 1 || got[404] != 1 || passkeyCalls(f.api.since(from), "VerifyFactor") != 1 {
		t.Errorf("one registration posted twice at once: statuses %v, %d VerifyFactor calls; want one 200, one 404, one call",
			got, passkeyCalls(f.api.since(from), "VerifyFactor"))
	}
	if n := len(f.app.users.factors(f.app.users.byIdentity(bob.identity)).passkeys); n != 2 {
		t.Errorf("bob has %d passkeys, want 2", n)
	}
}

// TestStrayPasskeyAnswersEndTheSession: answers by a passkey that Verify
// holds for the user but the site never recorded (one left by a refused
// registration) count as wrong codes, and the fifth ends the session as
// any fifth wrong code does, so its holder must give the password again.
func TestStrayPasskeyAnswersEndTheSession(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	f.registerPasskey(f.loggedIn(ada), f.authenticator())
	stray := f.strayPasskey(ada.identity)

	s := f.login(ada)
	for i := 1; i <= maxWrongCodes; i++ {
		status, body := s.signInWithPasskey(stray)
		if i < maxWrongCodes && (status != 401 || !strings.Contains(body, "did not check out")) {
			t.Fatalf("stray passkey answer %d: %d %q, want 401", i, status, body)
		}
		if i == maxWrongCodes && (status != 401 || body != "too many wrong answers; log in with your password again") {
			t.Errorf("stray passkey answer %d: %d %q, want the session ended", i, status, body)
		}
	}
	if f.live(s) {
		t.Error("the session lives on after maxWrongCodes answers by a stray passkey")
	}
}

// TestPasskeyPromptFloodFromManyAddresses: 20 addresses each ask for
// passkeysPerAddress.free+1 usernameless prompts; each gets its free ones
// and then a 429 that reaches no Verify, no session is made, and ada, from
// an address of her own, still signs in with her passkey.
func TestPasskeyPromptFloodFromManyAddresses(t *testing.T) {
	f := setupPasskeys(t)
	f.trustProxy()
	_, key := f.passkeyUser("ada", "user-0001-ada")
	sessionsBefore := f.app.sessions.count()

	const addresses = 20
	mark := f.api.mark()
	refused := 0
	for i := range addresses {
		ip := fmt.Sprintf("203.0.113.%d", 10+i)
		for range passkeysPerAddress.free + 1 {
			resp, body := f.browser().sendWith("POST", "/login/passkey/options", nil, from(ip))
			switch {
			case resp == nil:
			case resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "1":
				refused++
			case resp.StatusCode != 200:
				t.Fatalf("a prompt from %s: %d %s", ip, resp.StatusCode, body)
			}
		}
	}
	if refused != addresses {
		t.Errorf("%d prompts refused with Retry-After: 1, want one per address (%d)", refused, addresses)
	}
	if n := passkeyCalls(f.api.since(mark), "Challenges"); n != addresses*passkeysPerAddress.free {
		t.Errorf("%d challenges made in Verify, want %d", n, addresses*passkeysPerAddress.free)
	}
	if n := f.app.passkeyLogins.count(); n != addresses*passkeysPerAddress.free {
		t.Errorf("%d prompts kept, want %d", n, addresses*passkeysPerAddress.free)
	}
	if n := f.app.sessions.count(); n != sessionsBefore {
		t.Errorf("the flood of prompts made %d sessions", n-sessionsBefore)
	}

	v := f.browser()
	resp, opts := v.sendWith("POST", "/login/passkey/options", nil, from("198.51.100.1"))
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("ada's prompt during the flood: %v %s", resp, opts)
	}
	assertion, err := key.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := v.postBody("/login/passkey", "application/json", assertion, from("198.51.100.1")); status != 200 || body != "welcome" {
		t.Errorf("ada's sign-in during the flood: %d %q", status, body)
	}
}

// TestPasskeyPromptFloodCannotEvictASignInUnderWay: a flood from many
// addresses fills the store of usernameless prompts while ada touches her
// passkey; her prompt stays, and the prompts that find the store full of
// prompts under a minute old are refused with 503 before a challenge is
// made in Verify. A minute on, the oldest makes room again.
func TestPasskeyPromptFloodCannotEvictASignInUnderWay(t *testing.T) {
	f := setupPasskeys(t)
	f.trustProxy()
	_, key := f.passkeyUser("ada", "user-0001-ada")
	const most = 2 * 10 // the store's cap, for this test: two flooding addresses fill it
	f.app.passkeyLogins.max = most

	v := f.browser()
	resp, opts := v.sendWith("POST", "/login/passkey/options", nil, from("198.51.100.1"))
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("ada's prompt: %v %s", resp, opts)
	}
	assertion, err := key.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}

	from0 := f.api.mark()
	full := 0
	for i := range 3 {
		ip := fmt.Sprintf("203.0.113.%d", 10+i)
		for range passkeysPerAddress.free {
			resp, body := f.browser().sendWith("POST", "/login/passkey/options", nil, from(ip))
			switch {
			case resp == nil:
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "60":
				full++
			case resp.StatusCode != 200:
				t.Fatalf("a flooding prompt from %s: %d %s", ip, resp.StatusCode, body)
			}
		}
	}
	if want := 3*passkeysPerAddress.free - (most - 1); full != want {
		t.Errorf("%d flooding prompts refused as the store was full, want %d", full, want)
	}
	if n := passkeyCalls(f.api.since(from0), "Challenges"); n != most-1 {
		t.Errorf("%d challenges made in Verify for the flood, want %d: none for a refused prompt", n, most-1)
	}
	if n := f.app.passkeyLogins.count(); n > most {
		t.Errorf("%d prompts kept, past the cap of %d", n, most)
	}
	if status, body := v.postBody("/login/passkey", "application/json", assertion, from("198.51.100.1")); status != 200 || body != "welcome" {
		t.Errorf("ada's answer after the flood: %d %q, want 200 welcome", status, body)
	}

	f.clock.Advance(minPasskeyLoginKeep)
	if resp, body := f.browser().sendWith("POST", "/login/passkey/options", nil, from("198.51.100.2")); resp == nil || resp.StatusCode != 200 {
		t.Errorf("a prompt a minute on: %v %s, want 200", resp, body)
	}
	if n := f.app.passkeyLogins.count(); n > most {
		t.Errorf("%d prompts kept, past the cap of %d", n, most)
	}
}

// TestPasskeyEndpointsRefuseJunkBeforeVerify: cross-site requests, bodies
// the options endpoints do not take, and answers without a live prompt
// are refused before anything reaches Verify, and leave no prompt and no
// session behind.
func TestPasskeyEndpointsRefuseJunkBeforeVerify(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	f.registerPasskey(f.loggedIn(ada), f.authenticator())
	sessionsBefore := f.app.sessions.count()
	from := f.api.mark()

	visitors := map[string]*browser{"no session": f.browser(), "past the password": f.login(ada)}
	for who, b := range visitors {
		for _, path := range []string{"/login/passkey/options", "/login/passkey", "/enroll/passkey", "/enroll/passkey/verify"} {
			for name, h := range map[string]http.Header{
				"Sec-Fetch-Site: cross-site": {"Sec-Fetch-Site": {"cross-site"}},
				"Origin of another host":     {"Origin": {"https://attacker.example"}},
			} {
				if status, body := b.postBody(path, "application/json", []byte(`{}`), h); status != 403 {
					t.Errorf("%s, %s, %s: %d %q, want 403", who, path, name, status, body)
				}
			}
		}
		for _, path := range []string{"/login/passkey/options", "/enroll/passkey"} {
			for _, c := range []struct {
				contentType string
				body        string
				want        int
			}{
				{"application/json", `{}`, 415},
				{"text/plain", "x", 415},
				{"multipart/form-data; boundary=x", "--x--", 415},
				{"application/x-www-form-urlencoded", "a=" + strings.Repeat("x", maxFormBytes), 413},
				{"application/x-www-form-urlencoded", "%zz", 400},
			} {
				if status, body := b.postBody(path, c.contentType, []byte(c.body), nil); status != c.want {
					t.Errorf("%s, %s as %s: %d %q, want %d", who, path, c.contentType, status, body, c.want)
				}
			}
		}
	}
	// Answers with no prompt, a made-up prompt cookie, or a past one.
	forged := f.browser()
	forged.prompt = &http.Cookie{Name: "__Host-passkey-login", Value: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
	answer := []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiQUFBQSJ9","authenticatorData":"AAAA","signature":"AAAA"}}`)
	for who, b := range map[string]*browser{"no prompt": f.browser(), "a made-up prompt": forged, "no prompt, past the password": visitors["past the password"]} {
		if status, body := b.postCredential("/login/passkey", answer); status != 401 {
			t.Errorf("an answer with %s: %d %q, want 401", who, status, body)
		}
		if status, body := b.postCredential("/login/passkey", []byte(`{"id":"x","rawId":"x","type":"public-key","response":{}}`)); status != 400 {
			t.Errorf("a malformed answer with %s: %d %q, want 400", who, status, body)
		}
	}
	if got := f.api.since(from); len(got) != 0 {
		t.Errorf("refused requests reached Verify: %v", got)
	}
	if n := f.app.passkeyLogins.count(); n != 0 {
		t.Errorf("%d prompts kept for refused requests", n)
	}
	if n := f.app.sessions.count(); n != sessionsBefore+1 { // the one login(ada) above
		t.Errorf("%d sessions, want %d", n, sessionsBefore+1)
	}
}

// TestPasswordHolderHoldsUpPasskeyPromptsAtMostAnHour: someone with ada's
// password, from a new address each time, asks for her passkey prompt
// whenever the wait ends. Past passkeysPerUser.free, ada herself waits
// too, but never more than passkeysPerUser.most (an hour), and meanwhile
// she signs in with her passkey alone (usernameless prompts count per
// address only) or with her TOTP code.
func TestPasswordHolderHoldsUpPasskeyPromptsAtMostAnHour(t *testing.T) {
	f := setupPasskeys(t)
	f.trustProxy()
	ada, key := f.passkeyUser("ada", "user-0001-ada")

	thief := f.login(ada)
	mark := f.api.mark()
	made, longest := 0, 0
	for i := 0; i < 100 && longest < int(passkeysPerUser.most.Seconds()); i++ {
		resp, body := thief.sendWith("POST", "/login/passkey/options", nil, from(fmt.Sprintf("203.0.113.%d", 10+i)))
		switch {
		case resp == nil:
			t.FailNow()
		case resp.StatusCode == 200:
			made++
		case resp.StatusCode == 429:
			wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil {
				t.Fatal(err)
			}
			if longest = max(longest, wait); longest < int(passkeysPerUser.most.Seconds()) {
				f.clock.Advance(time.Duration(wait) * time.Second)
				thief = f.login(ada) // the session may have expired while waiting
			}
		default:
			t.Fatalf("the thief's prompt %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	if longest != int(passkeysPerUser.most.Seconds()) {
		t.Fatalf("the longest wait was %d s, want %s", longest, passkeysPerUser.most)
	}
	if n := passkeyCalls(f.api.since(mark), "Challenges"); n != made {
		t.Errorf("%d challenges made in Verify for %d prompts given", n, made)
	}

	mine := http.Header{"X-Forwarded-For": {"198.51.100.1"}}
	s := f.login(ada)
	resp, body := s.sendWith("POST", "/login/passkey/options", nil, mine)
	if resp == nil || resp.StatusCode != 429 {
		t.Fatalf("ada's own passkey prompt past her password: %v %s, want 429", resp, body)
	}
	if wait, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || wait > int(passkeysPerUser.most.Seconds()) {
		t.Errorf("ada waits %q, want at most %s", resp.Header.Get("Retry-After"), passkeysPerUser.most)
	}
	if status, body := s.post("/login/totp", url.Values{"code": {ada.totp.Code()}}); status != 200 {
		t.Errorf("ada's TOTP code meanwhile: %d %q", status, body)
	}
	v := f.browser()
	resp, opts := v.sendWith("POST", "/login/passkey/options", nil, mine)
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("ada's usernameless prompt meanwhile: %v %s", resp, opts)
	}
	assertion, err := key.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := v.postBody("/login/passkey", "application/json", assertion, mine); status != 200 {
		t.Errorf("ada's usernameless sign-in meanwhile: %d %q", status, body)
	}

	f.clock.Advance(passkeysPerUser.most)
	s = f.login(ada)
	if resp, body := s.sendWith("POST", "/login/passkey/options", nil, mine); resp == nil || resp.StatusCode != 200 {
		t.Errorf("ada's passkey prompt an hour on: %v %s, want 200", resp, body)
	}
}

// TestPasskeyRefusalsEchoAndLogNoSecrets: neither the answers to refused
// passkey requests nor the log quote the credential, the prompt cookie or
// the session id, also when Verify fails.
func TestPasskeyRefusalsEchoAndLogNoSecrets(t *testing.T) {
	f := setupPasskeys(t)
	ada, key := f.passkeyUser("ada", "user-0001-ada")
	stray := f.strayPasskey(ada.identity)

	var secrets, answers []string
	keep := func(b *browser, credential []byte) {
		var c struct {
			Response struct {
				ClientDataJSON string `json:"clientDataJSON"`
				Signature      string `json:"signature"`
			} `json:"response"`
		}
		if err := json.Unmarshal(credential, &c); err != nil || c.Response.Signature == "" {
			t.Fatalf("not an assertion: %s", credential)
		}
		secrets = append(secrets, c.Response.ClientDataJSON, c.Response.Signature)
		for _, k := range []*http.Cookie{b.cookie, b.prompt} {
			if k != nil {
				secrets = append(secrets, k.Value)
			}
		}
	}

	// Verify fails: a 503 for the visitor, one log line for us.
	v := f.browser()
	assertion := v.usernamelessAssertion(key)
	keep(v, assertion)
	f.fake.FailNext(1, 500, 0)
	status, body := v.postCredential("/login/passkey", assertion)
	if status != 503 || body != "second factor unavailable" {
		t.Errorf("Verify failing: %d %q, want 503", status, body)
	}
	answers = append(answers, body)

	// A stray passkey past the password: refused, and logged.
	s := f.login(ada)
	_, opts := s.options("/login/passkey/options")
	assertion, err := stray.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	keep(s, assertion)
	status, body = s.postCredential("/login/passkey", assertion)
	if status != 401 {
		t.Errorf("a stray passkey: %d %q, want 401", status, body)
	}
	answers = append(answers, body)

	logs := f.logs.String()
	if !strings.Contains(logs, "/login/passkey: verify:") || !strings.Contains(logs, "no passkey of this sign-in's user") {
		t.Errorf("log %q: want the failure and the refusal", logs)
	}
	for _, secret := range secrets {
		for _, text := range append(answers, logs) {
			if strings.Contains(text, secret) {
				t.Errorf("%q quotes a secret %q", text, secret)
			}
		}
	}
}

// TestPasskeyFloodOnTheCommand: the built command, serving passkeys with
// -read-timeout 1s. Sixteen workers ask for usernameless prompts from one
// address for 2 s: at most passkeysPerAddress.free+2 challenges reach
// Verify, the rest are 429s. Twenty 2 MB passkey answers at once are
// refused with 413, and stalled ones are cut within 3 s. Memory barely
// moves, and the real user, from another address, logs in after it all.
func TestPasskeyFloodOnTheCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("a 2 s flood")
	}
	c := startChild(t, "-read-timeout", "1s", "-passkey-origin", "http://localhost:8080")
	before := c.rss()
	mark := c.api.mark()
	counts := c.flood("usernameless passkey prompts", "127.0.0.1", func(b *browser) (int, string) {
		return b.post("/login/passkey/options", nil)
	})
	made := passkeyCalls(c.api.since(mark), "Challenges")
	if made > passkeysPerAddress.free+2 || made != counts[200] || counts[429] == 0 {
		t.Errorf("prompts by status %v, %d challenges made in Verify; want at most %d, one per 200, and 429s",
			counts, made, passkeysPerAddress.free+2)
	}

	client := clientFrom(t, "127.0.0.3")
	big := `{"id":"` + strings.Repeat("x", 2<<20) + `"}`
	c.refusesLarge(t, client, "/login/passkey", "application/json", big)
	var wg sync.WaitGroup

	cut, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	for _, path := range []string{"/login/passkey", "/enroll/passkey/verify", "/login/passkey/options"} {
		for range 5 {
			wg.Go(func() { stallBody(cut, t, c.base, path, "application/json", `{"id":`) })
		}
	}
	wg.Wait()

	after := c.rss()
	t.Logf("memory: %d MB before, %d MB after the passkey floods", before>>20, after>>20)
	if grew := after - before; grew > 16<<20 {
		t.Errorf("the command grew by %d MB, want less than 16 MB", grew>>20)
	}
	c.logsIn(c.ada, "127.0.0.2", "totp")
}

// TestPasskeyApprovalLeavesAPushWaiting: while ada's login waits on a
// push, her usernameless passkey sign-in elsewhere raises a
// challenge.approved webhook for the same identity; it neither approves
// nor frees the push, which ends as her phone answers it.
func TestPasskeyApprovalLeavesAPushWaiting(t *testing.T) {
	f := setupPasskeys(t)
	ada, key := f.passkeyUser("ada", "user-0001-ada")

	b := f.login(ada)
	mark := f.api.mark()
	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		status, body := b.post("/login/push", nil)
		done <- result{status, body}
	}()
	sid := f.pushWaiting(mark, ada.identity)
	if status, body := f.browser().signInWithPasskey(key); status != 200 {
		t.Errorf("ada's passkey sign-in elsewhere: %d %q", status, body)
	}
	f.settle()
	// Approved so far: the TOTP code of f.loggedIn, and the passkey.
	if got := f.deliveries(verify.EventChallengeApproved); len(got) != 2 || strings.Contains(strings.Join(got, " "), sid) {
		t.Errorf("approved deliveries %q, want the TOTP code's and the passkey's", got)
	}
	if status, body := f.login(ada).post("/login/push", nil); status != 429 || body != errPushPending {
		t.Errorf("a second push after the passkey's webhook: %d %q, want 429: the slot is still taken", status, body)
	}
	if _, err := ada.phone.Deny(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.status != 401 || r.body != "push denied" {
		t.Errorf("the push: %d %q, want 401 push denied", r.status, r.body)
	}
}

// TestPasskeyAndCodeAtOnceLogInOnce: a passkey answer and a TOTP code
// posted at once in one session past the password make one logged-in
// session: the second to finish finds the session ended.
func TestPasskeyAndCodeAtOnceLogInOnce(t *testing.T) {
	f := setupPasskeys(t)
	ada, key := f.passkeyUser("ada", "user-0001-ada")

	s := f.login(ada)
	_, opts := s.options("/login/passkey/options")
	assertion, err := key.Assert(opts)
	if err != nil {
		t.Fatal(err)
	}
	before := f.app.sessions.count()
	byPasskey, byCode := s.clone(), s.clone()
	var wg sync.WaitGroup
	var passkeyStatus, codeStatus int
	var passkeyBody, codeBody string
	wg.Go(func() { passkeyStatus, passkeyBody = byPasskey.postCredential("/login/passkey", assertion) })
	wg.Go(func() { codeStatus, codeBody = byCode.post("/login/totp", url.Values{"code": {ada.totp.Code()}}) })
	wg.Wait()
	if (passkeyStatus == 200) == (codeStatus == 200) {
		t.Errorf("passkey %d %q, code %d %q: want exactly one 200", passkeyStatus, passkeyBody, codeStatus, codeBody)
	}
	if n := f.app.sessions.count(); n != before {
		t.Errorf("%d sessions after, %d before: want the one past the password swapped for one logged in", n, before)
	}
}

// TestPasskeyPromptsCountByTheProxysAddress: behind a proxy, a flooder
// that makes up the addresses before the proxy's in X-Forwarded-For, or
// picks a new address from its IPv6 /64 for each prompt, is one address:
// passkeysPerAddress.free prompts, then 429s that reach no Verify.
func TestPasskeyPromptsCountByTheProxysAddress(t *testing.T) {
	f := setupPasskeys(t)
	f.trustProxy()
	for name, header := range map[string]func(i int) http.Header{
		"made-up addresses before the proxy's": func(i int) http.Header {
			return http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d, 203.0.113.7", i)}}
		},
		"one IPv6 /64": func(i int) http.Header { return from(fmt.Sprintf("2001:db8:1:2::%x", i+1)) },
	} {
		mark := f.api.mark()
		counts := map[int]int{}
		for i := range passkeysPerAddress.free + 5 {
			resp, _ := f.browser().sendWith("POST", "/login/passkey/options", nil, header(i))
			if resp != nil {
				counts[resp.StatusCode]++
			}
		}
		if counts[200] != passkeysPerAddress.free || counts[429] != 5 {
			t.Errorf("%s: prompts by status %v, want %d 200s and 5 429s", name, counts, passkeysPerAddress.free)
		}
		if n := passkeyCalls(f.api.since(mark), "Challenges"); n != passkeysPerAddress.free {
			t.Errorf("%s: %d challenges made in Verify, want %d", name, n, passkeysPerAddress.free)
		}
	}
	if resp, body := f.browser().sendWith("POST", "/login/passkey/options", nil, from("2001:db8:1:3::1")); resp == nil || resp.StatusCode != 200 {
		t.Errorf("a prompt from the next /64: %v %s, want 200", resp, body)
	}
}

// TestClonedPasskeySignsNoOneIn: an answer whose sign count did not go up
// (a copy of the passkey, used after the original) is refused by Verify,
// and the app lets no one in with it: 401, no session.
func TestClonedPasskeySignsNoOneIn(t *testing.T) {
	f := setupPasskeys(t)
	_, key := f.passkeyUser("ada", "user-0001-ada")
	if status, body := f.browser().signInWithPasskey(key); status != 200 {
		t.Fatalf("the original's sign-in: %d %q", status, body)
	}
	key.MisbehaveNext(verifytest.Misbehaviour{ReplaySignCount: true})
	v := f.browser()
	if status, body := v.signInWithPasskey(key); status != 401 || v.cookie != nil {
		t.Errorf("the copy's sign-in: %d %q, cookie %v; want 401 and no session", status, body, v.cookie)
	}
}

// TestFailedPromptsKeepNoPlace: a usernameless prompt whose challenge
// Verify did not make gives its place in the store back, whether Verify
// refused it or its outcome is unknown, so failures cannot fill the store.
func TestFailedPromptsKeepNoPlace(t *testing.T) {
	f := setupPasskeys(t)
	for _, status := range []int{400, 500} {
		f.fake.FailNext(1, status, 0)
		b := f.browser()
		if got, body := b.options("/login/passkey/options"); got == 200 || b.prompt != nil {
			t.Errorf("Verify answering %d: %d %s, prompt cookie %v; want a refusal and no cookie", status, got, body, b.prompt)
		}
		if n := f.app.passkeyLogins.count(); n != 0 {
			t.Errorf("Verify answering %d: %d prompts kept, want 0", status, n)
		}
	}
}

// TestPasswordHolderSpendsNoRegistrations: a thief with ada's password
// alone asks 3×passkeyEnrollsPerUser.free times to register a passkey; each
// is refused before it counts, so ada, logged in, registers hers at once.
func TestPasswordHolderSpendsNoRegistrations(t *testing.T) {
	f := setupPasskeys(t)
	ada := f.addUser("ada", "user-0001-ada")
	thief := f.login(ada)
	for i := range 3 * passkeyEnrollsPerUser.free {
		if status, body := thief.options("/enroll/passkey"); status != 403 {
			t.Fatalf("the thief's registration %d: %d %s, want 403", i+1, status, body)
		}
	}
	f.registerPasskey(f.loggedIn(ada), f.authenticator())
}

// TestPendingPasskeyDiesWithTheFirstFactor: a thief with the password of
// bob, who has no factor yet, begins registering a passkey; bob then
// registers his own first. The thief's registration, posted after, is
// refused before it reaches Verify, and his passkey signs no one in.
func TestPendingPasskeyDiesWithTheFirstFactor(t *testing.T) {
	f := setupPasskeys(t)
	bob := f.addBareUser("bob", "user-0002-bob")
	thief, thiefKey := f.login(bob), f.authenticator()
	status, opts := thief.options("/enroll/passkey")
	if status != 200 {
		t.Fatalf("the thief's /enroll/passkey while bob has no factor: %d %s", status, opts)
	}
	reg, err := thiefKey.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.registerPasskey(f.login(bob), f.authenticator())
	mark := f.api.mark()
	if status, body := thief.postCredential("/enroll/passkey/verify", reg); status != 403 || body != notYourFirstFactor {
		t.Errorf("the thief's registration after bob's first factor: %d %q, want 403", status, body)
	}
	if got := f.api.since(mark); len(got) != 0 {
		t.Errorf("the refused registration reached Verify: %v", got)
	}
	if status, body := f.browser().signInWithPasskey(thiefKey); status != 401 {
		t.Errorf("the thief's passkey, usernameless: %d %q, want 401", status, body)
	}
}

// smuggle is credential with a second response, named Response, whose
// clientDataJSON claims to sign challenge: a reader that matches names
// without regard to case sees it, one that matches them exactly does not.
func smuggle(credential []byte, challenge string) []byte {
	data := base64.RawURLEncoding.EncodeToString([]byte(`{"type":"webauthn.get","challenge":"` + challenge + `"}`))
	s := strings.TrimSpace(string(credential))
	return []byte(s[:len(s)-1] + `,"Response":{"clientDataJSON":"` + data + `"}}`)
}

// twice is credential with its response given a second time, first, with
// a clientDataJSON that claims to sign challenge: a reader that keeps the
// first of two members sees it, one that keeps the last does not.
func twice(credential []byte, challenge string) []byte {
	data := base64.RawURLEncoding.EncodeToString([]byte(`{"type":"webauthn.get","challenge":"` + challenge + `"}`))
	s := strings.TrimSpace(string(credential))
	return []byte(`{"response":{"clientDataJSON":"` + data + `"},` + s[1:])
}

// TestSmuggledChallengesAreRefused: a relayed answer dressed up to show
// the challenge check the thief's own prompt (a second response in
// another case, or given twice) is a 400 that reaches no Verify, and the
// victim's prompt still takes her own answer. The same for a registration
// of an earlier "Add a passkey" dressed up as the latest's.
func TestSmuggledChallengesAreRefused(t *testing.T) {
	f := setupPasskeys(t)
	_, key := f.passkeyUser("ada", "user-0001-ada")
	for name, dress := range map[string]func([]byte, string) []byte{"a second Response": smuggle, "response twice": twice} {
		victim := f.browser()
		relayed := victim.usernamelessAssertion(key)
		thief := f.browser()
		_, opts := thief.options("/login/passkey/options")
		var mine struct{ Challenge string }
		if err := json.Unmarshal(opts, &mine); err != nil {
			t.Fatal(err)
		}
		from := f.api.mark()
		if status, body := thief.postCredential("/login/passkey", dress(relayed, mine.Challenge)); status != 400 {
			t.Errorf("%s: the relayed answer dressed as the thief's: %d %q, want 400", name, status, body)
		}
		if got := f.api.since(from); len(got) != 0 {
			t.Errorf("%s: the dressed-up answer reached Verify: %v", name, got)
		}
		if status, body := victim.postCredential("/login/passkey", relayed); status != 200 {
			t.Errorf("%s: the victim's own answer afterwards: %d %q, want 200", name, status, body)
		}
	}

	b := f.loggedIn(f.addUser("bob", "user-0002-bob"))
	auth := f.authenticator()
	_, first := b.options("/enroll/passkey")
	_, latest := b.options("/enroll/passkey")
	early, err := auth.Register(first)
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Challenge string }
	if err := json.Unmarshal(latest, &l); err != nil {
		t.Fatal(err)
	}
	from := f.api.mark()
	if status, body := b.postCredential("/enroll/passkey/verify", smuggle(early, l.Challenge)); status != 400 {
		t.Errorf("an earlier registration dressed as the latest: %d %q, want 400", status, body)
	}
	if got := f.api.since(from); len(got) != 0 {
		t.Errorf("the dressed-up registration reached Verify: %v", got)
	}
	reg, err := auth.Register(latest)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := b.postCredential("/enroll/passkey/verify", reg); status != 200 {
		t.Errorf("the latest registration afterwards: %d %q", status, body)
	}
	// An answer whose clientDataJSON is no JSON is unreadable (400), not
	// another prompt's, and costs the session no wrong code.
	s := f.login(f.addUser("carol", "user-0004-carol"))
	unreadable := []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"AAAA","authenticatorData":"AAAA","signature":"AAAA"}}`)
	for i := range maxWrongCodes + 1 {
		if status, body := s.postCredential("/login/passkey", unreadable); status != 400 || body != errUnreadableAnswer {
			t.Fatalf("unreadable answer %d: %d %q, want 400 %q", i+1, status, body, errUnreadableAnswer)
		}
	}
	if st := s.state(); st.Step != stepSecondFactor {
		t.Errorf("after unreadable answers the session is at %q, want it alive at %q", st.Step, stepSecondFactor)
	}
}

// approvals rewrites Verify's answers to ApproveChallenge with edit, when
// set: a stand-in for a Verify that approves something else than the
// challenge this browser was given.
type approvals struct {
	next http.RoundTripper
	mu   sync.Mutex
	edit func(map[string]any)
}

func (a *approvals) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.next.RoundTrip(req)
	a.mu.Lock()
	edit := a.edit
	a.mu.Unlock()
	if err != nil || edit == nil || resp.StatusCode != 200 || !strings.HasSuffix(req.URL.Path, "/Passkeys/ApproveChallenge") {
		return resp, err
	}
	defer resp.Body.Close()
	var ch map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ch); err != nil {
		return nil, err
	}
	edit(ch)
	b, _ := json.Marshal(ch)
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	return resp, nil
}

func (a *approvals) set(edit func(map[string]any)) {
	a.mu.Lock()
	a.edit = edit
	a.mu.Unlock()
}

// CloseIdleConnections reaches the pool under the wrapper.
func (a *approvals) CloseIdleConnections() {
	if c, ok := a.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// TestVerifysApprovalIsCheckedToo: behind the check of the challenge an
// answer signed, the app checks what Verify approved: another challenge
// than this browser's, an approval naming no one, or, past the password, a
// passkey of another user than the session's, signs no one in.
func TestVerifysApprovalIsCheckedToo(t *testing.T) {
	rw := &approvals{}
	f := newFixture(t, fixtureOptions{passkeys: true, wrapAPI: func(next http.RoundTripper) http.RoundTripper {
		rw.next = next
		return rw
	}})
	ada, key := f.passkeyUser("ada", "user-0001-ada")
	mallory, _ := f.passkeyUser("mallory", "user-0003-mallory")
	malloryPasskey := f.app.users.factors(f.app.users.byIdentity(mallory.identity)).passkeys[0]
	for name, edit := range map[string]func(map[string]any){
		"another challenge": func(ch map[string]any) { ch["sid"] = "YC" + strings.Repeat("0", 32) },
		"another user":      func(ch map[string]any) { ch["identity"], ch["factor_sid"] = mallory.identity, malloryPasskey },
		"nobody":            func(ch map[string]any) { ch["identity"] = "" },
	} {
		rw.set(edit)
		s := f.login(ada)
		if status, body := s.signInWithPasskey(key); status != 401 {
			t.Errorf("%s, past ada's password: %d %q, want 401", name, status, body)
		}
		if status, _ := s.do("GET", "/me", nil); status != 401 {
			t.Errorf("%s: ada's session logged in", name)
		}
		if name == "another user" {
			continue // usernameless, who signed in is whom Verify names
		}
		v := f.browser()
		if status, body := v.signInWithPasskey(key); status != 401 || v.cookie != nil {
			t.Errorf("%s, usernameless: %d %q, cookie %v; want 401 and no session", name, status, body, v.cookie)
		}
	}
	rw.set(nil)
	if status, body := f.browser().signInWithPasskey(key); status != 200 {
		t.Errorf("with Verify's own answers: %d %q, want 200", status, body)
	}
}
