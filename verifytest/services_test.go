package verifytest_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestServiceLifecycle: Create keeps every setting sent and the API's
// defaults for the rest; Fetch reads the same; Update changes only what it
// sends (false and 0 included); Delete answers 204, then the service is
// 404 to Fetch, Update and Delete.
func TestServiceLifecycle(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return start })})
	fcm := "CR" + strings.Repeat("ab", 16)
	svc, err := c.Services.Create(ctx, &verify.CreateServiceParams{
		FriendlyName: "Example Corp", CodeLength: 8, CustomCodeEnabled: verify.Ptr(true), DoNotShareWarningEnabled: verify.Ptr(true),
		Push: &verify.PushSettings{FCMCredentialSID: fcm},
		TOTP: &verify.TOTPSettings{Issuer: "Example", TimeStep: 45 * time.Second, CodeLength: 8, Skew: verify.Ptr(0)},
		Passkeys: &verify.PasskeySettings{RelyingParty: verify.PasskeyRelyingParty{ID: "example.com", Name: "Example",
			Origins: []string{"https://example.com", "https://login.example.com"}}, UserVerification: verify.PasskeyPreferred},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(svc.SID, "VA") || svc.AccountSID != srv.AccountSID() || svc.FriendlyName != "Example Corp" ||
		svc.CodeLength != 8 || !svc.CustomCodeEnabled || !svc.DoNotShareWarningEnabled || svc.LookupEnabled ||
		svc.Push.FCMCredentialSID != fcm || svc.Push.APNCredentialSID != "" ||
		svc.TOTP.Issuer != "Example" || svc.TOTP.TimeStep != 45*time.Second || svc.TOTP.CodeLength != 8 || svc.TOTP.Skew == nil || *svc.TOTP.Skew != 0 ||
		svc.Passkeys.RelyingParty.ID != "example.com" || len(svc.Passkeys.RelyingParty.Origins) != 2 ||
		svc.Passkeys.UserVerification != verify.PasskeyPreferred || svc.Passkeys.AuthenticatorAttachment != "" ||
		svc.URL != srv.URL+"/v2/Services/"+svc.SID || svc.Links.Verifications != svc.URL+"/Verifications" ||
		!svc.DateCreated.Equal(start.Truncate(time.Second)) {
		t.Fatalf("created %+v", svc)
	}
	got, err := c.Services.Fetch(ctx, svc.SID)
	if err != nil || got.FriendlyName != svc.FriendlyName || got.TOTP.TimeStep != svc.TOTP.TimeStep ||
		!slices.Equal(got.Passkeys.RelyingParty.Origins, svc.Passkeys.RelyingParty.Origins) {
		t.Fatalf("fetch: %+v %v", got, err)
	}

	srv.Advance(time.Minute)
	up, err := c.Services.Update(ctx, svc.SID, &verify.UpdateServiceParams{CustomCodeEnabled: verify.Ptr(false),
		TOTP: &verify.TOTPSettings{Skew: verify.Ptr(2)}, Passkeys: &verify.PasskeySettings{AuthenticatorAttachment: verify.AuthenticatorPlatform}})
	if err != nil {
		t.Fatal(err)
	}
	if up.CustomCodeEnabled || !up.DoNotShareWarningEnabled || up.FriendlyName != "Example Corp" || up.CodeLength != 8 ||
		*up.TOTP.Skew != 2 || up.TOTP.Issuer != "Example" || up.TOTP.CodeLength != 8 ||
		up.Passkeys.AuthenticatorAttachment != verify.AuthenticatorPlatform || up.Passkeys.RelyingParty.Name != "Example" ||
		up.Push.FCMCredentialSID != fcm || up.DateUpdated.Sub(up.DateCreated) != time.Minute {
		t.Fatalf("updated %+v", up)
	}

	if err := c.Services.Delete(ctx, svc.SID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Services.Fetch(ctx, svc.SID)
	wantAPIError(t, "fetch after delete", err, http.StatusNotFound, 20404)
	_, err = c.Services.Update(ctx, svc.SID, &verify.UpdateServiceParams{FriendlyName: "x"})
	wantAPIError(t, "update after delete", err, http.StatusNotFound, 20404)
	if err := c.Services.Delete(ctx, svc.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

// TestServiceDefaults: a service created with a name alone has the API's
// defaults: 6-digit codes, TOTP 30 s, 6 digits, skew 1, no issuer (the name
// serves), and null for settings never sent.
func TestServiceDefaults(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc, err := c.Services.Create(ctx, &verify.CreateServiceParams{FriendlyName: "Plain"})
	if err != nil {
		t.Fatal(err)
	}
	if svc.CodeLength != 6 || svc.TOTP.TimeStep != 30*time.Second || svc.TOTP.CodeLength != 6 || svc.TOTP.Skew == nil ||
		*svc.TOTP.Skew != 1 || svc.TOTP.Issuer != "" || svc.CustomCodeEnabled || svc.Push.IncludeDate == nil || *svc.Push.IncludeDate ||
		svc.DefaultTemplateSID != "" || svc.WhatsApp.From != "" {
		t.Errorf("defaults: %+v", svc)
	}
	status, body := raw(t, srv, http.MethodGet, servicePath(svc.SID), nil, srv.AccountSID(), srv.AuthToken())
	totp, _ := body["totp"].(map[string]any)
	if status != http.StatusOK || body["default_template_sid"] != nil || body["tts_name"] != nil || totp["issuer"] != nil {
		t.Errorf("unset settings on the wire: %d %v, want null", status, body)
	}
}

// TestServicesList: the helpers' services (NewServer's and NewService's)
// are listed with those made through the API, in creation order, across
// pages.
func TestServicesList(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	want := []string{srv.ServiceSID(), srv.NewService()}
	for _, name := range []string{"one", "two", "three"} {
		svc, err := c.Services.Create(ctx, &verify.CreateServiceParams{FriendlyName: name})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, svc.SID)
	}
	var got []string
	for svc, err := range c.Services.List(ctx, &verify.ListParams{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, svc.SID)
		if svc.SID == srv.ServiceSID() && svc.FriendlyName != "verifytest" {
			t.Errorf("the default service is named %q, want verifytest", svc.FriendlyName)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

// TestServiceDeleteTakesEverything: deleting a service deletes its
// entities, factors, challenges, access tokens, webhooks and
// verifications; another service keeps its own, and a helper asked for
// the deleted default service says so.
func TestServiceDeleteTakesEverything(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	doomed, kept := srv.ServiceSID(), srv.NewService()
	for _, svc := range []string{doomed, kept} {
		if _, err := srv.NewTOTPFactor(svc, identity, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Verifications.Create(ctx, svc, &verify.CreateVerificationParams{To: "+15017122661", Channel: verify.ChannelSMS}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := c.AccessTokens.Create(ctx, doomed, identity, &verify.CreateAccessTokenParams{})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := srv.WebhookURL("https://example.com/hooks")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Services.Delete(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Entities.Fetch(ctx, doomed, identity); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("entity of a deleted service: %v, want ErrNotFound", err)
	}
	if _, err := c.Webhooks.Fetch(ctx, doomed, hook); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("webhook of a deleted service: %v, want ErrNotFound", err)
	}
	if _, err := c.VerificationChecks.Create(ctx, doomed, &verify.CheckVerificationParams{To: "+15017122661", Code: verify.NewSecret(srv.LastCode("+15017122661"))}); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("check on a deleted service: %v, want ErrNotFound", err)
	}
	phone, err := srv.NewDevice(doomed, identity)
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.Enroll(ctx, tok.Token.Reveal()); !errors.Is(err, verify.ErrUnauthorized) && !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("enrolling with a token of a deleted service: %v, want a refusal", err)
	}
	if _, err := srv.WebhookURL("https://example.com/hooks"); err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Errorf("WebhookURL on the deleted default service: %v, want an error saying so", err)
	}
	if _, err := srv.NewTOTPFactor(doomed, identity, nil); err == nil {
		t.Error("NewTOTPFactor on a deleted service: no error")
	}
	if _, err := c.Entities.Fetch(ctx, kept, identity); err != nil {
		t.Errorf("the other service's entity: %v", err)
	}
	if _, err := c.VerificationChecks.Create(ctx, kept, &verify.CheckVerificationParams{To: "+15017122661", Code: verify.NewSecret("0000")}); err != nil {
		t.Errorf("the other service's verification: %v", err)
	}
}

// TestServiceTOTPSettingsShapeNewFactors: a service's TOTP settings are the
// defaults of the TOTP factors created on it afterwards, through the API
// or a helper; a factor's own Config wins; the issuer is the service's TOTP
// issuer, or its name; factors made before an Update keep their config.
func TestServiceTOTPSettingsShapeNewFactors(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc, err := c.Services.Create(ctx, &verify.CreateServiceParams{FriendlyName: "Example Corp",
		TOTP: &verify.TOTPSettings{TimeStep: 45 * time.Second, CodeLength: 8, Skew: verify.Ptr(0)}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Factors.CreateTOTP(ctx, svc.SID, identity, &verify.CreateTOTPFactorParams{FriendlyName: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.Config
	if cfg.TimeStep != 45*time.Second || cfg.CodeLength != 8 || cfg.Skew != 0 || cfg.Alg != verify.TOTPAlgorithmSHA1 {
		t.Errorf("config of a factor on the service: %+v, want 45 s, 8 digits, skew 0, sha1", cfg)
	}
	wantURI := "otpauth://totp/Example%20Corp:Ada?secret=" + f.Binding.Secret.Reveal() + "&issuer=Example%20Corp&algorithm=SHA1&digits=8&period=45"
	if uri := f.Binding.URI.Reveal(); uri != wantURI {
		t.Errorf("URI %s, want %s (the service's name as issuer)", uri, wantURI)
	}
	own, err := c.Factors.CreateTOTP(ctx, svc.SID, identity, &verify.CreateTOTPFactorParams{FriendlyName: "Own", CodeLength: 6})
	if err != nil || own.Config.CodeLength != 6 || own.Config.TimeStep != 45*time.Second {
		t.Errorf("a factor asking for 6 digits: %+v %v, want 6 digits and the service's 45 s", own.Config, err)
	}
	helper, err := srv.NewTOTPFactor(svc.SID, identity, nil)
	if err != nil || len(helper.Code()) != 8 {
		t.Errorf("NewTOTPFactor on the service: %v, code %q, want 8 digits", err, helper.Code())
	}

	if _, err := c.Services.Update(ctx, svc.SID, &verify.UpdateServiceParams{TOTP: &verify.TOTPSettings{Issuer: "Example", CodeLength: 7}}); err != nil {
		t.Fatal(err)
	}
	later, err := c.Factors.CreateTOTP(ctx, svc.SID, identity, &verify.CreateTOTPFactorParams{FriendlyName: "Later"})
	if err != nil || later.Config.CodeLength != 7 || !strings.Contains(later.Binding.URI.Reveal(), "otpauth://totp/Example:Later?") ||
		!strings.Contains(later.Binding.URI.Reveal(), "&issuer=Example&") {
		t.Errorf("a factor after the update: %+v %v, want 7 digits and issuer Example", later.Config, err)
	}
	before, err := c.Factors.Fetch(ctx, svc.SID, identity, f.SID)
	if err != nil || before.Config.CodeLength != 8 {
		t.Errorf("the first factor after the update: %+v %v, want its 8 digits kept", before, err)
	}
}

// TestServiceFormIsChecked: a service form the SDK would not send is 400
// with 60200, the code the API gives a bad parameter of a service; a good
// one is created.
func TestServiceFormIsChecked(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	for _, form := range []url.Values{
		{},
		{"FriendlyName": {strings.Repeat("n", 31)}},
		{"FriendlyName": {"n"}, "CodeLength": {"3"}},
		{"FriendlyName": {"n"}, "CodeLength": {"six"}},
		{"FriendlyName": {"n"}, "LookupEnabled": {"yes"}},
		{"FriendlyName": {"n"}, "Totp.Skew": {"3"}},
		{"FriendlyName": {"n"}, "Totp.TimeStep": {"0"}},
		{"FriendlyName": {"n"}, "Passkeys.AuthenticatorAttachment": {"usb"}},
		{"FriendlyName": {"n"}, "Push.ApnCredentialSid": {"CR123"}},
	} {
		status, body := raw(t, srv, http.MethodPost, "/v2/Services", form, srv.AccountSID(), srv.AuthToken())
		if status != http.StatusBadRequest || code(body) != 60200 {
			t.Errorf("create %v: %d %v, want 400 with 60200", form, status, body)
		}
	}
	status, body := raw(t, srv, http.MethodPost, servicePath(srv.ServiceSID()), url.Values{"Totp.CodeLength": {"9"}}, srv.AccountSID(), srv.AuthToken())
	if status != http.StatusBadRequest || code(body) != 60200 {
		t.Errorf("update with Totp.CodeLength 9: %d %v, want 400 with 60200", status, body)
	}
	status, body = raw(t, srv, http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"n"}, "Totp.Skew": {"0"},
		"Passkeys.RelyingParty.Origins": {"https://a.example,https://b.example"}}, srv.AccountSID(), srv.AuthToken())
	totp, _ := body["totp"].(map[string]any)
	passkeys, _ := body["passkeys"].(map[string]any)
	rp, _ := passkeys["relying_party"].(map[string]any)
	if origins, _ := rp["origins"].([]any); status != http.StatusCreated || totp["skew"] != float64(0) || len(origins) != 2 {
		t.Errorf("a good create: %d %v, want 201 with skew 0 and two origins", status, body)
	}
}
