package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// from is the header that says a request came from the client address ip,
// for an app that trusts X-Forwarded-For (trustProxy).
func from(ip string) http.Header { return http.Header{"X-Forwarded-For": {"192.0.2.1, " + ip}} }

// trustProxy makes f's app take client addresses from X-Forwarded-For.
func (f *fixture) trustProxy() { f.app.addrHeader = "X-Forwarded-For" }

// TestPasswordGuessingIsSlowed: wrong passwords are counted per client
// address and per user. After 10 from one address, that address waits
// before each next try, 1 s, then 2 s, even with the right password; the
// user, from another address, is not slowed by them. After 20 for the
// user from any addresses, every address waits for that user.
func TestPasswordGuessingIsSlowed(t *testing.T) {
	f := setup(t)
	f.trustProxy()
	ada := f.addUser("ada", "user-0001-ada")
	wrong := url.Values{"username": {"ada"}, "password": {"guess"}}
	right := url.Values{"username": {"ada"}, "password": {ada.password}}
	attacker := f.browser()
	for i := 1; i <= passwordsPerAddress.free; i++ {
		if status, body := attacker.postWith("/login/password", wrong, from("203.0.113.7")); status != 401 {
			t.Fatalf("wrong password %d: %d %q, want 401", i, status, body)
		}
	}
	for _, form := range []url.Values{wrong, right} {
		if status, body := attacker.postWith("/login/password", form, from("203.0.113.7")); status != 429 || body != "too many attempts; try again in 1s" {
			t.Errorf("password %d from that address: %d %q, want 429, try again in 1s", passwordsPerAddress.free+1, status, body)
		}
	}
	if status, body := f.browser().postWith("/login/password", right, from("198.51.100.1")); status != 200 {
		t.Errorf("ada from her own address: %d %q, want 200", status, body)
	}
	f.clock.Advance(time.Second)
	if status, body := attacker.postWith("/login/password", wrong, from("203.0.113.7")); status != 401 {
		t.Errorf("a wrong password 1 s later: %d %q, want 401", status, body)
	}
	if status, body := attacker.postWith("/login/password", wrong, from("203.0.113.7")); status != 429 || body != "too many attempts; try again in 2s" {
		t.Errorf("at once after it: %d %q, want 429, try again in 2s", status, body)
	}

	// From many addresses, one each: after 20 failures for ada, every
	// address waits for her, ada too.
	refused := false
	for i := 0; i < passwordsPerUser.free && !refused; i++ {
		status, body := f.browser().postWith("/login/password", wrong, from(fmt.Sprintf("203.0.113.%d", 100+i)))
		if refused = status == 429; status != 401 && !refused {
			t.Fatalf("wrong password from address %d: %d %q, want 401 or 429", i, status, body)
		}
	}
	if !refused {
		t.Errorf("%d more wrong passwords for ada, from as many addresses, were all checked; want a wait past %d", passwordsPerUser.free, passwordsPerUser.free)
	}
	if status, body := f.browser().postWith("/login/password", right, from("198.51.100.1")); status != 429 {
		t.Errorf("ada after that: %d %q, want 429", status, body)
	}
	f.clock.Advance(passwordsPerUser.most)
	if status, body := f.browser().postWith("/login/password", right, from("198.51.100.1")); status != 200 {
		t.Errorf("ada %s later: %d %q, want 200", passwordsPerUser.most, status, body)
	}
}

// TestSessionsPerUserAreCapped: 100 password logins keep only the user's
// newest 10 sessions waiting for a second factor, and never end a session
// that is logged in; expired sessions are dropped as new ones open.
func TestSessionsPerUserAreCapped(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	in := f.loggedIn(ada)
	first := f.login(ada)
	for range 99 {
		f.login(ada)
	}
	if n := f.app.sessions.count(); n != sessionsPerUser+1 {
		t.Errorf("%d sessions after 100 password logins and one full login, want %d", n, sessionsPerUser+1)
	}
	if status, body := first.post("/login/totp", url.Values{"code": {ada.totp.Code()}}); status != 401 || body != "log in with your password first" {
		t.Errorf("the oldest half-done login: %d %q, want 401", status, body)
	}
	if status, body := in.do("GET", "/me", nil); status != 200 {
		t.Errorf("the logged-in session: %d %q, want 200", status, body)
	}
	f.clock.Advance(secondFactorTTL)
	f.login(ada)
	if n := f.app.sessions.count(); n != 2 {
		t.Errorf("%d sessions once the half-done ones expired, want 2", n)
	}
}

// TestTOTPGuessesAreCountedBeforeVerify: 50 wrong codes at once in one
// session reach Verify at most maxWrongCodes times; new sessions (the
// attacker has the password) and new client addresses get no fresh tries:
// after 10 wrong codes for the user, each next one waits, 1 s, then twice
// as long, up to an hour. Over a day of the app's clock that is fewer than
// 50 codes checked. Ada's push login is not held up by it.
func TestTOTPGuessesAreCountedBeforeVerify(t *testing.T) {
	f := setup(t)
	f.trustProxy()
	ada := f.addUser("ada", "user-0001-ada")
	wrong := url.Values{"code": {wrongCode(ada.totp.Code())}}
	b := f.login(ada)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { b.post("/login/totp", wrong) })
	}
	wg.Wait()
	if n := f.challenges(ada.identity); n > maxWrongCodes {
		t.Errorf("50 wrong codes at once in one session: Verify checked %d, want at most %d", n, maxWrongCodes)
	}

	checked, refused := 0, 0
	start := f.clock.Now()
	for i := 0; f.clock.Now().Sub(start) < 24*time.Hour && i < 200; i++ {
		addr := fmt.Sprintf("203.0.%d.%d", i/250, i%250+1) // a new address, and a new session, for each guess
		g := f.browser()
		if status, body := g.postWith("/login/password", url.Values{"username": {ada.name}, "password": {ada.password}}, from(addr)); status != 200 {
			t.Fatalf("password from %s: %d %q", addr, status, body)
		}
		resp, body := g.sendWith("POST", "/login/totp", wrong, from(addr))
		switch {
		case resp == nil:
			t.FailNow()
		case resp.StatusCode == 401:
			checked++
		case resp.StatusCode == 429:
			refused++
			wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || wait < 1 || wait > 3600 {
				t.Fatalf("429 %q with Retry-After %q, want 1 to 3600 s", body, resp.Header.Get("Retry-After"))
			}
			f.clock.Advance(time.Duration(wait) * time.Second)
		default:
			t.Fatalf("a wrong code: %d %q", resp.StatusCode, body)
		}
	}
	t.Logf("a day of guessing from a new address and session each time: %d codes checked, %d refused", checked, refused)
	if checked > 50 || refused == 0 {
		t.Errorf("%d wrong codes checked in a day (%d refused), want at most 50", checked, refused)
	}
	if status, body := f.login(ada).pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Errorf("ada's push meanwhile: %d %q, want 200 welcome", status, body)
	}
}
