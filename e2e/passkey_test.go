package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	verify "github.com/verifykit/verify-go"
)

// TestPasskeys: a passkey's life on the pages, in Chromium with its
// virtual authenticator as the visitor's device, against the login server
// and the fake's WebAuthn checks. Ada, signed in with her authenticator
// app, adds a passkey on the account page; signs out; signs in with the
// passkey alone, no username typed; signs out; signs in with her password
// and the passkey as the second factor. A passkey answer that does not
// check out shows its message and signs no one in.
func TestPasskeys(t *testing.T) {
	s := startServer(t, "ada", userOptions{totp: true, passkeys: true})
	p := newPage(t, s.base, 1024, 768)
	device := p.addVirtualAuthenticator()

	p.signIn(s.user)
	p.waitPath("/second-factor")
	if p.visible("#passkey-second") {
		t.Error(`"Use a passkey" shows for a user who has none`)
	}
	p.typeIn("totp-code", s.user.totp.Code())
	p.click("totp-verify")
	p.waitPath("/account")

	// Add a passkey: the page reloads the account, which lists it.
	p.stay()
	p.click("passkey-add")
	p.waitFor("the account page to list the passkey", `window.e2eStayed === undefined && document.body.dataset.ready === "1" &&
		[...document.querySelectorAll("#factor-list li")].some(li => li.textContent.includes("A passkey"))`)
	factor := s.verifiedPasskey()
	creds := p.credentials(device)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" || string(creds[0].UserHandle) == "" {
		t.Fatalf("the device holds %d credentials (%+v); want one discoverable passkey for localhost", len(creds), creds)
	}

	// Usernameless: the sign-in page, no name, the passkey.
	p.click("sign-out")
	p.waitPath("/")
	p.waitFor("the passkey button", `document.getElementById("passkey-signin").offsetParent !== null`)
	p.click("passkey-signin")
	p.waitPath("/account")
	p.waitText("user", "ada")
	if p.visible("#enroll-first") {
		t.Error("after a passkey sign-in the account page asks for a first factor")
	}

	// After the password: "Use a passkey" is the second factor.
	p.click("sign-out")
	p.waitPath("/")
	p.signIn(s.user)
	p.waitPath("/second-factor")
	p.waitFor(`"Use a passkey"`, `document.getElementById("passkey-second").offsetParent !== null`)
	p.click("passkey-second")
	p.waitPath("/account")
	p.waitText("user", "ada")
	if got := p.credentials(device)[0].SignCount; got < 2 {
		t.Errorf("the passkey signed %v times, want 2 (both sign-ins went through it)", got)
	}
	s.checkApproved(factor, 2)

	// A signature that does not check out: the message, and no sign-in.
	p.click("sign-out")
	p.waitPath("/")
	p.overrideResponses(device, true)
	p.waitFor("the passkey button", `document.getElementById("passkey-signin").offsetParent !== null`)
	p.click("passkey-signin")
	p.waitText("message", "did not check out")
	if path := p.location(); !strings.HasSuffix(path, "/") {
		t.Errorf("a refused passkey went on to %s", path)
	}
	p.checkScripts()
}

// verifiedPasskey is the factor SID of the user's one verified passkey in
// the fake.
func (s *server) verifiedPasskey() string {
	s.t.Helper()
	var sids []string
	for f, err := range s.look.Factors.List(context.Background(), s.fake.ServiceSID(), s.user.identity, nil) {
		if err != nil {
			s.t.Fatal(err)
		}
		if f.FactorType == verify.FactorTypePasskeys && f.Status == verify.FactorStatusVerified {
			sids = append(sids, f.SID)
		}
	}
	if len(sids) != 1 {
		s.t.Fatalf("the user has %d verified passkeys in Verify, want 1", len(sids))
	}
	return sids[0]
}

// checkApproved checks that the fake approved n challenges of factor: the
// passkey sign-ins went through Verify, not around it.
func (s *server) checkApproved(factor string, n int) {
	s.t.Helper()
	got := 0
	for ch, err := range s.look.Challenges.List(context.Background(), s.fake.ServiceSID(), s.user.identity,
		&verify.ListChallengesParams{FactorSID: factor, Status: verify.StatusApproved}) {
		if err != nil {
			s.t.Fatal(err)
		}
		if ch.FactorSID == factor {
			got++
		}
	}
	if got != n {
		s.t.Errorf("Verify approved %d challenges of the passkey, want %d", got, n)
	}
}

// addVirtualAuthenticator gives the browser a platform authenticator that
// holds discoverable credentials and verifies its user without a prompt,
// and returns its ID.
func (p *page) addVirtualAuthenticator() webauthn.AuthenticatorID {
	p.t.Helper()
	var id webauthn.AuthenticatorID
	p.do("adding a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		if err == nil {
			id = res.AuthenticatorID
		}
		return err
	}))
	return id
}

// credentials are the credentials the virtual authenticator holds.
func (p *page) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	p.t.Helper()
	var creds []*webauthn.Credential
	p.do("reading the authenticator's credentials", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		if err == nil {
			creds = res.Credentials
		}
		return err
	}))
	return creds
}

// overrideResponses makes the virtual authenticator's signatures bogus
// (all zero) from now on, or right again.
func (p *page) overrideResponses(id webauthn.AuthenticatorID, bogusSignature bool) {
	p.t.Helper()
	p.do("overriding the authenticator's answers", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{
			AuthenticatorID: id, IsBogusSignature: &bogusSignature,
		})
		return err
	}))
}
