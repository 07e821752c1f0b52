package verifytest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
)

// TestFailedFactorVerificationChangesNothing: an Update whose AuthPayload
// fails (a wrong code, a code of the wrong length, too many tries, a bad
// push signature) leaves the factor's name, config and date_updated as
// they were; only a wrong code counts as an attempt. An Update whose
// AuthPayload verifies applies everything, the code checked with the
// config the Update sets.
func TestFailedFactorVerificationChangesNothing(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	unchanged := func(what, sid string, before *verify.Factor) {
		t.Helper()
		after, err := c.Factors.Fetch(ctx, svc, identity, sid)
		if err != nil {
			t.Fatal(err)
		}
		if after.FriendlyName != before.FriendlyName || after.Config != before.Config ||
			!after.DateUpdated.Equal(before.DateUpdated) || after.Status != verify.FactorStatusUnverified {
			t.Errorf("%s changed the factor:\n before %+v\n after  %+v", what, before, after)
		}
	}

	f, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	before := &f.Factor
	handle, _ := srv.TOTPFactor(svc, identity, f.SID)
	change := func(code string) *verify.UpdateFactorParams {
		return &verify.UpdateFactorParams{AuthPayload: verify.NewSecret(code), FriendlyName: "renamed", CodeLength: 8, Skew: verify.Ptr(0), TimeStep: 60 * time.Second}
	}
	srv.Advance(time.Minute) // a change would move date_updated

	got, err := c.Factors.Update(ctx, svc, identity, f.SID, change(wrongCode(handle.Code())))
	if err != nil || got.FriendlyName != "phone" || got.Config != before.Config {
		t.Errorf("wrong code with changes: %+v %v, want 200 with the factor as it was", got, err)
	}
	unchanged("a wrong code", f.SID, before)

	_, err = c.Factors.Update(ctx, svc, identity, f.SID, change("12"))
	wantAPIError(t, "a 2-character code with changes", err, http.StatusBadRequest, 60306)
	unchanged("a 2-character code", f.SID, before)

	for i := 2; i <= 5; i++ { // the first wrong code above counted
		if _, err := c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(wrongCode(handle.Code()))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.Factors.Update(ctx, svc, identity, f.SID, change(wrongCode(handle.Code())))
	wantAPIError(t, "the sixth wrong code, with changes", err, http.StatusTooManyRequests, 60310)
	_, err = c.Factors.Update(ctx, svc, identity, f.SID, change(handle.Code()))
	wantAPIError(t, "a right code after the limit, with changes", err, http.StatusTooManyRequests, 60310)
	unchanged("a refused try after the limit", f.SID, before)

	// Push: a bad signature is 60311 and changes nothing either.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	p, err := c.Factors.CreatePush(ctx, svc, identity, &verify.CreatePushFactorParams{
		FriendlyName: "Ada's phone", PublicKey: base64.StdEncoding.EncodeToString(der), AppID: "com.example.app",
		NotificationPlatform: verify.NotificationPlatformNone, SDKVersion: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(time.Minute)
	digest := sha256.Sum256([]byte("YF00000000000000000000000000000000"))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	_, err = c.Factors.Update(ctx, svc, identity, p.SID, &verify.UpdateFactorParams{
		AuthPayload: verify.NewSecret(base64.StdEncoding.EncodeToString(sig)), FriendlyName: "renamed",
		NotificationPlatform: verify.NotificationPlatformFCM, NotificationToken: strings.Repeat("t", 64), SDKVersion: "9.9"})
	wantAPIError(t, "a bad push signature with changes", err, http.StatusForbidden, 60311)
	unchanged("a bad push signature", p.SID, &p.Factor)

	// Success applies the changes; the code is the new config's.
	g, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: "tablet"})
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(g.Binding.Secret.Reveal(), srv.Now(),
		totp.ValidateOpts{Period: 60, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.Factors.Update(ctx, svc, identity, g.SID, change(code))
	want := verify.FactorConfig{Alg: verify.TOTPAlgorithmSHA1, Skew: 0, CodeLength: 8, TimeStep: 60 * time.Second}
	if err != nil || got.Status != verify.FactorStatusVerified || got.FriendlyName != "renamed" || got.Config != want {
		t.Errorf("right code with changes: %+v %v, want verified, renamed, config %+v", got, err, want)
	}
}
