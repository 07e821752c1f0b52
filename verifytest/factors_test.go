package verifytest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestTOTPEnrollmentThroughTheAPI walks the enrollment a login backend
// does: CreateTOTP gives a secret and an otpauth:// URI an authenticator
// app can read; the factor is unverified (challenges are 60318) until
// Verify with a right code; a wrong code answers 200 and leaves it
// unverified; the binding is only in the create response.
func TestTOTPEnrollmentThroughTheAPI(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	f, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: "Ada’s phone"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.SID, "YF") || f.Status != verify.FactorStatusUnverified || f.FactorType != verify.FactorTypeTOTP ||
		f.FriendlyName != "Ada’s phone" || f.Identity != identity || !strings.HasPrefix(f.EntitySID, "YE") ||
		f.URL != srv.URL+"/v2/Services/"+svc+"/Entities/"+identity+"/Factors/"+f.SID {
		t.Fatalf("created factor %+v", f.Factor)
	}
	if want := (verify.FactorConfig{Alg: verify.TOTPAlgorithmSHA1, Skew: 1, CodeLength: 6, TimeStep: 30 * time.Second}); f.Config != want {
		t.Errorf("default config %+v, want %+v", f.Config, want)
	}
	if len(f.Binding.Secret.Reveal()) != 32 || strings.Trim(f.Binding.Secret.Reveal(), "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("secret %q is not 32 base32 characters", f.Binding.Secret.Reveal())
	}
	const wantURI = "otpauth://totp/verifytest:Ada%E2%80%99s%20phone?secret="
	if !strings.HasPrefix(f.Binding.URI.Reveal(), wantURI+f.Binding.Secret.Reveal()+"&issuer=verifytest&algorithm=SHA1&digits=6&period=30") {
		t.Errorf("binding URI %s", f.Binding.URI.Reveal())
	}

	// The app scans the URI; its codes are the fake's.
	key, err := otp.NewKeyFromURL(f.Binding.URI.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if key.Issuer() != "verifytest" || key.AccountName() != "Ada’s phone" || key.Secret() != f.Binding.Secret.Reveal() {
		t.Errorf("URI reads as issuer %q account %q secret %q", key.Issuer(), key.AccountName(), key.Secret())
	}
	handle, err := srv.TOTPFactor(svc, identity, f.SID)
	if err != nil {
		t.Fatal(err)
	}
	appCode, err := totp.GenerateCodeCustom(key.Secret(), srv.Now(), totp.ValidateOpts{
		Period: uint(key.Period()), Digits: key.Digits(), Algorithm: key.Algorithm()})
	if err != nil || appCode != handle.Code() {
		t.Fatalf("app code %s (%v), fake's code %s", appCode, err, handle.Code())
	}

	_, err = c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(appCode)})
	if !errors.Is(err, verify.ErrFactorNotVerified) {
		t.Fatalf("challenge on an unverified factor: %v, want ErrFactorNotVerified", err)
	}
	wantAPIError(t, "challenge on an unverified factor", err, http.StatusForbidden, 60318)

	got, err := c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(wrongCode(appCode))})
	if err != nil || got.Status != verify.FactorStatusUnverified {
		t.Fatalf("wrong code: %+v %v, want 200 with status unverified", got, err)
	}
	got, err = c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(appCode)})
	if err != nil || got.Status != verify.FactorStatusVerified {
		t.Fatalf("right code: %+v %v, want verified", got, err)
	}
	ch, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(handle.Code())})
	if err != nil || !ch.Status.IsApproved() {
		t.Fatalf("challenge on the verified factor: %+v %v", ch, err)
	}

	// Fetch and List never show the binding.
	for _, path := range []string{"/Factors/" + f.SID, "/Factors"} {
		status, body := raw(t, srv, "GET", servicePath(svc)+"/Entities/"+identity+path, nil, srv.AccountSID(), srv.AuthToken())
		item := body
		if list, ok := body["factors"].([]any); ok && len(list) == 1 {
			item, _ = list[0].(map[string]any)
		}
		if _, has := item["binding"]; status != http.StatusOK || has || item["status"] != "verified" || item["metadata"] != nil {
			t.Errorf("GET %s: %d %v, want the factor without binding", path, status, item)
		}
	}
}

// TestFactorVerifyAttemptLimit: five wrong codes answer 200 unverified; the
// sixth is 60310 (429), and so is every try after it, right or wrong.
func TestFactorVerifyAttemptLimit(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	f, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	handle, _ := srv.TOTPFactor(svc, identity, f.SID)
	wrong := wrongCode(handle.Code())
	for i := 1; i <= 5; i++ {
		got, err := c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(wrong)})
		if err != nil || got.Status != verify.FactorStatusUnverified {
			t.Fatalf("wrong try %d: %v %v, want unverified", i, got, err)
		}
	}
	_, err = c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(wrong)})
	wantAPIError(t, "sixth wrong code", err, http.StatusTooManyRequests, 60310)
	_, err = c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(handle.Code())})
	wantAPIError(t, "right code after the limit", err, http.StatusTooManyRequests, 60310)

	// A code of the wrong length is a bad request and does not count.
	g, _ := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: "other"})
	for i := 0; i < 7; i++ {
		_, err = c.Factors.Verify(ctx, svc, identity, g.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret("12")})
		wantAPIError(t, "2-character code", err, http.StatusBadRequest, 60306)
	}
	gh, _ := srv.TOTPFactor(svc, identity, g.SID)
	if got, err := c.Factors.Verify(ctx, svc, identity, g.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(gh.Code())}); err != nil || got.Status != verify.FactorStatusVerified {
		t.Fatalf("right code after refused ones: %v %v", got, err)
	}
}

// TestTOTPConfigAndSecretAreKept: Binding.Secret and every Config value are
// used as sent; Update changes the config and the helpers' handle follows.
func TestTOTPConfigAndSecretAreKept(t *testing.T) {
	t.Parallel()
	fixed := time.Unix(1_700_000_015, 0) // mid-step, so that skew 0 cannot bite
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return fixed })})
	svc := srv.ServiceSID()
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	f, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{
		FriendlyName: "token", Secret: verify.NewSecret(secret), TimeStep: 60 * time.Second, Skew: verify.Ptr(0), CodeLength: 8,
		Alg: verify.TOTPAlgorithmSHA512, Metadata: verify.StringMap{"os": "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (verify.FactorConfig{Alg: verify.TOTPAlgorithmSHA512, Skew: 0, CodeLength: 8, TimeStep: 60 * time.Second}); f.Config != want ||
		f.Binding.Secret.Reveal() != secret || f.Metadata["os"] != "test" {
		t.Fatalf("factor %+v secret %q, want config %+v and the given secret", f.Factor, f.Binding.Secret.Reveal(), want)
	}
	if !strings.HasSuffix(f.Binding.URI.Reveal(), "&algorithm=SHA512&digits=8&period=60") {
		t.Errorf("URI %s does not carry the config", f.Binding.URI.Reveal())
	}
	handle, _ := srv.TOTPFactor(svc, identity, f.SID)
	now := srv.Now()
	want, _ := totp.GenerateCodeCustom(secret, now, totp.ValidateOpts{Period: 60, Digits: 8, Algorithm: otp.AlgorithmSHA512})
	if got := handle.CodeAt(now); got != want {
		t.Fatalf("handle code %s, want %s from the given secret", got, want)
	}

	up, err := c.Factors.Update(ctx, svc, identity, f.SID, &verify.UpdateFactorParams{CodeLength: 6, TimeStep: 30 * time.Second, FriendlyName: "renamed"})
	if err != nil || up.Config.CodeLength != 6 || up.Config.TimeStep != 30*time.Second || up.Config.Alg != verify.TOTPAlgorithmSHA512 || up.FriendlyName != "renamed" {
		t.Fatalf("update: %+v %v", up, err)
	}
	if code := handle.Code(); len(code) != 6 {
		t.Fatalf("handle code %q after CodeLength 6", code)
	}
	if got, err := c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(handle.Code())}); err != nil || got.Status != verify.FactorStatusVerified {
		t.Fatalf("verify with the new config: %v %v", got, err)
	}
	_, err = c.Factors.Update(ctx, svc, identity, f.SID, &verify.UpdateFactorParams{NotificationToken: strings.Repeat("t", 40)})
	wantAPIError(t, "push field on a TOTP factor", err, http.StatusBadRequest, 60306)
}

// TestHelperFactorsAreAPIFactors: srv.NewTOTPFactor factors read like API
// ones, and TOTPFactor refuses what is not a TOTP factor.
func TestHelperFactorsAreAPIFactors(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	f, err := srv.NewTOTPFactor(svc, identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Factors.Fetch(ctx, svc, identity, f.SID)
	if err != nil || got.Status != verify.FactorStatusVerified || got.Config.CodeLength != 6 || got.FactorType != verify.FactorTypeTOTP {
		t.Fatalf("fetch helper factor: %+v %v", got, err)
	}
	dev, err := srv.NewPushDevice(svc, identity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.TOTPFactor(svc, identity, dev.FactorSID); err == nil {
		t.Error("TOTPFactor accepted a push factor")
	}
	if _, err := srv.TOTPFactor(svc, "nobody-0000", f.SID); err == nil {
		t.Error("TOTPFactor accepted another identity")
	}
}

// TestPushFactorWithAccountCredentials: a server holding the key can enroll
// a push factor itself; it verifies with the base64 ES256 signature of the
// factor SID, and a bad signature is 60311 (403).
func TestPushFactorWithAccountCredentials(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	params := &verify.CreatePushFactorParams{
		FriendlyName: "Ada's phone", PublicKey: base64.StdEncoding.EncodeToString(der), AppID: "com.example.app",
		NotificationPlatform: verify.NotificationPlatformNone, SDKVersion: "1.2.3", Metadata: verify.StringMap{"os": "Android"},
	}
	f, err := c.Factors.CreatePush(ctx, svc, identity, params)
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != verify.FactorStatusUnverified || f.Binding.Alg != "ES256" || f.Binding.PublicKey != params.PublicKey ||
		f.Binding.Secret.Reveal() != "" || f.Config.AppID != "com.example.app" || f.Config.NotificationPlatform != verify.NotificationPlatformNone ||
		f.Config.SDKVersion != "1.2.3" || f.Metadata["os"] != "Android" {
		t.Fatalf("created push factor %+v binding %v", f.Factor, f.Binding)
	}
	sign := func(k *ecdsa.PrivateKey, msg string) string {
		d := sha256.Sum256([]byte(msg))
		sig, _ := ecdsa.SignASN1(rand.Reader, k, d[:])
		return base64.StdEncoding.EncodeToString(sig)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, payload := range map[string]string{
		"another key": sign(other, f.SID), "another SID": sign(key, "YF00000000000000000000000000000000"), "not base64": "%%%",
	} {
		_, err := c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(payload)})
		wantAPIError(t, name, err, http.StatusForbidden, 60311)
	}
	got, err := c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(sign(key, f.SID))})
	if err != nil || got.Status != verify.FactorStatusVerified {
		t.Fatalf("signed SID: %+v %v, want verified", got, err)
	}
	up, err := c.Factors.Update(ctx, svc, identity, f.SID, &verify.UpdateFactorParams{
		NotificationPlatform: verify.NotificationPlatformAPN, NotificationToken: strings.Repeat("a", 64), SDKVersion: "2.0"})
	if err != nil || up.Config.NotificationPlatform != verify.NotificationPlatformAPN || up.Config.NotificationToken != strings.Repeat("a", 64) || up.Config.SDKVersion != "2.0" {
		t.Fatalf("update push config: %+v %v", up, err)
	}
	_, err = c.Factors.Update(ctx, svc, identity, f.SID, &verify.UpdateFactorParams{CodeLength: 6})
	wantAPIError(t, "TOTP field on a push factor", err, http.StatusBadRequest, 60306)
}

// TestFactorListAndDelete: factors list in creation order across pages;
// Delete answers 204 and takes the factor's challenges with it, not the
// other factors' ones.
func TestFactorListAndDelete(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	var sids []string
	for _, name := range []string{"one", "two", "three"} {
		f, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: name})
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, f.SID)
	}
	kept, _ := srv.NewTOTPFactor(svc, identity, nil)
	gone, _ := srv.NewTOTPFactor(svc, identity, nil)
	sids = append(sids, kept.SID, gone.SID)
	var got []string
	for f, err := range c.Factors.List(ctx, svc, identity, &verify.ListParams{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.SID)
	}
	if strings.Join(got, ",") != strings.Join(sids, ",") {
		t.Fatalf("listed %v, want %v", got, sids)
	}
	for _, f := range []string{kept.SID, gone.SID, gone.SID} {
		if _, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: f}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Factors.Delete(ctx, svc, identity, gone.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Factors.Fetch(ctx, svc, identity, gone.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("fetch deleted factor: %v, want ErrNotFound", err)
	}
	var left []string
	for ch, err := range c.Challenges.List(ctx, svc, identity, nil) {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, ch.FactorSID)
	}
	if len(left) != 1 || left[0] != kept.SID {
		t.Errorf("challenges left %v, want one on %s", left, kept.SID)
	}
	if err := c.Factors.Delete(ctx, svc, identity, gone.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

// TestFactorCreateFormIsChecked: what the SDK never sends is still refused
// by the server with 60306.
func TestFactorCreateFormIsChecked(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	path := servicePath(srv.ServiceSID()) + "/Entities/" + identity + "/Factors"
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	push := url.Values{"FactorType": {"push"}, "FriendlyName": {"p"}, "Binding.PublicKey": {base64.StdEncoding.EncodeToString(der)},
		"Config.AppId": {"a"}, "Config.SdkVersion": {"1"}, "Config.NotificationPlatform": {"none"}}
	withAlg := func(alg string) url.Values {
		f := url.Values{}
		for k, v := range push {
			f[k] = v
		}
		if alg != "" {
			f.Set("Binding.Alg", alg)
		}
		return f
	}
	for name, form := range map[string]url.Values{
		"no FactorType":       {"FriendlyName": {"x"}},
		"passkeys":            {"FactorType": {"passkeys"}, "FriendlyName": {"x"}},
		"TOTP without name":   {"FactorType": {"totp"}},
		"TOTP secret not b32": {"FactorType": {"totp"}, "FriendlyName": {"x"}, "Binding.Secret": {"not-base32!"}},
		"TOTP skew 3":         {"FactorType": {"totp"}, "FriendlyName": {"x"}, "Config.Skew": {"3"}},
		"TOTP step text":      {"FactorType": {"totp"}, "FriendlyName": {"x"}, "Config.TimeStep": {"thirty"}},
		"push without alg":    withAlg(""),
		"push with RS256":     withAlg("RS256"),
		"push with bad key":   {"FactorType": {"push"}, "FriendlyName": {"p"}, "Binding.Alg": {"ES256"}, "Binding.PublicKey": {"dGVzdF9rZXk="}, "Config.AppId": {"a"}, "Config.SdkVersion": {"1"}, "Config.NotificationPlatform": {"none"}},
	} {
		status, body := raw(t, srv, "POST", path, form, srv.AccountSID(), srv.AuthToken())
		if status != http.StatusBadRequest || code(body) != 60306 {
			t.Errorf("%s: %d %v, want 400 60306", name, status, body)
		}
	}
	if status, body := raw(t, srv, "POST", path, withAlg("ES256"), srv.AccountSID(), srv.AuthToken()); status != http.StatusCreated {
		t.Errorf("the valid push form: %d %v", status, body)
	}
}

// TestUnverifiedPushFactorRefusesChallenges: a push factor created but not
// verified cannot be challenged (60318), like a TOTP one.
func TestUnverifiedPushFactorRefusesChallenges(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	f, err := c.Factors.CreatePush(ctx, srv.ServiceSID(), identity, &verify.CreatePushFactorParams{
		FriendlyName: "p", PublicKey: base64.StdEncoding.EncodeToString(der), AppID: "a",
		NotificationPlatform: verify.NotificationPlatformFCM, NotificationToken: strings.Repeat("n", 32), SDKVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{
		FactorSID: f.SID, Details: &verify.Details{Message: "Log in?"}, ExpirationDate: time.Now().Add(time.Minute)})
	wantAPIError(t, "push challenge on an unverified factor", err, http.StatusForbidden, 60318)
}
