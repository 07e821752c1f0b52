package verifytest_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

func TestAuthenticatorRegistrationJSON(t *testing.T) {
	p := newPasskeyFake(t)
	options, _ := p.createFactor(identity, nil)
	var answer map[string]any
	_ = json.Unmarshal(options, &answer)
	bare, _ := json.Marshal(publicKey(t, answer))
	wrapped, _ := json.Marshal(answer["options"])
	for name, opts := range map[string][]byte{"whole answer": options, "options": wrapped, "publicKey": bare} {
		reg, err := verifytest.NewAuthenticator(passkeyOrigin, nil).Register(opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var cred struct {
			ID, RawID, Type, AuthenticatorAttachment string
			ClientExtensionResults                   map[string]any
			Response                                 struct {
				ClientDataJSON, AttestationObject, PublicKey, AuthenticatorData string
				Transports                                                      []string
				PublicKeyAlgorithm                                              int
			}
		}
		if err := json.Unmarshal(reg, &cred); err != nil {
			t.Fatal(err)
		}
		r := cred.Response
		if cred.ID == "" || cred.ID != cred.RawID || cred.Type != "public-key" || cred.AuthenticatorAttachment != "platform" ||
			cred.ClientExtensionResults == nil || r.PublicKeyAlgorithm != -7 || !slices.Equal(r.Transports, []string{"internal"}) ||
			r.PublicKey == "" || r.AuthenticatorData == "" || r.AttestationObject == "" {
			t.Fatalf("%s: registration JSON %s", name, reg)
		}
		cd, _ := base64.RawURLEncoding.DecodeString(r.ClientDataJSON)
		want := `{"type":"webauthn.create","challenge":"` + publicKey(t, answer)["challenge"].(string) + `","origin":"https://example.com","crossOrigin":false}`
		if string(cd) != want {
			t.Fatalf("%s: clientDataJSON %s, want %s", name, cd, want)
		}
	}
}

func TestAuthenticatorRefusesWhatABrowserRefuses(t *testing.T) {
	p := newPasskeyFake(t)
	options, _ := p.createFactor(identity, nil)
	for _, tc := range []struct {
		name string
		a    *verifytest.Authenticator
	}{
		{"relying party ID not the origin's domain", verifytest.NewAuthenticator("https://example.org", nil)},
		{"a security key where the options ask for platform", verifytest.NewAuthenticator(passkeyOrigin,
			&verifytest.AuthenticatorOptions{Attachment: verify.AuthenticatorCrossPlatform})},
	} {
		if _, err := tc.a.Register(options); err == nil {
			t.Errorf("%s: registered", tc.name)
		}
		if n := tc.a.Credentials(); n != 0 {
			t.Errorf("%s: %d credentials kept", tc.name, n)
		}
	}
	a := verifytest.NewAuthenticator("https://login.example.com", nil) // a subdomain may use its parent's ID
	if _, err := a.Register(options); err != nil || a.Credentials() != 1 {
		t.Fatalf("subdomain: %v, %d credentials", err, a.Credentials())
	}
	if _, err := verifytest.NewAuthenticator(passkeyOrigin, nil).Assert([]byte(`{"publicKey":{"challenge":"AA","rpId":"example.com"}}`)); err == nil {
		t.Fatal("an authenticator without credentials answered")
	}
}

func TestPasskeyWebhookEvents(t *testing.T) {
	p := newPasskeyFake(t)
	rc := newReceiver(t, p.srv, "/hooks")
	if _, err := p.srv.WebhookURL(rc.hookURL); err != nil {
		t.Fatal(err)
	}
	a := verifytest.NewAuthenticator(passkeyOrigin, nil)
	sid := p.enroll(a, identity)
	raw, _ := p.challenge(map[string]any{})
	assertion, err := a.Assert(raw)
	if err != nil {
		t.Fatal(err)
	}
	status, approved, _ := p.post("ApproveChallenge", assertion)
	p.want("approve", status, approved, 200, 0)
	settle(t, p.srv)
	requests, _ := rc.got()
	want := []verify.EventType{verify.EventFactorCreated, verify.EventFactorVerified, verify.EventChallengeApproved}
	if got := types(requests); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for _, r := range requests {
		if r.form.Get("factor_sid") != sid || r.form.Get("factor_type") != "passkeys" || r.form.Get("entity_identity") != identity {
			t.Errorf("event %s: %v", r.form.Get("type"), r.form)
		}
	}
	if requests[2].form.Get("challenge_sid") != approved["sid"] || requests[2].form.Get("challenge_status") != "approved" {
		t.Errorf("challenge.approved: %v", requests[2].form)
	}
}

// TestAuthenticatorOriginIsTheBrowsers: given a page's URL, the
// authenticator signs the origin a browser would put in clientDataJSON,
// so a registration from it verifies against the service's origin.
func TestAuthenticatorOriginIsTheBrowsers(t *testing.T) {
	p := newPasskeyFake(t)
	for _, page := range []string{passkeyOrigin + "/", passkeyOrigin + "/login?next=%2F#top", "HTTPS://EXAMPLE.COM:443/account"} {
		options, _ := p.createFactor(identity, nil)
		reg, err := verifytest.NewAuthenticator(page, nil).Register(options)
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		var cred struct {
			Response struct{ ClientDataJSON string }
		}
		if err := json.Unmarshal(reg, &cred); err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(cred.Response.ClientDataJSON)
		var cd struct{ Origin string }
		if err := json.Unmarshal(raw, &cd); err != nil || cd.Origin != passkeyOrigin {
			t.Errorf("page %s: clientDataJSON %s, want origin %s", page, raw, passkeyOrigin)
		}
		if _, err := p.client.Passkeys.VerifyFactor(ctx, p.srv.ServiceSID(), reg); err != nil {
			t.Errorf("page %s: VerifyFactor: %v", page, err)
		}
	}
}
