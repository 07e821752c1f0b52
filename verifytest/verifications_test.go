package verifytest_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

const ada = "+15017122661"

// sendSMS starts a verification by SMS to to on service.
func sendSMS(t *testing.T, c *verify.Client, service, to string) *verify.Verification {
	t.Helper()
	v, err := c.Verifications.Create(ctx, service, &verify.CreateVerificationParams{To: to, Channel: verify.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// check checks code for the latest verification to to.
func check(c *verify.Client, service, to, code string) (*verify.VerificationCheck, error) {
	return c.VerificationChecks.Create(ctx, service, &verify.CheckVerificationParams{To: to, Code: verify.NewSecret(code)})
}

// TestSMSCodeLogin: a verification sends a 6-digit code that the outbox
// holds as the user reads it; a wrong code leaves it pending, the right
// one approves it, and then Verify has forgotten it: a second check and a
// Fetch are 404 (ErrVerificationNotFound).
func TestSMSCodeLogin(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return start })})
	svc := srv.ServiceSID()
	v := sendSMS(t, c, svc, ada)
	if !strings.HasPrefix(v.SID, "VE") || v.Status != verify.VerificationPending || v.Channel != verify.ChannelSMS || v.To != ada ||
		v.ServiceSID != svc || len(v.SendCodeAttempts) != 1 || v.SendCodeAttempts[0].Channel != verify.ChannelSMS ||
		!strings.HasPrefix(v.SendCodeAttempts[0].AttemptSID, "VL") || v.Valid || v.URL != srv.URL+"/v2/Services/"+svc+"/Verifications/"+v.SID {
		t.Fatalf("created %+v", v)
	}
	out := srv.Outbox()
	if len(out) != 1 {
		t.Fatalf("outbox %+v, want one message", out)
	}
	m := out[0]
	if m.Channel != verify.ChannelSMS || m.To != ada || m.VerificationSID != v.SID || m.ServiceSID != svc ||
		!regexp.MustCompile(`^[0-9]{6}$`).MatchString(m.Code) || m.Body != "Your verifytest verification code is: "+m.Code ||
		!m.Time.Equal(start) || srv.LastCode(ada) != m.Code || srv.LastCode("+15005550006") != "" {
		t.Fatalf("message %+v", m)
	}
	got, err := c.Verifications.Fetch(ctx, svc, v.SID)
	if err != nil || got.Status != verify.VerificationPending || got.SID != v.SID {
		t.Fatalf("fetch: %+v %v", got, err)
	}

	chk, err := check(c, svc, ada, wrongCode(m.Code))
	if err != nil || chk.Approved() || chk.Status != verify.VerificationPending || chk.SID != v.SID {
		t.Fatalf("a wrong code: %+v %v, want pending", chk, err)
	}
	chk, err = c.VerificationChecks.Create(ctx, svc, &verify.CheckVerificationParams{VerificationSID: v.SID, Code: verify.NewSecret(m.Code)})
	if err != nil || !chk.Approved() || !chk.Valid || chk.To != ada || chk.Channel != verify.ChannelSMS {
		t.Fatalf("the right code: %+v %v, want approved", chk, err)
	}
	_, err = check(c, svc, ada, m.Code)
	wantAPIError(t, "a second check", err, http.StatusNotFound, 20404)
	if !errors.Is(err, verify.ErrVerificationNotFound) {
		t.Errorf("a second check: %v, want ErrVerificationNotFound", err)
	}
	if _, err := c.Verifications.Fetch(ctx, svc, v.SID); !errors.Is(err, verify.ErrVerificationNotFound) {
		t.Errorf("fetch of an approved verification: %v, want ErrVerificationNotFound", err)
	}
}

// TestCodeLengthIsTheService's: codes have the service's CodeLength, 4 to
// 10 digits, from the next verification on.
func TestCodeLengthIsTheServices(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	for _, n := range []int{4, 10} {
		if _, err := c.Services.Update(ctx, srv.ServiceSID(), &verify.UpdateServiceParams{CodeLength: n}); err != nil {
			t.Fatal(err)
		}
		to := "+1501712266" + string(rune('0'+n%10))
		sendSMS(t, c, srv.ServiceSID(), to)
		if code := srv.LastCode(to); len(code) != n || strings.Trim(code, "0123456789") != "" {
			t.Errorf("service CodeLength %d: code %q", n, code)
		}
	}
}

// TestResendsSendTheSameCode: a Create for a To with a pending
// verification sends its code again, over the channel asked, as the same
// verification; the 6th send is 60203 and sends nothing. The code expires
// 10 minutes after the first send, resends or not; then a Create starts
// a new verification.
func TestResendsSendTheSameCode(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	first := sendSMS(t, c, svc, ada)
	srv.Advance(time.Minute)
	var v *verify.Verification
	for _, ch := range []verify.Channel{verify.ChannelCall, verify.ChannelSMS, verify.ChannelWhatsApp, verify.ChannelSMS} {
		var err error
		if v, err = c.Verifications.Create(ctx, svc, &verify.CreateVerificationParams{To: ada, Channel: ch}); err != nil {
			t.Fatal(err)
		}
		if v.SID != first.SID || v.Channel != ch {
			t.Fatalf("resend by %s: %+v, want verification %s by %s", ch, v, first.SID, ch)
		}
	}
	if len(v.SendCodeAttempts) != 5 || v.SendCodeAttempts[1].Channel != verify.ChannelCall ||
		v.SendCodeAttempts[3].Channel != verify.ChannelWhatsApp || v.SendCodeAttempts[1].Time.Sub(v.SendCodeAttempts[0].Time) != time.Minute {
		t.Errorf("send attempts %+v, want 5: sms, call, sms, whatsapp, sms, a minute after the first", v.SendCodeAttempts)
	}
	out := srv.Outbox()
	for _, m := range out {
		if m.Code != out[0].Code || m.VerificationSID != first.SID {
			t.Fatalf("outbox %+v: want one code, five times", out)
		}
	}
	_, err := c.Verifications.Create(ctx, svc, &verify.CreateVerificationParams{To: ada, Channel: verify.ChannelSMS})
	wantAPIError(t, "a 6th send", err, http.StatusTooManyRequests, 60203)
	if !errors.Is(err, verify.ErrMaxSendAttempts) || len(srv.Outbox()) != 5 {
		t.Errorf("a 6th send: %v and %d messages, want ErrMaxSendAttempts and still 5", err, len(srv.Outbox()))
	}

	srv.Advance(9*time.Minute - time.Second) // 9:59 after the first send
	if _, err := c.Verifications.Fetch(ctx, svc, first.SID); err != nil {
		t.Fatalf("fetch at 9:59: %v", err)
	}
	srv.Advance(time.Second)
	if _, err := check(c, svc, ada, out[0].Code); !errors.Is(err, verify.ErrVerificationNotFound) {
		t.Errorf("the right code at 10:00: %v, want ErrVerificationNotFound", err)
	}
	next := sendSMS(t, c, svc, ada)
	if next.SID == first.SID || len(next.SendCodeAttempts) != 1 {
		t.Errorf("a send after expiry: %+v, want a new verification", next)
	}
}

// TestFiveChecksAtMost: the 5th wrong code leaves the verification
// max_attempts_reached; a 6th check, even with the right code, is 60202,
// and so is a new Create for that To until the verification expires. A
// Fetch no longer finds it.
func TestFiveChecksAtMost(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	v := sendSMS(t, c, svc, ada)
	code := srv.LastCode(ada)
	for i := 1; i <= 5; i++ {
		chk, err := check(c, svc, ada, wrongCode(code))
		want := verify.VerificationPending
		if i == 5 {
			want = verify.VerificationMaxAttemptsReached
		}
		if err != nil || chk.Status != want {
			t.Fatalf("wrong code %d: %+v %v, want %s", i, chk, err, want)
		}
	}
	_, err := check(c, svc, ada, code)
	wantAPIError(t, "a 6th check", err, http.StatusTooManyRequests, 60202)
	if !errors.Is(err, verify.ErrMaxCheckAttempts) {
		t.Errorf("a 6th check: %v, want ErrMaxCheckAttempts", err)
	}
	if _, err := c.VerificationChecks.Create(ctx, svc, &verify.CheckVerificationParams{VerificationSID: v.SID, Code: verify.NewSecret(code)}); !errors.Is(err, verify.ErrMaxCheckAttempts) {
		t.Errorf("a 6th check by SID: %v, want ErrMaxCheckAttempts", err)
	}
	if _, err := c.Verifications.Fetch(ctx, svc, v.SID); !errors.Is(err, verify.ErrVerificationNotFound) {
		t.Errorf("fetch: %v, want ErrVerificationNotFound", err)
	}
	if _, err := c.Verifications.Create(ctx, svc, &verify.CreateVerificationParams{To: ada, Channel: verify.ChannelSMS}); !errors.Is(err, verify.ErrMaxCheckAttempts) {
		t.Errorf("a new code before expiry: %v, want ErrMaxCheckAttempts", err)
	}
	srv.Advance(10 * time.Minute)
	if next := sendSMS(t, c, svc, ada); next.SID == v.SID {
		t.Errorf("a new code after expiry reused %s", v.SID)
	}
}

// TestUpdateEndsAVerification: canceled or approved, Update answers with
// the new status and Verify forgets the verification: check, Fetch and a
// second Update are 404.
func TestUpdateEndsAVerification(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	for i, status := range []verify.VerificationStatus{verify.VerificationCanceled, verify.VerificationApproved} {
		to := "+1501712266" + string(rune('1'+i))
		v := sendSMS(t, c, svc, to)
		up, err := c.Verifications.Update(ctx, svc, v.SID, &verify.UpdateVerificationParams{Status: status})
		if err != nil || up.Status != status || up.Valid != (status == verify.VerificationApproved) {
			t.Fatalf("update to %s: %+v %v", status, up, err)
		}
		if _, err := check(c, svc, to, srv.LastCode(to)); !errors.Is(err, verify.ErrVerificationNotFound) {
			t.Errorf("check after %s: %v, want ErrVerificationNotFound", status, err)
		}
		if _, err := c.Verifications.Fetch(ctx, svc, v.SID); !errors.Is(err, verify.ErrVerificationNotFound) {
			t.Errorf("fetch after %s: %v, want ErrVerificationNotFound", status, err)
		}
		_, err = c.Verifications.Update(ctx, svc, v.SID, &verify.UpdateVerificationParams{Status: verify.VerificationCanceled})
		wantAPIError(t, "a second update", err, http.StatusNotFound, 20404)
		if next := sendSMS(t, c, svc, to); next.SID == v.SID {
			t.Errorf("a send after %s reused the verification", status)
		}
	}
}

// TestCustomCode: a CustomCode needs the service's CustomCodeEnabled
// (60204, 403, sending nothing); with it, the message carries that code and
// checking it approves.
func TestCustomCode(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	params := &verify.CreateVerificationParams{To: ada, Channel: verify.ChannelSMS, CustomCode: verify.NewSecret("A1B2C3")}
	_, err := c.Verifications.Create(ctx, svc, params)
	wantAPIError(t, "a custom code", err, http.StatusForbidden, 60204)
	if len(srv.Outbox()) != 0 {
		t.Errorf("a refused custom code sent %+v", srv.Outbox())
	}
	if _, err := c.Services.Update(ctx, svc, &verify.UpdateServiceParams{CustomCodeEnabled: verify.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verifications.Create(ctx, svc, params); err != nil {
		t.Fatal(err)
	}
	if m := srv.Outbox()[0]; m.Code != "A1B2C3" || !strings.HasSuffix(m.Body, ": A1B2C3") {
		t.Errorf("message %+v, want the custom code", m)
	}
	if chk, err := check(c, svc, ada, "A1B2C3"); err != nil || !chk.Approved() {
		t.Errorf("the custom code: %+v %v, want approved", chk, err)
	}
}

// TestChannelsAndBodies: email, call and whatsapp messages carry the code
// too; auto is sent as sms (no Silent Network Auth here), and sna itself is
// refused as for an account without it. The service's name, or the
// verification's CustomFriendlyName, is in the body; an SMS ends with the
// "do not share" warning when the service asks for it, and an AppHash
// frames it for the SMS Retriever.
func TestChannelsAndBodies(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc, err := c.Services.Create(ctx, &verify.CreateServiceParams{FriendlyName: "Example", DoNotShareWarningEnabled: verify.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		params  verify.CreateVerificationParams
		channel verify.Channel
		body    string // with C for the code
	}{
		{verify.CreateVerificationParams{To: "ada@example.com", Channel: verify.ChannelEmail}, verify.ChannelEmail, "Your Example verification code is: C"},
		{verify.CreateVerificationParams{To: "+15017122662", Channel: verify.ChannelCall}, verify.ChannelCall, "Your Example verification code is: C"},
		{verify.CreateVerificationParams{To: "+15017122663", Channel: verify.ChannelWhatsApp, CustomFriendlyName: "Ex"}, verify.ChannelWhatsApp, "Your Ex verification code is: C"},
		{verify.CreateVerificationParams{To: "+15017122664", Channel: verify.ChannelAuto}, verify.ChannelSMS,
			"Your Example verification code is: C. Don't share this code with anyone; our employees will never ask for the code."},
		{verify.CreateVerificationParams{To: "+15017122665", Channel: verify.ChannelSMS, AppHash: "He42w354ol9"}, verify.ChannelSMS,
			"<#> Your Example verification code is: C. Don't share this code with anyone; our employees will never ask for the code. He42w354ol9"},
	} {
		v, err := c.Verifications.Create(ctx, svc.SID, &tc.params)
		if err != nil {
			t.Fatalf("%s: %v", tc.params.Channel, err)
		}
		out := srv.Outbox()
		m := out[len(out)-1]
		if v.Channel != tc.channel || m.Channel != tc.channel || m.To != tc.params.To || m.Body != strings.ReplaceAll(tc.body, "C", m.Code) {
			t.Errorf("%s: verification by %s, message %+v; want %s and %q", tc.params.Channel, v.Channel, m, tc.channel, tc.body)
		}
	}
	_, err = c.Verifications.Create(ctx, svc.SID, &verify.CreateVerificationParams{To: ada, Channel: verify.ChannelSNA})
	wantAPIError(t, "sna", err, http.StatusBadRequest, 60200)
}

// TestVerificationsBelongToTheirService: a check by To on another service
// finds nothing, and the verification stays checkable where it was made.
func TestVerificationsBelongToTheirService(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	sendSMS(t, c, srv.ServiceSID(), ada)
	if _, err := check(c, srv.NewService(), ada, srv.LastCode(ada)); !errors.Is(err, verify.ErrVerificationNotFound) {
		t.Errorf("a check on another service: %v, want ErrVerificationNotFound", err)
	}
	if chk, err := check(c, srv.ServiceSID(), ada, srv.LastCode(ada)); err != nil || !chk.Approved() {
		t.Errorf("the check where it was sent: %+v %v", chk, err)
	}
}

// TestLostResponseStillSends: a Create whose answer is lost is
// ErrOutcomeUnknown to the client, and the message went out all the same:
// the code the user got checks.
func TestLostResponseStillSends(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	srv.LoseNextResponse(1)
	_, err := c.Verifications.Create(ctx, srv.ServiceSID(), &verify.CreateVerificationParams{To: ada, Channel: verify.ChannelSMS})
	if !errors.Is(err, verify.ErrOutcomeUnknown) || len(srv.Outbox()) != 1 {
		t.Fatalf("a lost answer: %v, %d messages; want ErrOutcomeUnknown and the message sent", err, len(srv.Outbox()))
	}
	if chk, err := check(c, srv.ServiceSID(), ada, srv.LastCode(ada)); err != nil || !chk.Approved() {
		t.Errorf("the code sent: %+v %v, want approved", chk, err)
	}
}

// TestVerificationFormsAreChecked: what the SDK would not send is 400 with
// 60200, the API's code for a bad verification parameter.
func TestVerificationFormsAreChecked(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	svc := servicePath(srv.ServiceSID())
	raw(t, srv, http.MethodPost, svc+"/Verifications", url.Values{"To": {ada}, "Channel": {"sms"}}, srv.AccountSID(), srv.AuthToken())
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/Verifications", url.Values{"To": {"5017122661"}, "Channel": {"sms"}}},
		{"/Verifications", url.Values{"To": {ada}}},
		{"/Verifications", url.Values{"To": {ada}, "Channel": {"pigeon"}}},
		{"/Verifications", url.Values{"To": {ada}, "Channel": {"email"}}},
		{"/Verifications", url.Values{"To": {ada}, "Channel": {"sms"}, "Locale": {"xx"}}},
		{"/Verifications", url.Values{"To": {ada}, "Channel": {"sms"}, "Tags": {"not json"}}},
		{"/Verifications", url.Values{"To": {ada}, "Channel": {"sms"}, "CustomCode": {"123"}}},
		{"/VerificationCheck", url.Values{"To": {ada}}},
		{"/VerificationCheck", url.Values{"To": {ada}, "Code": {"123"}}},
		{"/VerificationCheck", url.Values{"Code": {"123456"}}},
		{"/VerificationCheck", url.Values{"To": {ada}, "VerificationSid": {"VE" + strings.Repeat("0", 32)}, "Code": {"123456"}}},
		{"/Verifications/VE" + strings.Repeat("0", 32), url.Values{"Status": {"pending"}}},
	} {
		status, body := raw(t, srv, http.MethodPost, svc+tc.path, tc.form, srv.AccountSID(), srv.AuthToken())
		if status != http.StatusBadRequest || code(body) != 60200 {
			t.Errorf("%s %v: %d %v, want 400 with 60200", tc.path, tc.form, status, body)
		}
	}
	if n := len(srv.Outbox()); n != 1 {
		t.Errorf("%d messages sent, want the one good Create's", n)
	}
}

// TestWithMessageLogger: each message is logged as the user reads it.
func TestWithMessageLogger(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	srv, c := newFake(t, []verifytest.Option{verifytest.WithMessageLogger(slog.New(slog.NewTextHandler(&buf, nil)))})
	v := sendSMS(t, c, srv.ServiceSID(), ada)
	want := `level=INFO msg="message sent" channel=sms to=+15017122661 body="Your verifytest verification code is: ` +
		srv.LastCode(ada) + `" verification_sid=` + v.SID + "\n"
	if got := buf.String(); !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("logged %q, want one line ending %q", got, want)
	}
}

// syncBuffer is a strings.Builder safe for a logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
