package main

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// factorSID matches a factor's SID.
var factorSID = regexp.MustCompile(`^YF[0-9a-f]{32}$`)

// TestTOTPEnrollment: a user without factors, past the password, enrolls
// an authenticator app (URI and QR code, a wrong code, the right one) and
// then logs in with it.
func TestTOTPEnrollment(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	b := f.browser()
	status, body := b.post("/login/password", url.Values{"username": {carol.name}, "password": {carol.password}})
	if status != 200 || body != "password ok; now enroll a second factor: POST /enroll/totp or /enroll/push/token" {
		t.Fatalf("password step: %d %q", status, body)
	}
	if status, body := b.do("GET", qrPath, nil); status != 404 || body != "no TOTP enrollment pending" {
		t.Errorf("QR code before /enroll/totp: %d %q, want 404", status, body)
	}
	if status, body := b.post("/enroll/totp/verify", url.Values{"code": {"123456"}}); status != 404 || body != "no TOTP enrollment pending; POST /enroll/totp first" {
		t.Errorf("verify before /enroll/totp: %d %q, want 404", status, body)
	}

	status, got, text := b.postJSON("/enroll/totp", nil)
	if status != 200 {
		t.Fatalf("/enroll/totp: %d %q", status, text)
	}
	sid, _ := got["factor_sid"].(string)
	uri, _ := got["uri"].(string)
	if len(got) != 3 || !factorSID.MatchString(sid) || !strings.HasPrefix(uri, "otpauth://totp/") || got["qr"] != qrPath {
		t.Fatalf("/enroll/totp answered %v, want exactly factor_sid, an otpauth URI and qr %s", got, qrPath)
	}
	if !strings.Contains(text, `"uri":"`+uri+`"`) {
		t.Errorf("the URI is escaped in %s; want it as is, for copying", text)
	}
	if want := []string{sid + " totp unverified carol"}; !slices.Equal(f.factors(carol.identity), want) {
		t.Errorf("factors on the fake: %q, want %q", f.factors(carol.identity), want)
	}
	app := f.totpApp(carol.identity, sid)
	key, err := otp.NewKeyFromURL(uri)
	if err != nil || key.Secret() != app.Secret {
		t.Fatalf("the URI does not hold the factor's secret (%v)", err)
	}
	f.checkQR(b, key)

	if status, body := b.post("/enroll/totp/verify", url.Values{"code": {wrongCode(app.Code())}}); status != 401 || body != "wrong code" {
		t.Errorf("wrong code: %d %q, want 401 wrong code", status, body)
	}
	if status, body := b.post("/enroll/totp/verify", url.Values{"code": {"12"}}); status != 400 || body != "that is not a valid code" {
		t.Errorf("malformed code: %d %q, want 400", status, body)
	}
	if status, body := b.post("/enroll/totp/verify", nil); status != 400 || body != "enter the code from your authenticator app" {
		t.Errorf("no code: %d %q, want 400", status, body)
	}
	f.checkQR(b, key) // still pending after a wrong code
	if status, body := b.post("/enroll/totp/verify", url.Values{"code": {app.Code()}}); status != 200 || body != "TOTP factor enrolled" {
		t.Fatalf("right code: %d %q, want 200", status, body)
	}
	if want := []string{sid + " totp verified carol"}; !slices.Equal(f.factors(carol.identity), want) {
		t.Errorf("factors on the fake: %q, want %q", f.factors(carol.identity), want)
	}
	if status, _ := b.do("GET", qrPath, nil); status != 404 {
		t.Errorf("QR code after the enrollment: %d, want 404", status)
	}
	if status, body := b.do("GET", "/me", nil); status != 401 {
		t.Errorf("/me after enrolling, before logging in with the factor: %d %q, want 401", status, body)
	}

	if status, body := b.post("/login/totp", url.Values{"code": {app.Code()}}); status != 200 || body != "welcome" {
		t.Fatalf("login with the new factor: %d %q, want 200 welcome", status, body)
	}
	if status, body := b.do("GET", "/me", nil); status != 200 || body != "logged in as carol" {
		t.Errorf("/me: %d %q", status, body)
	}
}

// checkQR fetches the pending QR code: a PNG that no cache keeps, drawn
// from the factor's URI.
func (f *fixture) checkQR(b *browser, key *otp.Key) {
	f.t.Helper()
	resp, body := b.send("GET", qrPath, nil)
	if resp == nil {
		return
	}
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || ct != "image/png" || cc != "no-store" {
		f.t.Fatalf("QR code: %d, Content-Type %q, Cache-Control %q; want 200, image/png, no-store", resp.StatusCode, ct, cc)
	}
	got, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		f.t.Fatalf("QR code: %v", err)
	}
	want, err := key.Image(qrSize, qrSize)
	if err != nil {
		f.t.Fatal(err)
	}
	if got.Bounds() != want.Bounds() {
		f.t.Fatalf("QR code of %v, want %v", got.Bounds(), want.Bounds())
	}
	for y := want.Bounds().Min.Y; y < want.Bounds().Max.Y; y++ {
		for x := want.Bounds().Min.X; x < want.Bounds().Max.X; x++ {
			if color.GrayModel.Convert(got.At(x, y)) != color.GrayModel.Convert(want.At(x, y)) {
				f.t.Fatalf("QR code differs from the URI's at (%d,%d)", x, y)
			}
		}
	}
}

// TestPushEnrollment: past the password, a user without factors gets an
// access token; the phone enrolls with it. Its factor.verified webhook is
// answered but records nothing: /enroll/push/done in the session that
// asked records the phone (409 before the phone enrolled), and the phone
// approves the next login.
func TestPushEnrollment(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	b := f.login(carol)
	if status, body := b.post("/enroll/push/done", nil); status != 404 || body != "no push enrollment pending; POST /enroll/push/token first" {
		t.Errorf("done before a token: %d %q, want 404", status, body)
	}
	if status, body := b.post("/enroll/push/token", url.Values{"name": {strings.Repeat("x", 65)}}); status != 400 || body != "name the phone in at most 64 characters" {
		t.Errorf("a 65-character name: %d %q, want 400", status, body)
	}
	status, tok, text := b.postJSON("/enroll/push/token", url.Values{"name": {"Carol's phone"}, "identity": {"user-0001-ada"}})
	if status != 200 {
		t.Fatalf("/enroll/push/token: %d %q", status, text)
	}
	token, _ := tok["token"].(string)
	want := map[string]any{"token": token, "identity": carol.identity, "service_sid": f.fake.ServiceSID(),
		"factor_friendly_name": "Carol's phone", "ttl": float64(300)}
	if token == "" || fmt.Sprint(tok) != fmt.Sprint(want) {
		t.Fatalf("/enroll/push/token answered %v, want %v with a token", tok, want)
	}
	if status, body := b.post("/enroll/push/done", nil); status != 409 || body != "no new push factor yet; finish enrolling in the app, then try again" {
		t.Errorf("done before the phone enrolled: %d %q, want 409", status, body)
	}

	phone := f.enrollPhone(carol.identity, token)
	f.settle()
	if got, want := f.deliveries(verify.EventFactorVerified), []string{"factor.verified " + phone.FactorSID + " attempt 1: 204"}; !slices.Equal(got, want) {
		t.Errorf("deliveries %q, want %q", got, want)
	}
	if status, body := b.post("/login/push", nil); status != 400 || body != "this account has no push factor; use /login/totp" {
		t.Errorf("push before done: %d %q, want 400", status, body)
	}
	if status, got, text := b.postJSON("/enroll/push/done", nil); status != 200 || fmt.Sprint(got) != fmt.Sprint(map[string]any{"factor_sid": phone.FactorSID}) {
		t.Fatalf("done: %d %v %q, want the phone's factor", status, got, text)
	}
	if status, body := b.post("/enroll/push/done", nil); status != 403 || body != notYourFirstFactor {
		t.Errorf("done again, now that carol has a factor: %d %q, want 403", status, body)
	}
	if status, body := b.pushAnswered(phone, true, nil); status != 200 || body != "welcome" {
		t.Fatalf("push to the new phone: %d %q, want 200 welcome", status, body)
	}
	if want := []string{phone.FactorSID + " push verified Carol's phone"}; !slices.Equal(f.factors(carol.identity), want) {
		t.Errorf("factors on the fake: %q, want %q", f.factors(carol.identity), want)
	}
}

// TestStrayFactorAttachesNothing: /enroll/push/done takes only a factor
// made while the session's token was live: not one made with a token the
// app never handed out before it, nor one made after it expired.
func TestStrayFactorAttachesNothing(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	stray := func() *verifytest.Device { // a phone enrolled with a token the app never handed out
		tok, err := f.look.AccessTokens.Create(ctx, f.fake.ServiceSID(), carol.identity, nil)
		if err != nil {
			t.Fatal(err)
		}
		return f.enrollPhone(carol.identity, tok.Token.Reveal())
	}
	stray()
	f.fake.Advance(time.Second) // API dates have whole seconds
	b := f.login(carol)
	f.pushToken(b)
	f.fake.Advance(pushTokenTTL + 2*time.Second)
	stray()
	f.settle()
	if status, body := b.post("/enroll/push/done", nil); status != 409 || body != "no new push factor yet; finish enrolling in the app, then try again" {
		t.Errorf("done with only stray factors: %d %q, want 409", status, body)
	}
	if status, body := b.post("/login/push", nil); status != 400 || body != "this account has no push factor; use /login/totp" {
		t.Errorf("push after stray factors: %d %q, want 400", status, body)
	}
}

// TestForgedFactorEventIsRefused: with a push enrollment pending, a
// factor.verified event Twilio did not sign is refused with 403 and
// attaches nothing; the real phone's enrollment still goes through.
func TestForgedFactorEventIsRefused(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	b := f.login(carol)
	token := f.pushToken(b)

	forged := f.event(verify.EventFactorVerified, carol.identity, "YF"+strings.Repeat("0", 32))
	for name, signature := range map[string]string{
		"no signature":  "",
		"another token": verifytest.SignWebhook("fedcba9876543210fedcba9876543210", f.hookURL, forged),
	} {
		if status, body := f.deliver(forged, signature); status != 403 || !strings.HasPrefix(body, "verify: webhook signature invalid") {
			t.Errorf("%s: %d %q, want 403", name, status, body)
		}
	}
	if status, body := b.post("/login/push", nil); status != 400 || body != "this account has no push factor; use /login/totp" {
		t.Errorf("push after forged events: %d %q, want 400", status, body)
	}
	phone := f.enrollPhone(carol.identity, token)
	if status, body := b.post("/enroll/push/done", nil); status != 200 {
		t.Errorf("done: %d %q, want 200", status, body)
	}
	if status, body := b.pushAnswered(phone, true, nil); status != 200 || body != "welcome" {
		t.Errorf("push to the real phone: %d %q, want 200 welcome", status, body)
	}
}

// TestAddingAFactorNeedsAFullLogin: a user who has a factor cannot add one
// with the password alone, or a stolen password would add the thief's
// authenticator. Logged in with the second factor, they can.
func TestAddingAFactorNeedsAFullLogin(t *testing.T) {
	f := setup(t)
	ada := f.addUser("ada", "user-0001-ada")
	before := f.factors(ada.identity)
	b := f.login(ada)
	for _, path := range []string{"/enroll/totp", "/enroll/totp/verify", "/enroll/push/token"} {
		if status, body := b.post(path, url.Values{"code": {ada.totp.Code()}}); status != 403 || body != notYourFirstFactor {
			t.Errorf("%s after the password alone: %d %q, want 403", path, status, body)
		}
	}
	if got := f.factors(ada.identity); !slices.Equal(got, before) {
		t.Errorf("factors on the fake: %q, want %q unchanged", got, before)
	}

	if status, body := b.post("/login/totp", url.Values{"code": {ada.totp.Code()}}); status != 200 || body != "welcome" {
		t.Fatalf("TOTP login: %d %q", status, body)
	}
	status, got, text := b.postJSON("/enroll/totp", nil)
	if status != 200 {
		t.Fatalf("/enroll/totp logged in: %d %q", status, text)
	}
	app := f.totpApp(ada.identity, got["factor_sid"].(string))
	if status, body := b.post("/enroll/totp/verify", url.Values{"code": {app.Code()}}); status != 200 || body != "TOTP factor enrolled" {
		t.Fatalf("verify logged in: %d %q", status, body)
	}
	token := f.pushToken(b)
	if status, body := b.post("/enroll/push/done", nil); status != 409 || body != "no new push factor yet; finish enrolling in the app, then try again" {
		t.Errorf("done before the new phone enrolled: %d %q, want 409, not the old phone", status, body)
	}
	phone := f.enrollPhone(ada.identity, token)
	if status, body := b.post("/enroll/push/done", nil); status != 200 {
		t.Errorf("done: %d %q, want 200", status, body)
	}

	// The new factors replace the old ones at the next login.
	b = f.login(ada)
	if status, body := b.post("/login/totp", url.Values{"code": {ada.totp.Code()}}); status != 401 || body != "wrong code" {
		t.Errorf("the old TOTP factor's code: %d %q, want 401", status, body)
	}
	if status, body := b.pushAnswered(phone, true, nil); status != 200 || body != "welcome" {
		t.Errorf("push to the new phone: %d %q, want 200 welcome", status, body)
	}
	b = f.login(ada)
	if status, body := b.post("/login/totp", url.Values{"code": {app.Code()}}); status != 200 || body != "welcome" {
		t.Errorf("the new TOTP factor's code: %d %q, want 200", status, body)
	}
}

// TestEnrollmentStaysWithTheSessionUser: dave names carol's identity and
// her pending factor in his requests; he gets nothing of hers, and
// everything he does lands on his own identity.
func TestEnrollmentStaysWithTheSessionUser(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	dave := f.addBareUser("dave", "user-0004-dave")
	cb, db := f.login(carol), f.login(dave)
	_, got, _ := cb.postJSON("/enroll/totp", nil)
	carolsFactor, _ := got["factor_sid"].(string)
	carolsApp := f.totpApp(carol.identity, carolsFactor)

	hers := url.Values{"identity": {carol.identity}, "factor_sid": {carolsFactor}, "code": {carolsApp.Code()}}
	if status, body := db.post("/enroll/totp/verify", hers); status != 404 || body != "no TOTP enrollment pending; POST /enroll/totp first" {
		t.Errorf("dave verifies carol's factor: %d %q, want 404", status, body)
	}
	if status, _ := db.do("GET", qrPath, nil); status != 404 {
		t.Errorf("dave's QR code: %d, want 404", status)
	}
	status, got, _ := db.postJSON("/enroll/totp", hers)
	davesFactor, _ := got["factor_sid"].(string)
	if status != 200 || davesFactor == carolsFactor {
		t.Fatalf("dave's /enroll/totp naming carol: %d %v", status, got)
	}
	if status, got, _ := db.postJSON("/enroll/push/token", hers); status != 200 || got["identity"] != dave.identity {
		t.Errorf("dave's push token naming carol: %d, identity %v, want %s", status, got["identity"], dave.identity)
	}
	if got, want := f.factors(carol.identity), []string{carolsFactor + " totp unverified carol"}; !slices.Equal(got, want) {
		t.Errorf("carol's factors: %q, want %q", got, want)
	}
	if got, want := f.factors(dave.identity), []string{davesFactor + " totp unverified dave"}; !slices.Equal(got, want) {
		t.Errorf("dave's factors: %q, want %q", got, want)
	}
	if status, body := cb.post("/enroll/totp/verify", url.Values{"code": {carolsApp.Code()}}); status != 200 || body != "TOTP factor enrolled" {
		t.Errorf("carol verifies her own: %d %q", status, body)
	}
	if status, body := db.post("/login/totp", url.Values{"code": {carolsApp.Code()}}); status != 400 || body != "this account has no TOTP factor; use /login/push" {
		t.Errorf("dave logs in with carol's code: %d %q, want 400", status, body)
	}
}

// TestOneFirstFactorPerPassword: two sessions past carol's password race
// to enroll her first factor. Once one has, the other's pending TOTP
// factor and push token no longer count: a second factor needs a login
// with the first.
func TestOneFirstFactorPerPassword(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	first, second := f.login(carol), f.login(carol)
	token := f.pushToken(second)
	_, got, _ := first.postJSON("/enroll/totp", nil)
	firstApp := f.totpApp(carol.identity, got["factor_sid"].(string))
	_, got, _ = second.postJSON("/enroll/totp", nil)
	secondApp := f.totpApp(carol.identity, got["factor_sid"].(string))

	if status, body := first.post("/enroll/totp/verify", url.Values{"code": {firstApp.Code()}}); status != 200 || body != "TOTP factor enrolled" {
		t.Fatalf("first session: %d %q", status, body)
	}
	if status, body := second.post("/enroll/totp/verify", url.Values{"code": {secondApp.Code()}}); status != 403 || body != notYourFirstFactor {
		t.Errorf("second session's TOTP: %d %q, want 403", status, body)
	}
	f.enrollPhone(carol.identity, token)
	if status, body := second.post("/enroll/push/done", nil); status != 403 || body != notYourFirstFactor {
		t.Errorf("done in the second session: %d %q, want 403", status, body)
	}
	if status, body := second.post("/login/push", nil); status != 400 || body != "this account has no push factor; use /login/totp" {
		t.Errorf("push with the second session's phone: %d %q, want 400", status, body)
	}
	if status, body := second.post("/login/totp", url.Values{"code": {secondApp.Code()}}); status != 401 || body != "wrong code" {
		t.Errorf("the second session's TOTP factor: %d %q, want 401", status, body)
	}
}

// pushToken asks for a push token in b's session and returns it.
func (f *fixture) pushToken(b *browser) string {
	f.t.Helper()
	status, got, text := b.postJSON("/enroll/push/token", nil)
	token, _ := got["token"].(string)
	if status != 200 || token == "" {
		f.t.Fatalf("/enroll/push/token: %d %q", status, text)
	}
	return token
}

// enrollPhone is a new phone for identity, enrolled with token.
func (f *fixture) enrollPhone(identity, token string) *verifytest.Device {
	f.t.Helper()
	phone, err := f.fake.NewDevice(f.fake.ServiceSID(), identity)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := phone.Enroll(ctx, token); err != nil {
		f.t.Fatal(err)
	}
	return phone
}

// totpApp is the authenticator app holding identity's TOTP factor sid.
func (f *fixture) totpApp(identity, sid string) *verifytest.TOTPFactor {
	f.t.Helper()
	app, err := f.fake.TOTPFactor(f.fake.ServiceSID(), identity, sid)
	if err != nil {
		f.t.Fatal(err)
	}
	return app
}

// TestOldPushTokenCannotAttachAPhone: someone with carol's password alone
// takes a push token while she has no factor. She then enrolls TOTP, logs
// in with it and asks for a push token: refused while the old token may
// still be live, so a phone he enrolls with it, even with its
// factor.verified delivered, is nobody's. Once the old token has expired,
// her session gets a token, and its /enroll/push/done records the phone
// made with it, not his; another session of hers, which asked for no
// token, records nothing.
func TestOldPushTokenCannotAttachAPhone(t *testing.T) {
	f := setup(t)
	carol := f.addBareUser("carol", "user-0003-carol")
	thief := f.login(carol)
	oldToken := f.pushToken(thief)

	cb := f.login(carol)
	_, got, _ := cb.postJSON("/enroll/totp", nil)
	app := f.totpApp(carol.identity, got["factor_sid"].(string))
	if status, body := cb.post("/enroll/totp/verify", url.Values{"code": {app.Code()}}); status != 200 {
		t.Fatalf("TOTP enrollment: %d %q", status, body)
	}
	if status, body := cb.post("/login/totp", url.Values{"code": {app.Code()}}); status != 200 {
		t.Fatalf("TOTP login: %d %q", status, body)
	}
	status, body := cb.post("/enroll/push/token", nil)
	if want := "a push enrollment begun before your first factor may still be open; try again in 5m2s"; status != 409 || body != want {
		t.Errorf("carol's push token while the old one may be live: %d %q, want 409 %q", status, body, want)
	}
	stolen := f.enrollPhone(carol.identity, oldToken)
	f.settle()
	if got := f.deliveries(verify.EventFactorVerified); !slices.Contains(got, "factor.verified "+stolen.FactorSID+" attempt 1: 204") {
		t.Errorf("deliveries %q, want the thief's factor.verified answered", got)
	}
	if status, body := f.login(carol).post("/login/push", nil); status != 400 || body != "this account has no push factor; use /login/totp" {
		t.Errorf("push login after the thief enrolled: %d %q, want 400", status, body)
	}
	if status, body := thief.post("/enroll/push/done", nil); status != 403 || body != notYourFirstFactor {
		t.Errorf("done in the thief's session: %d %q, want 403", status, body)
	}
	if status, body := cb.post("/enroll/push/done", nil); status != 404 {
		t.Errorf("done in carol's session, whose token was refused: %d %q, want 404", status, body)
	}

	f.clock.Advance(pushTokenTTL + 2*time.Second)
	f.fake.Advance(pushTokenTTL + 2*time.Second)
	other := f.login(carol)
	if status, body := other.post("/login/totp", url.Values{"code": {app.Code()}}); status != 200 {
		t.Fatalf("TOTP login: %d %q", status, body)
	}
	phone := f.enrollPhone(carol.identity, f.pushToken(cb))
	if status, body := other.post("/enroll/push/done", nil); status != 404 || body != "no push enrollment pending; POST /enroll/push/token first" {
		t.Errorf("done in a session without a token: %d %q, want 404", status, body)
	}
	if status, got, text := cb.postJSON("/enroll/push/done", nil); status != 200 || got["factor_sid"] != phone.FactorSID {
		t.Fatalf("done in the session that asked: %d %q, want her phone %s (the thief's is %s)", status, text, phone.FactorSID, stolen.FactorSID)
	}
	if got := f.app.users.factors(f.app.users.byName["carol"]).push; got != phone.FactorSID {
		t.Errorf("carol's push factor is %s, want her phone's, %s", got, phone.FactorSID)
	}
}
