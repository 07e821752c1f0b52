package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Verification SIDs and paths of the spec's examples, saved in
// testdata/verification*.json.
const (
	testVerification  = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testPhone         = "+15017122661"
	pathVerifications = pathService + "/Verifications"
	pathVerification  = pathVerifications + "/" + testVerification
	pathCheck         = pathService + "/VerificationCheck"
	goldenSNAURL      = "https://mi.dnlsrv.com/m/id/ANBByzx7?data=AAAglRRdNn02iTFWfDWwdTjOzM8o%2F6JB86fH%2Bt%2FFftUPj0pFA0u8%2FibWuYwzmMeMOtdTwYlsO8V%2FXF%2BJmngMhbeGKYhHeTOF2H9VrGEYKcEEklPxHgb5GgL3XtYa33j3lIU%2By6InvoV%2FowWHBzA0QeFPBh6vmJ8LoUPJqGE7q0PRz618Z4ym1AGq%2BaomSq9PlP4rCduv9Cmtxu%2FrvPSBwocs0GCWDE8seK8t9epmPQW7gwODxkAiKr9UxhJd9KvmBVuAQPf%2BoFQVo86USXkhXqTvUzB2bNUYY9FCy3CWgZFTOa1D3H1CVxf1eHzYIswNA7SmOzP%2FBX8g6%2B0hkzwMRkcit3gBNs4evAVJiqAgYvUlrtGwwv9bFx4X7jWSHY4%3D&cipherSalt=yANeDq09bwM38SJs"
	// Secrets that must never show in an error, a log record or %v.
	secretCode    = "Z80421Q"
	secretCustom  = "CUSTOM9773"
	secretMessage = "Your code is 977351, CUSTOM-MESSAGE"
)

// goldenVerification is the verification of the spec's examples, sent over
// channel and in status.
func goldenVerification(to string, channel Channel, status VerificationStatus) Verification {
	return Verification{
		SID: testVerification, ServiceSID: testService, AccountSID: testAccount, To: to, Channel: channel,
		Status: status, Valid: status == VerificationApproved, DateCreated: goldenDate, DateUpdated: goldenDate,
		// The API writes an attempt's channel in upper case for sms and email.
		SendCodeAttempts: []SendCodeAttempt{{Time: goldenDate, Channel: channel, AttemptSID: "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
		URL:              apiBase + pathVerification,
	}
}

// goldenSNAVerification is testdata/verification_sna.json.
func goldenSNAVerification() Verification {
	v := goldenVerification(testPhone, ChannelSNA, VerificationPending)
	v.Lookup = Lookup{Carrier: LookupCarrier{Name: "T-Mobile USA, Inc.", Type: "mobile", MobileCountryCode: "311", MobileNetworkCode: "180"}}
	v.SNA = SNA{URL: goldenSNAURL}
	return v
}

// goldenCheck is the check of the spec's examples.
func goldenCheck(to string, channel Channel, date time.Time) VerificationCheck {
	return VerificationCheck{SID: testVerification, ServiceSID: testService, AccountSID: testAccount, To: to,
		Channel: channel, Status: VerificationApproved, Valid: true, SNAAttemptsErrorCodes: []SNAAttemptError{},
		DateCreated: date, DateUpdated: date}
}

// TestVerificationOperations sends each Verifications and
// VerificationChecks call once and checks the exact method, path and whole
// form, then the whole decoded result.
func TestVerificationOperations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sms := goldenVerification(testPhone, ChannelSMS, VerificationPending)
	email := goldenVerification("mail@email.com", ChannelEmail, VerificationPending)
	sna := goldenSNAVerification()
	canceled := goldenVerification(testPhone, ChannelSMS, VerificationCanceled)
	approved := goldenVerification(testPhone, ChannelSMS, VerificationApproved)
	check := goldenCheck(testPhone, ChannelSMS, goldenDate)
	snaCheck := goldenCheck(testPhone, ChannelSNA, goldenDate)
	snaCheck.SNAAttemptsErrorCodes = []SNAAttemptError{{AttemptSID: "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Code: 60001}}
	create := func(p CreateVerificationParams) func(c *Client) (any, error) {
		return func(c *Client) (any, error) { return c.Verifications.Create(ctx, testService, &p) }
	}
	checkWith := func(p CheckVerificationParams) func(c *Client) (any, error) {
		return func(c *Client) (any, error) { return c.VerificationChecks.Create(ctx, testService, &p) }
	}
	runCases(t, []enrollCase{
		{name: "Verifications.Create sms", status: 201, golden: "verification.json", method: "POST", path: pathVerifications,
			form: url.Values{"To": {testPhone}, "Channel": {"sms"}},
			call: create(CreateVerificationParams{To: testPhone, Channel: ChannelSMS}), want: &sms},
		{name: "Verifications.Create every field", status: 201, golden: "verification.json", method: "POST", path: pathVerifications,
			form: url.Values{"To": {testPhone}, "Channel": {"call"}, "CustomFriendlyName": {"Example Bank"},
				"CustomMessage": {secretMessage}, "SendDigits": {"ww1234#"}, "Locale": {"pt-BR"}, "CustomCode": {secretCustom},
				"Amount": {"€39.99"}, "Payee": {"Acme Inc."}, "RateLimits": {`{"end_user_ip_address":"203.0.113.7"}`},
				"ChannelConfiguration": {`{"from":"login@example.com","substitutions":{"name":"Ada <&>"}}`},
				"AppHash":              {"He42w354ol9"}, "TemplateSid": {testTemplate}, "TemplateCustomSubstitutions": {`{"name":"Ada"}`},
				"DeviceIp": {"2001:db8::1"}, "EnableSnaClientToken": {"true"}, "RiskCheck": {"disable"},
				"Tags": {`{"flow":"login"}`}},
			call: create(CreateVerificationParams{To: testPhone, Channel: ChannelCall, CustomFriendlyName: "Example Bank",
				CustomMessage: NewSecret(secretMessage), SendDigits: "ww1234#", Locale: "pt-BR", CustomCode: NewSecret(secretCustom),
				Amount: "€39.99", Payee: "Acme Inc.", RateLimits: StringMap{"end_user_ip_address": "203.0.113.7"},
				ChannelConfiguration: JSONObject{"from": "login@example.com", "substitutions": map[string]string{"name": "Ada <&>"}},
				AppHash:              "He42w354ol9", TemplateSID: testTemplate, TemplateCustomSubstitutions: StringMap{"name": "Ada"},
				DeviceIP: "2001:db8::1", EnableSNAClientToken: true, RiskCheck: RiskCheckDisable, Tags: StringMap{"flow": "login"}}),
			want: &sms},
		{name: "Verifications.Create email", status: 201, golden: "verification_email.json", method: "POST", path: pathVerifications,
			form: url.Values{"To": {"mail@email.com"}, "Channel": {"email"}},
			call: create(CreateVerificationParams{To: "mail@email.com", Channel: ChannelEmail}), want: &email},
		{name: "Verifications.Create sna", status: 201, golden: "verification_sna.json", method: "POST", path: pathVerifications,
			form: url.Values{"To": {testPhone}, "Channel": {"sna"}},
			call: create(CreateVerificationParams{To: testPhone, Channel: ChannelSNA}), want: &sna},
		{name: "Verifications.Create auto", status: 201, golden: "verification_sna.json", method: "POST", path: pathVerifications,
			form: url.Values{"To": {testPhone}, "Channel": {"auto"}, "DeviceIp": {"203.0.113.7"}},
			call: create(CreateVerificationParams{To: testPhone, Channel: ChannelAuto, DeviceIP: "203.0.113.7"}), want: &sna},
		{name: "Verifications.Fetch", status: 200, golden: "verification_fetch.json", method: "GET", path: pathVerification,
			call: func(c *Client) (any, error) { return c.Verifications.Fetch(ctx, testService, testVerification) },
			want: &sms},
		{name: "Verifications.Update canceled", status: 200, golden: "verification_canceled.json", method: "POST", path: pathVerification,
			form: url.Values{"Status": {"canceled"}},
			call: func(c *Client) (any, error) {
				return c.Verifications.Update(ctx, testService, testVerification, &UpdateVerificationParams{Status: VerificationCanceled})
			},
			want: &canceled},
		{name: "Verifications.Update approved", status: 200, golden: "verification_approved.json", method: "POST", path: pathVerification,
			form: url.Values{"Status": {"approved"}},
			call: func(c *Client) (any, error) {
				return c.Verifications.Update(ctx, testService, testVerification, &UpdateVerificationParams{Status: VerificationApproved})
			},
			want: &approved},
		{name: "VerificationChecks.Create by To", status: 201, golden: "verification_check.json", method: "POST", path: pathCheck,
			form: url.Values{"To": {testPhone}, "Code": {secretCode}},
			call: checkWith(CheckVerificationParams{To: testPhone, Code: NewSecret(secretCode)}), want: &check},
		{name: "VerificationChecks.Create by SID with PSD2", status: 201, golden: "verification_check.json", method: "POST", path: pathCheck,
			form: url.Values{"VerificationSid": {testVerification}, "Code": {secretCode}, "Amount": {"€39.99"}, "Payee": {"Acme Inc."}},
			call: checkWith(CheckVerificationParams{VerificationSID: testVerification, Code: NewSecret(secretCode),
				Amount: "€39.99", Payee: "Acme Inc."}), want: &check},
		{name: "VerificationChecks.Create sna", status: 201, golden: "verification_check_sna.json", method: "POST", path: pathCheck,
			form: url.Values{"To": {testPhone}, "SnaClientToken": {"sna-client-token-1"}},
			call: checkWith(CheckVerificationParams{To: testPhone, SNAClientToken: NewSecret("sna-client-token-1")}), want: &snaCheck},
	})
}

// TestWrongCodeIsNotAnError: the API answers a wrong code with a check
// whose status is pending; that is a result, not an error.
func TestWrongCodeIsNotAnError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterNoResponder(bodyResponder(200, strings.NewReplacer(`"approved"`, `"pending"`, `"valid": true`, `"valid": false`).
		Replace(golden(t, "verification_check.json"))))
	chk, err := h.client.VerificationChecks.Create(context.Background(), testService,
		&CheckVerificationParams{To: testPhone, Code: NewSecret("000000")})
	if err != nil {
		t.Fatalf("a wrong code gave an error: %v", err)
	}
	if chk.Approved() || chk.Status != VerificationPending || chk.Valid || !chk.Status.IsPending() {
		t.Errorf("wrong code: %+v; want pending, not approved", chk)
	}
	if s := chk.String(); s != "verification check "+testVerification+" sms pending" {
		t.Errorf("String() = %q", s)
	}
}

// TestVerificationErrors: each Verify error a login branches on matches
// its sentinel (and only where it means what the sentinel says), and the
// per-number and per-verification limits are final.
func TestVerificationErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	createSMS := func(c *Client) error {
		_, err := c.Verifications.Create(ctx, testService, &CreateVerificationParams{To: testPhone, Channel: ChannelSMS})
		return err
	}
	checkCode := func(c *Client) error {
		_, err := c.VerificationChecks.Create(ctx, testService, &CheckVerificationParams{To: testPhone, Code: NewSecret(secretCode)})
		return err
	}
	fetch := func(c *Client) error { return errOf(c.Verifications.Fetch(ctx, testService, testVerification)) }
	cancel := func(c *Client) error {
		return errOf(c.Verifications.Update(ctx, testService, testVerification, &UpdateVerificationParams{Status: VerificationCanceled}))
	}
	fetchService := func(c *Client) error { return errOf(c.Services.Fetch(ctx, testService)) }
	sentinels := []error{ErrMaxSendAttempts, ErrMaxCheckAttempts, ErrVerificationNotFound, ErrLandline,
		ErrTooManyConcurrentRequests, ErrFraudBlocked, ErrNotFound, ErrRateLimited}
	for _, tc := range []struct {
		name         string
		status, code int
		call         func(*Client) error
		want         []error // the sentinels it matches; every other one must not match
		final        bool    // a 429 that is not retried
	}{
		{"60203 max send attempts", 429, 60203, createSMS, []error{ErrMaxSendAttempts, ErrRateLimited}, true},
		{"60202 max check attempts", 429, 60202, checkCode, []error{ErrMaxCheckAttempts, ErrRateLimited}, true},
		{"60212 concurrent requests", 429, 60212, createSMS, []error{ErrTooManyConcurrentRequests, ErrRateLimited}, true},
		{"60205 landline", 403, 60205, createSMS, []error{ErrLandline}, false},
		{"60410 fraud block", 403, 60410, createSMS, []error{ErrFraudBlocked}, false},
		{"20404 on a check", 404, 20404, checkCode, []error{ErrVerificationNotFound, ErrNotFound}, false},
		{"20404 on a fetch", 404, 20404, fetch, []error{ErrVerificationNotFound, ErrNotFound}, false},
		{"20404 on a cancel", 404, 20404, cancel, []error{ErrVerificationNotFound, ErrNotFound}, false},
		{"404 without a code on a check", 404, 0, checkCode, []error{ErrVerificationNotFound, ErrNotFound}, false},
		{"20404 on a create: the service is missing", 404, 20404, createSMS, []error{ErrNotFound}, false},
		{"20404 on a service", 404, 20404, fetchService, []error{ErrNotFound}, false},
		{"20429 is retried", 429, 20429, createSMS, []error{ErrRateLimited}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, WithMaxRetries(2))
			body := fmt.Sprintf(`{"code":%d,"message":"m","more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, tc.code, tc.code, tc.status)
			if tc.code == 0 {
				body = `{"message":"not found","status":404}`
			}
			h.mock.RegisterNoResponder(bodyResponder(tc.status, body))
			err := tc.call(h.client)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status || apiErr.Code != tc.code {
				t.Fatalf("err = %v, want *APIError %d/%d", err, tc.status, tc.code)
			}
			for _, s := range sentinels {
				want := false
				for _, w := range tc.want {
					want = want || w == s
				}
				if errors.Is(err, s) != want {
					t.Errorf("errors.Is(%v, %q) = %v, want %v", err, s, !want, want)
				}
			}
			wantRequests := 1
			if tc.status == 429 && !tc.final {
				wantRequests = 3
			}
			if n := len(h.requests()); n != wantRequests {
				t.Errorf("sent %d requests, want %d", n, wantRequests)
			}
			if tc.status == 429 && apiErr.Temporary() == tc.final {
				t.Errorf("Temporary() = %v for code %d", apiErr.Temporary(), tc.code)
			}
		})
	}
}

// TestChannelDecodesInLowerCase: the API writes some attempt channels in
// upper case; they decode as the constants are.
func TestChannelDecodesInLowerCase(t *testing.T) {
	t.Parallel()
	var v Verification
	if err := json.Unmarshal([]byte(`{"channel":"sms","send_code_attempts":[{"channel":"SMS"},{"channel":"EMAIL"},{"channel":"rcs"},{"channel":null}]}`), &v); err != nil {
		t.Fatal(err)
	}
	got := []Channel{v.Channel}
	for _, a := range v.SendCodeAttempts {
		got = append(got, a.Channel)
	}
	if fmt.Sprint(got) != "[sms sms email rcs ]" || Channel("rcs").Known() || !ChannelAuto.Known() {
		t.Errorf("channels decoded as %q", got)
	}
	if err := json.Unmarshal([]byte(`{"channel":7}`), &v); err == nil {
		t.Error("a channel that is a number decoded without error")
	}
	one := goldenVerification(testPhone, ChannelSMS, VerificationPending)
	if s := one.String(); s != "verification "+testVerification+" sms pending (1 send)" || strings.Contains(s, testPhone) {
		t.Errorf("String() = %q; want the summary without the number", s)
	}
}
