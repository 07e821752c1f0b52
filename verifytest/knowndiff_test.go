package verifytest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	verify "github.com/verifykit/verify-go"
)

// TestOnlyAccountCredentials: the fake takes the account SID and auth
// token, not an API key (SK… and its secret), which the real API takes.
func TestOnlyAccountCredentials(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	c := srv.Client(verify.WithAPIKey(srv.AccountSID(), "SK0123456789abcdef0123456789abcdef", srv.AuthToken()))
	defer c.CloseIdleConnections()
	_, err := c.Entities.Create(ctx, srv.ServiceSID(), identity, nil)
	if !errors.Is(err, verify.ErrUnauthorized) {
		t.Fatalf("an API key: %v, want ErrUnauthorized", err)
	}
	wantAPIError(t, "an API key", err, http.StatusUnauthorized, 20003)
}

// TestSameTOTPCodeTwice: the fake approves one code as often as it is sent
// within its window (two challenges here); whether the real API refuses a
// code already used is not documented.
func TestSameTOTPCodeTwice(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	code := f.Code()
	for i := 1; i <= 2; i++ {
		ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(code)})
		if err != nil || !ch.Status.IsApproved() {
			t.Fatalf("code %s, use %d: %v %v, want approved", code, i, ch, err)
		}
	}
}

// TestMessagesIgnoreTemplatesAndLookup: the fake sends its own English
// text whatever the Locale or template, and looks nothing up even on a
// service with LookupEnabled; the real API would translate, apply the
// template and return the carrier.
func TestMessagesIgnoreTemplatesAndLookup(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc, err := c.Services.Create(ctx, &verify.CreateServiceParams{FriendlyName: "Example", LookupEnabled: verify.Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Verifications.Create(ctx, svc.SID, &verify.CreateVerificationParams{To: "+15017122661", Channel: verify.ChannelSMS,
		Locale: "es", TemplateSID: "HJ" + strings.Repeat("0", 32)})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Outbox()[0]
	if m.Body != "Your Example verification code is: "+m.Code || v.Lookup != (verify.Lookup{}) {
		t.Errorf("body %q, lookup %+v; want the fake's English text and no lookup", m.Body, v.Lookup)
	}
}
