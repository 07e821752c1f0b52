package e2e

import (
	"context"
	"strings"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// signIn types the user's name and password on the sign-in page and
// continues.
func (p *page) signIn(u *user) {
	p.t.Helper()
	p.open("/")
	p.typeIn("username", u.name)
	p.typeIn("password", u.password)
	p.click("continue")
}

// stay marks the document, so that a test can tell later that the page
// changed by itself, without a reload or a navigation (which would drop
// the mark).
func (p *page) stay() { p.eval(`String(window.e2eStayed = "yes")`) }

// stayed reports whether the document marked by stay is still the one shown.
func (p *page) stayed() bool { return p.eval(`String(window.e2eStayed)`) == "yes" }

// TestTOTPEnrollAndSignIn: a user without a second factor signs in with
// her password, is asked to add one, sets up an authenticator app from the
// account page (the key it shows is the factor's secret, the QR code
// loads), confirms it with the app's code, finishes signing in with the
// next code, and signs out.
func TestTOTPEnrollAndSignIn(t *testing.T) {
	s := startServer(t, "bob", userOptions{})
	p := newPage(t, s.base, 1024, 768)
	p.signIn(s.user)
	p.waitPath("/account")
	p.waitText("enroll-first", "Add a second factor")

	p.click("totp-start")
	p.waitFor("the QR code to load", `(() => { const i = document.getElementById("totp-qr"); return i.complete && i.naturalWidth > 0; })()`)
	secret := p.eval(`document.getElementById("totp-secret").dataset.secret`)
	if shown := strings.ReplaceAll(p.text("totp-secret"), " ", ""); shown != secret || secret == "" {
		t.Fatalf("the page shows the key %q, holds %q", shown, secret)
	}
	app := s.newTOTPFactor()
	if app.Secret != secret {
		t.Fatalf("the page shows the key %q; the factor's secret is %q", secret, app.Secret)
	}
	p.typeIn("totp-enroll-code", app.Code()) // what the authenticator app shows
	p.click("totp-confirm")

	p.waitPath("/second-factor")
	if !p.visible("#totp") || p.visible("#push") || p.visible("#sms") {
		t.Errorf("second factor page: authenticator app shown %t, push %t, SMS %t; want only the app", p.visible("#totp"), p.visible("#push"), p.visible("#sms"))
	}
	p.typeIn("totp-code", app.Code())
	p.click("totp-verify")
	p.waitPath("/account")
	p.waitText("signed-in-as", "Signed in as bob")
	if list := p.text("factor-list"); !strings.Contains(list, "Authenticator app") {
		t.Errorf("the account lists the factors %q, want the authenticator app", list)
	}

	p.click("sign-out")
	p.waitPath("/")
	p.open("/account") // the session ended on the server: back to sign-in
	p.waitPath("/")
	p.checkScripts()
}

// newTOTPFactor is the TOTP factor the login server just created for its
// user, not verified yet, as the fake holds it: its secret and codes.
func (s *server) newTOTPFactor() *verifytest.TOTPFactor {
	s.t.Helper()
	var sid string
	for f, err := range s.look.Factors.List(context.Background(), s.fake.ServiceSID(), s.user.identity, nil) {
		if err != nil {
			s.t.Fatal(err)
		}
		if f.FactorType == verify.FactorTypeTOTP && f.Status == verify.FactorStatusUnverified {
			sid = f.SID
		}
	}
	if sid == "" {
		s.t.Fatal("the login server created no TOTP factor")
	}
	f, err := s.fake.TOTPFactor(s.fake.ServiceSID(), s.user.identity, sid)
	if err != nil {
		s.t.Fatal(err)
	}
	return f
}

// TestWrongCode: a wrong code says so and lets the user try again; the
// fifth ends the half-done sign-in, and the page says to start over.
func TestWrongCode(t *testing.T) {
	s := startServer(t, "ada", userOptions{totp: true})
	p := newPage(t, s.base, 1024, 768)
	p.signIn(s.user)
	p.waitPath("/second-factor")
	p.stay()

	wrong := wrongCode(s.user.totp.Code())
	for range 4 {
		p.typeIn("totp-code", wrong) // the field's text is selected after a wrong code: typing replaces it
		p.clickAndWait("totp-verify")
		p.waitText("message", "That code is not right. Check it and try again.")
	}
	p.typeIn("totp-code", wrong)
	p.clickAndWait("totp-verify")
	p.waitText("message", "Too many wrong codes. Sign in with your password again.")
	if !p.visible(`#message a[href="/"]`) {
		t.Error("after too many wrong codes the message has no link to sign in again")
	}
	if !p.stayed() {
		t.Error("the page reloaded")
	}
	p.checkScripts()
}

// clickAndWait clicks the button with id and waits for the server's
// answer: the page disables the button while it waits.
func (p *page) clickAndWait(id string) {
	p.t.Helper()
	p.click(id)
	p.waitFor("#"+id+" to be enabled again", `!document.getElementById("`+id+`").disabled`)
}

// wrongCode is a code of the same length as code that is not code.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+5)%10
	return string(b)
}

// TestPushApproved: the page sends a push and shows, by itself, that it
// waits for the phone; when the phone approves, it signs the user in.
func TestPushApproved(t *testing.T) {
	s := startServer(t, "ada", userOptions{push: true, totp: true})
	p := newPage(t, s.base, 1024, 768)
	p.signIn(s.user)
	p.waitPath("/second-factor")
	p.stay()
	p.click("push-send")
	p.waitText("push-status", "We sent a push to your phone. Open it and tap Approve")
	sid := s.pendingPush()
	if !p.stayed() {
		t.Fatal("the page reloaded to show the push's status")
	}
	if _, err := s.user.phone.Approve(context.Background(), sid); err != nil {
		t.Fatal(err)
	}
	p.waitPath("/account")
	p.waitText("signed-in-as", "Signed in as ada")
	p.checkScripts()
}

// TestPushDenied: a push denied on the phone says so on the page, which
// offers another; after the third unapproved push from this address the
// next is refused, and the page says for how long.
func TestPushDenied(t *testing.T) {
	s := startServer(t, "ada", userOptions{push: true})
	p := newPage(t, s.base, 1024, 768)
	p.signIn(s.user)
	p.waitPath("/second-factor")
	p.stay()
	for i := range 3 {
		p.click("push-send")
		p.waitText("push-status", "Open it and tap Approve")
		if _, err := s.user.phone.Deny(context.Background(), s.pendingPush()); err != nil {
			t.Fatal(err)
		}
		p.waitText("push-status", "The sign-in was denied on your phone.")
		if i == 0 {
			p.waitText("push-send", "Send another push")
		}
	}
	p.click("push-send")
	p.waitText("message", "Too many attempts. For your security, this is locked for now: try again in 1 minute.")
	if !p.stayed() {
		t.Error("the page reloaded")
	}
	p.checkScripts()
}

// TestSMSSignIn: the page texts a code to the number on record, and the
// code from the message signs the user in.
func TestSMSSignIn(t *testing.T) {
	s := startServer(t, "ada", userOptions{totp: true, sms: true})
	p := newPage(t, s.base, 1024, 768)
	p.signIn(s.user)
	p.waitPath("/second-factor")
	if p.visible("#push") || !p.visible("#totp") || !p.visible("#sms") {
		t.Errorf("second factor page: push shown %t, app %t, SMS %t; want the app and SMS", p.visible("#push"), p.visible("#totp"), p.visible("#sms"))
	}
	p.click("sms-send")
	p.waitText("message", "We sent a code to your number ending in 61.")
	code := s.fake.LastCode(s.user.number)
	if code == "" {
		t.Fatal("no SMS in the fake's outbox")
	}
	p.typeIn("sms-code", code)
	p.click("sms-verify")
	p.waitPath("/account")
	p.waitText("signed-in-as", "Signed in as ada")
	p.checkScripts()
}

// TestWrongPassword: a wrong password says so, on the same page.
func TestWrongPassword(t *testing.T) {
	s := startServer(t, "ada", userOptions{totp: true})
	p := newPage(t, s.base, 1024, 768)
	p.open("/")
	p.stay()
	p.typeIn("username", s.user.name)
	p.typeIn("password", "not the password")
	p.click("continue")
	p.waitText("message", "Wrong username or password.")
	if !p.stayed() {
		t.Error("the page reloaded")
	}
	p.checkScripts()
}
