package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// addPhoneUser seeds a user with a push and a TOTP factor and the phone
// number on record.
func (f *fixture) addPhoneUser(name, identity, phone string) *account {
	f.t.Helper()
	a := &account{name: name, password: "pw-of-" + name, identity: identity, number: phone}
	var err error
	if a.phone, err = f.fake.NewPushDevice(f.fake.ServiceSID(), identity); err != nil {
		f.t.Fatal(err)
	}
	if a.totp, err = f.fake.NewTOTPFactor(f.fake.ServiceSID(), identity, nil); err != nil {
		f.t.Fatal(err)
	}
	if err := f.app.users.add(a.name, a.password, identity, factors{push: a.phone.FactorSID, totp: a.totp.SID, phone: phone}); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// smsChecks counts the app's code checks by SMS so far.
func (f *fixture) smsChecks() int {
	n := 0
	for _, r := range f.api.since(0) {
		if strings.HasSuffix(r, "/VerificationCheck") {
			n++
		}
	}
	return n
}

// TestSMSLogin: after the password, POST /login/sms sends a code to the
// number on record (the fake's outbox has it); a wrong code is refused,
// the right one logs in. The code is then used up: a new session has to
// send its own, which is a new code.
func TestSMSLogin(t *testing.T) {
	f := setup(t)
	ada := f.addPhoneUser("ada", "user-0001-ada", "+15017122661")
	b := f.login(ada)
	if status, body := b.post("/login/sms/check", url.Values{"code": {"123456"}}); status != 400 || body != "no code was sent in this session; POST /login/sms first" {
		t.Errorf("a check before any send: %d %q", status, body)
	}
	if status, body := b.post("/login/sms", nil); status != 200 || body != "code sent by SMS to your number ending 61; POST /login/sms/check with code" {
		t.Fatalf("send: %d %q", status, body)
	}
	out := f.fake.Outbox()
	if len(out) != 1 || out[0].To != ada.number || out[0].Body != "Your verifytest verification code is: "+out[0].Code {
		t.Fatalf("outbox %+v, want one SMS to %s", out, ada.number)
	}
	code := out[0].Code
	if status, body := b.post("/login/sms/check", url.Values{"code": {wrongCode(code)}}); status != 401 || body != "wrong code" {
		t.Errorf("a wrong code: %d %q", status, body)
	}
	if status, body := b.post("/login/sms/check", url.Values{"code": {code}}); status != 200 || body != "welcome" {
		t.Fatalf("the right code: %d %q", status, body)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 || body != "logged in as ada" {
		t.Errorf("/me: %d %q", status, body)
	}

	again := f.login(ada)
	if status, body := again.post("/login/sms/check", url.Values{"code": {code}}); status != 400 {
		t.Errorf("the used code in a session that sent none: %d %q, want 400", status, body)
	}
	again.post("/login/sms", nil)
	if next := f.fake.Outbox()[1]; next.VerificationSID == out[0].VerificationSID {
		t.Errorf("the next login's SMS is of the used verification %s", next.VerificationSID)
	}
}

// TestSMSNeedsASessionAndANumber: without a session, or for a user with no
// number on record, nothing is sent; a code that cannot be one is refused
// without reaching Verify; an expired code says to send a new one.
func TestSMSNeedsASessionAndANumber(t *testing.T) {
	f := setup(t)
	ada := f.addPhoneUser("ada", "user-0001-ada", "+15017122661")
	bob := f.addUser("bob", "user-0002-bob")
	if status, body := f.browser().post("/login/sms", nil); status != 401 || body != "log in with your password first" {
		t.Errorf("no session: %d %q", status, body)
	}
	if status, body := f.login(bob).post("/login/sms", nil); status != 400 || body != errNoPhone {
		t.Errorf("bob, without a number: %d %q", status, body)
	}
	if n := len(f.fake.Outbox()); n != 0 {
		t.Fatalf("%d messages sent, want none", n)
	}
	b := f.login(ada)
	b.post("/login/sms", nil)
	for _, c := range []string{"12a456", "123", "12345678901"} {
		if status, body := b.post("/login/sms/check", url.Values{"code": {c}}); status != 400 || body != "that is not a valid code" {
			t.Errorf("code %q: %d %q, want 400", c, status, body)
		}
	}
	if n := f.smsChecks(); n != 0 {
		t.Errorf("Verify checked %d malformed codes", n)
	}
	f.fake.Advance(10 * time.Minute) // the code expires on Verify's clock
	if status, body := b.post("/login/sms/check", url.Values{"code": {f.fake.LastCode(ada.number)}}); status != 401 ||
		body != "no code is waiting: it expired or was used; POST /login/sms for a new one" {
		t.Errorf("an expired code: %d %q", status, body)
	}
}

// TestAPhoneNumberIsASecondFactor: a user whose only second factor is the
// number on record is told to log in by SMS, and a session past the
// password alone may not enroll another factor.
func TestAPhoneNumberIsASecondFactor(t *testing.T) {
	f := setup(t)
	if err := f.app.users.add("erin", "pw-of-erin", "user-0005-erin", factors{phone: "+15017122665"}); err != nil {
		t.Fatal(err)
	}
	erin := &account{name: "erin", password: "pw-of-erin", identity: "user-0005-erin"}
	b := f.browser()
	if status, body := b.post("/login/password", url.Values{"username": {"erin"}, "password": {erin.password}}); status != 200 ||
		body != "password ok; now POST /login/sms" {
		t.Errorf("password: %d %q", status, body)
	}
	if status, body := b.post("/enroll/totp", nil); status != 403 || body != notYourFirstFactor {
		t.Errorf("enrolling past the password alone: %d %q, want 403", status, body)
	}
	if err := f.app.users.add("frank", "pw", "user-0006-frank", factors{phone: "015017122661"}); err == nil {
		t.Error("a number that is not E.164 was accepted")
	}
}

// TestSMSBombingIsBounded: someone who has the password sends codes from a
// new session each time, then from a new address each time, for a day of
// the app's clock. A session sends 3 at most, an address 3 at once and
// then waits from a minute on, and the user gets at most 10 a day; Verify
// itself resends one code at most 5 times in its 10 minutes, refusals the
// app gives back. Ada can still log in with her authenticator app.
func TestSMSBombingIsBounded(t *testing.T) {
	f := setup(t)
	f.trustProxy()
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(time.Minute) // one UTC day of the user's count
	f.clock.Advance(start.Sub(f.clock.Now()))
	ada := f.addPhoneUser("ada", "user-0001-ada", "+15017122661")
	password := url.Values{"username": {ada.name}, "password": {ada.password}}

	s := f.browser()
	s.postWith("/login/password", password, from("203.0.113.7"))
	for i := 1; i <= maxSMSPerSession; i++ {
		if status, body := s.postWith("/login/sms", nil, from(fmt.Sprintf("203.0.113.%d", 10+i))); status != 200 {
			t.Fatalf("send %d in one session: %d %q", i, status, body)
		}
	}
	if status, body := s.postWith("/login/sms", nil, from("203.0.113.99")); status != 429 || body != "too many codes sent in this session; log in with your password again" {
		t.Errorf("a 4th send in one session: %d %q", status, body)
	}
	for i := 1; i <= smsPerAddress.free+1; i++ {
		b := f.browser()
		b.postWith("/login/password", password, from("198.51.100.7"))
		status, body := b.postWith("/login/sms", nil, from("198.51.100.7"))
		switch {
		case i <= 2 && status != 200: // Verify resends the pending code: sends 4 and 5
			t.Errorf("send %d from one address: %d %q, want 200", i, status, body)
		case i == 3 && (status != 429 || body != "too many attempts, try again later"): // Verify's 6th: 60203, given back
			t.Errorf("a 6th send of one code: %d %q, want Verify's refusal", status, body)
		case i == 4 && status != 429:
			t.Errorf("a 4th send from one address: %d %q, want the address's wait", status, body)
		}
	}
	if n := len(f.fake.Outbox()); n != 5 {
		t.Errorf("%d SMS within the code's 10 minutes, want Verify's 5", n)
	}

	refused := 0
	for i := 0; f.clock.Now().Before(start.Add(24*time.Hour-time.Hour)) && i < 500; i++ {
		addr := fmt.Sprintf("192.0.%d.%d", 2+i/250, i%250+1)
		b := f.browser()
		b.postWith("/login/password", password, from(addr))
		resp, body := b.sendWith("POST", "/login/sms", nil, from(addr))
		if resp == nil {
			t.FailNow()
		}
		switch resp.StatusCode {
		case 200:
		case 429:
			refused++
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			f.clock.Advance(max(time.Duration(wait)*time.Second, 10*time.Minute))
			f.fake.Advance(10 * time.Minute) // and Verify forgets the pending code
		default:
			t.Fatalf("send from %s: %d %q", addr, resp.StatusCode, body)
		}
	}
	sent := len(f.fake.Outbox())
	t.Logf("a day of sends from new sessions and addresses: %d SMS, %d refused", sent, refused)
	if sent > smsPerUserDaily.free || refused == 0 {
		t.Errorf("%d SMS to ada in a day (%d refused), want at most %d", sent, refused, smsPerUserDaily.free)
	}
	b := f.browser()
	b.postWith("/login/password", password, from("198.51.100.1"))
	if status, body := b.postWith("/login/totp", url.Values{"code": {ada.totp.Code()}}, from("198.51.100.1")); status != 200 || body != "welcome" {
		t.Errorf("ada's TOTP login meanwhile: %d %q, want welcome", status, body)
	}
}

// TestSMSGuessesAreCounted: codes by SMS and from the authenticator app
// share the address's count: after 5 wrong TOTP codes from an address, its
// SMS code waits too, unchecked. 50 codes at once in one session reach
// Verify at most maxWrongCodes times, then the session is over.
func TestSMSGuessesAreCounted(t *testing.T) {
	f := setup(t)
	f.trustProxy()
	ada := f.addPhoneUser("ada", "user-0001-ada", "+15017122661")
	password := url.Values{"username": {ada.name}, "password": {ada.password}}
	g := f.browser()
	g.postWith("/login/password", password, from("203.0.113.9"))
	for range codesPerAddress.free {
		g.postWith("/login/totp", url.Values{"code": {wrongCode(ada.totp.Code())}}, from("203.0.113.9"))
	}
	g = f.browser()
	g.postWith("/login/password", password, from("203.0.113.9"))
	if status, body := g.postWith("/login/sms", nil, from("203.0.113.9")); status != 200 {
		t.Fatalf("send: %d %q", status, body)
	}
	if status, body := g.postWith("/login/sms/check", url.Values{"code": {f.fake.LastCode(ada.number)}}, from("203.0.113.9")); status != 429 ||
		f.smsChecks() != 0 {
		t.Errorf("an SMS code after %d wrong TOTP codes from the address: %d %q, %d checked; want 429, unchecked",
			codesPerAddress.free, status, body, f.smsChecks())
	}

	b := f.login(ada)
	b.post("/login/sms", nil)
	wrong := url.Values{"code": {wrongCode(f.fake.LastCode(ada.number))}}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { b.post("/login/sms/check", wrong) })
	}
	wg.Wait()
	if n := f.smsChecks(); n > maxWrongCodes {
		t.Errorf("50 wrong codes at once: Verify checked %d, want at most %d", n, maxWrongCodes)
	}
	if status, body := b.post("/login/sms/check", url.Values{"code": {f.fake.LastCode(ada.number)}}); status != 401 ||
		body != "log in with your password first" {
		t.Errorf("the right code after that, in the same session: %d %q, want 401", status, body)
	}
}

// TestSMSLoginsGiveTheirSendsBack: a user who logs in with the code she
// received gets her sends back, so that a busy day of real logins by SMS
// from one address never meets the limits meant for a password holder.
func TestSMSLoginsGiveTheirSendsBack(t *testing.T) {
	f := setup(t)
	ada := f.addPhoneUser("ada", "user-0001-ada", "+15017122661")
	for i := 1; i <= 2*smsPerUserDaily.free; i++ {
		b := f.login(ada)
		if status, body := b.post("/login/sms", nil); status != 200 {
			t.Fatalf("login %d, send: %d %q", i, status, body)
		}
		if status, body := b.post("/login/sms/check", url.Values{"code": {f.fake.LastCode(ada.number)}}); status != 200 {
			t.Fatalf("login %d, check: %d %q", i, status, body)
		}
	}
}

// TestSMSOutcomeUnknown: when Verify's answer to a send is lost, the login
// says so, the send stays counted, and the code that went out still logs
// the user in from that session.
func TestSMSOutcomeUnknown(t *testing.T) {
	f := setup(t)
	ada := f.addPhoneUser("ada", "user-0001-ada", "+15017122661")
	b := f.login(ada)
	f.fake.LoseNextResponse(1)
	if status, body := b.post("/login/sms", nil); status != 503 || body != "second factor unavailable" {
		t.Errorf("a lost answer: %d %q, want 503", status, body)
	}
	if status, body := b.post("/login/sms/check", url.Values{"code": {f.fake.LastCode(ada.number)}}); status != 200 || body != "welcome" {
		t.Errorf("the code that went out: %d %q, want welcome", status, body)
	}
	if !strings.Contains(f.logs.String(), "/login/sms: verify: ") {
		t.Errorf("log %q, want the lost answer logged", f.logs.String())
	}
}
