package verifytest_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestTOTPUpdateRefusesCodesOfTheWrongLength: a TOTP code outside 3–8
// characters is a bad request (60306), not a wrong attempt, so it neither
// moves the challenge nor spends the attempts left before 60308.
func TestTOTPUpdateRefusesCodesOfTheWrongLength(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID})
	if err != nil {
		t.Fatal(err)
	}
	update := func(code string) (*verify.Challenge, error) {
		return c.Challenges.Update(ctx, srv.ServiceSID(), identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(code)})
	}
	for i := 0; i < 6; i++ { // six: enough to reach 60308 if they counted
		for _, code := range []string{"12", "123456789"} {
			_, err := update(code)
			var apiErr *verify.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != 60306 || !errors.Is(err, verify.ErrInvalidRequest) {
				t.Fatalf("%d-character code: %v, want HTTP 400 code 60306", len(code), err)
			}
		}
	}
	got, err := c.Challenges.Fetch(ctx, srv.ServiceSID(), identity, ch.SID)
	if err != nil || !got.Status.IsPending() || !got.DateUpdated.Equal(ch.DateUpdated) {
		t.Fatalf("after refused codes: %+v %v, want pending and not updated", got, err)
	}
	wrong := wrongCode(f.Code())
	for i := 1; i <= 5; i++ {
		if got, err := update(wrong); err != nil || !got.Status.IsPending() {
			t.Fatalf("wrong try %d after refused codes: %v %v, want pending (refused codes must not count)", i, got, err)
		}
	}
	if got, err := update(f.Code()); err != nil || !got.Status.IsApproved() {
		t.Fatalf("right code after 5 wrong ones: %v %v, want approved", got, err)
	}
}

// TestTOTPSkewZeroMeansZero: Skew verify.Ptr(0) accepts only the current
// step's code; nil is the default of one step either side.
func TestTOTPSkewZeroMeansZero(t *testing.T) {
	t.Parallel()
	midStep := time.Unix(1_700_000_025, 0) // 15 s into a 30 s step
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return midStep })})
	for _, tc := range []struct {
		skew     *int
		previous verify.ChallengeStatus
	}{
		{verify.Ptr(0), verify.StatusPending},
		{nil, verify.StatusApproved},
		{verify.Ptr(1), verify.StatusApproved},
	} {
		f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, &verifytest.TOTPOptions{CodeLength: 8, Skew: tc.skew})
		if err != nil {
			t.Fatal(err)
		}
		for code, want := range map[string]verify.ChallengeStatus{
			f.CodeAt(midStep.Add(-30 * time.Second)): tc.previous,
			f.Code():                                 verify.StatusApproved,
		} {
			ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(code)})
			if err != nil || ch.Status != want {
				t.Errorf("skew %v: %v %v, want %s", fmtSkew(tc.skew), ch, err, want)
			}
		}
	}
}

func fmtSkew(p *int) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(*p)
}

// TestSecretsTheCodesCannotUseAreRefused: a secret the TOTP library could
// not read never becomes a factor whose codes all fail (or panic).
func TestSecretsTheCodesCannotUseAreRefused(t *testing.T) {
	srv, c := newFake(t, nil)
	for _, secret := range []string{"ABCDEFGH=", "MFRGGZDF=="} {
		_, err := c.Factors.CreateTOTP(ctx, srv.ServiceSID(), identity, &verify.CreateTOTPFactorParams{FriendlyName: "x", Secret: verify.NewSecret(secret)})
		var ve *verify.ValidationError
		if !errors.As(err, &ve) || ve.Field != "Binding.Secret" {
			t.Errorf("secret %q: err = %v, want a *ValidationError for Binding.Secret", secret, err)
		}
	}
	f, err := c.Factors.CreateTOTP(ctx, srv.ServiceSID(), identity, &verify.CreateTOTPFactorParams{FriendlyName: "x", Secret: verify.NewSecret("MFRGG===")})
	if err != nil {
		t.Fatal(err)
	}
	h, err := srv.TOTPFactor(srv.ServiceSID(), identity, f.SID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Factors.Verify(ctx, srv.ServiceSID(), identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(h.Code())}); err != nil || got.Status != verify.FactorStatusVerified {
		t.Fatalf("padded secret: %v %v", got, err)
	}
}
