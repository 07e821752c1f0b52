package verifytest_test

import (
	"errors"
	"testing"

	verify "github.com/verifykit/verify-go"
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
		return c.Challenges.Update(ctx, srv.ServiceSID(), identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: code})
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
