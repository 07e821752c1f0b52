package verifytest_test

import (
	"errors"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestPasskeysThroughTheSDK runs a passkey's life through client.Passkeys
// against the fake, with the software authenticator as the browser: what
// BrowserJSON hands the browser is what the authenticator reads, and what
// it returns as toJSON() is what VerifyFactor and ApproveChallenge send.
func TestPasskeysThroughTheSDK(t *testing.T) {
	p := newPasskeyFake(t)
	sid := p.srv.ServiceSID()
	const identity = "user-passkey-sdk"

	f, err := p.client.Passkeys.CreateFactor(ctx, sid, &verify.CreatePasskeyFactorParams{Identity: identity, FriendlyName: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != verify.FactorStatusUnverified || f.FactorType != verify.FactorTypePasskeys {
		t.Fatalf("new factor: status %q type %q, want unverified passkeys", f.Status, f.FactorType)
	}
	if rp := f.Options.RP; rp.ID != "example.com" {
		t.Fatalf("creation options name rp %q, want the service's example.com", rp.ID)
	}
	browser := verifytest.NewAuthenticator(passkeyOrigin, nil)
	creation, err := f.Options.BrowserJSON()
	if err != nil {
		t.Fatal(err)
	}
	registration, err := browser.Register(creation)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.ValidatePasskeyRegistration(registration); err != nil {
		t.Fatalf("the SDK refuses what the authenticator gives as toJSON(): %v", err)
	}
	verified, err := p.client.Passkeys.VerifyFactor(ctx, sid, registration)
	if err != nil {
		t.Fatal(err)
	}
	if verified.SID != f.SID || verified.Status != verify.FactorStatusVerified {
		t.Fatalf("VerifyFactor: %s %q, want %s verified", verified.SID, verified.Status, f.SID)
	}

	// Sign in by identity, then usernameless: both name who signed in.
	for _, params := range []*verify.CreatePasskeyChallengeParams{{Identity: identity}, nil} {
		ch, err := p.client.Passkeys.CreateChallenge(ctx, sid, params)
		if err != nil {
			t.Fatal(err)
		}
		if who, ok := ch.SignedIn(); ok {
			t.Fatalf("a pending challenge says %q signed in", who)
		}
		request, err := ch.Options.BrowserJSON()
		if err != nil {
			t.Fatal(err)
		}
		assertion, err := browser.Assert(request)
		if err != nil {
			t.Fatal(err)
		}
		approved, err := p.client.Passkeys.ApproveChallenge(ctx, sid, assertion)
		if err != nil {
			t.Fatalf("ApproveChallenge (params %+v): %v", params, err)
		}
		who, ok := approved.SignedIn()
		if !ok || who != identity || approved.SID != ch.SID || approved.FactorSID != f.SID {
			t.Fatalf("approved challenge %s: SignedIn %q %v, factor %s; want %s, %q, %s", approved.SID, who, ok, approved.FactorSID, ch.SID, identity, f.SID)
		}
		fetched, err := p.client.Challenges.Fetch(ctx, sid, identity, ch.SID)
		if err != nil || fetched.Status != verify.StatusApproved {
			t.Fatalf("Challenges.Fetch after approval: %v, %v", fetched, err)
		}
	}

	// A replayed assertion (its sign count not above the last) is refused
	// with an error the SDK matches.
	ch, err := p.client.Passkeys.CreateChallenge(ctx, sid, &verify.CreatePasskeyChallengeParams{Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	request, err := ch.Options.BrowserJSON()
	if err != nil {
		t.Fatal(err)
	}
	browser.MisbehaveNext(verifytest.Misbehaviour{ReplaySignCount: true})
	assertion, err := browser.Assert(request)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.client.Passkeys.ApproveChallenge(ctx, sid, assertion)
	var apiErr *verify.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, verify.ErrVerificationFailed) && apiErr.Code != 60324 {
		t.Fatalf("replayed sign count: %v, want the API's refusal", err)
	}
}
