package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verify-go/internal/contract"
)

const (
	pathPasskeyFactors   = "/v2/Services/" + testService + "/Passkeys/Factors"
	pathPasskeyVerify    = "/v2/Services/" + testService + "/Passkeys/VerifyFactor"
	pathPasskeyChallenge = "/v2/Services/" + testService + "/Passkeys/Challenges"
	pathPasskeyApprove   = "/v2/Services/" + testService + "/Passkeys/ApproveChallenge"
	goldenPasskeyFactor  = "YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	goldenPasskeyCred    = "4mW29WRgGh_o3EJ4XNGKhovYAT61iZVg55JIdnpoPms"
	// secretSignature is the signature of testdata/passkey_assertion.json:
	// part of a credential, it must never reach an error or a log.
	secretSignature = "U0VDUkVULVBBU1NLRVktU0lHTkFUVVJFLTAxMjM0NTY3ODktYWJjZGVmZ2hpamtsbW5vcC1ub3QtYS1yZWFsLWRlci1zaWduYXR1cmU"
)

// passkeyAssertion is testdata/passkey_assertion.json, a browser's
// credential.toJSON() after navigator.credentials.get().
var passkeyAssertion = func() []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "passkey_assertion.json"))
	if err != nil {
		panic(err)
	}
	return b
}()

// wantJSONBody asserts that body decodes to the same JSON value as want.
func wantJSONBody(t *testing.T, body []byte, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s is not JSON: %v", body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("want %s is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("body:\n got  %s\n want %s", body, want)
	}
}

// TestPasskeyOperations: each call sends one JSON POST to its path, with
// exactly the body the spec describes, and decodes the spec's example answer.
func TestPasskeyOperations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	registration := []byte(golden(t, "passkey_registration.json"))
	assertion := []byte(golden(t, "passkey_assertion.json"))
	for _, tc := range []struct {
		name   string
		path   string
		status int
		golden string
		body   string // the JSON value the request must carry
		raw    []byte // or exactly these bytes
		call   func(c *Client) (any, error)
		check  func(t *testing.T, got any)
	}{
		{name: "CreateFactor with config: the spec's example request", path: pathPasskeyFactors, status: 201, golden: "passkey_factor_create.json",
			body: `{"friendly_name":"FriendlyName","identity":"ff483d1ff591898a9942916050d2ca3f","config":{
				"relying_party":{"id":"example.com","name":"Example","origins":["https://example.com"]},
				"authenticator_attachment":"platform","discoverable_credentials":"preferred","user_verification":"preferred"}}`,
			call: func(c *Client) (any, error) {
				return c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "FriendlyName",
					Config: &PasskeySettings{
						RelyingParty:            PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{"https://example.com"}},
						AuthenticatorAttachment: AuthenticatorPlatform, DiscoverableCredentials: PasskeyPreferred, UserVerification: PasskeyPreferred,
					}})
			},
			check: func(t *testing.T, got any) {
				f := got.(*PasskeyFactor)
				want := goldenFactorWith(FactorTypePasskeys, FactorStatusUnverified, goldenPasskeyConfig, nil)
				want.SID = goldenPasskeyFactor
				if !reflect.DeepEqual(f.Factor, want) {
					t.Errorf("factor:\n got  %+v\n want %+v", f.Factor, want)
				}
				if f.Options.Challenge != "WUYwNDhkMWE3ZWMzYTJhNjk3MDA1OWMyNzY2YmJjN2UwZg" {
					t.Errorf("Options.Challenge = %q", f.Options.Challenge)
				}
			}},
		{name: "CreateFactor with the criteria and no relying party", path: pathPasskeyFactors, status: 201, golden: "passkey_factor_create.json",
			body: `{"friendly_name":"laptop","identity":"ff483d1ff591898a9942916050d2ca3f","config":{"authenticator_attachment":"any",
				"discoverable_credentials":"required","user_verification":"discouraged"}}`,
			call: func(c *Client) (any, error) {
				return c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
					Config: &PasskeySettings{AuthenticatorAttachment: AuthenticatorAny, DiscoverableCredentials: PasskeyRequired, UserVerification: PasskeyDiscouraged}})
			}},
		{name: "CreateFactor without config: the service's settings", path: pathPasskeyFactors, status: 201, golden: "passkey_factor_create.json",
			body: `{"friendly_name":"laptop","identity":"ff483d1ff591898a9942916050d2ca3f"}`,
			call: func(c *Client) (any, error) {
				return c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop", Config: &PasskeySettings{}})
			}},
		{name: "VerifyFactor sends the registration as it is", path: pathPasskeyVerify, status: 200, golden: "passkey_factor_verify.json",
			raw:  registration,
			call: func(c *Client) (any, error) { return c.Passkeys.VerifyFactor(ctx, testService, registration) },
			check: func(t *testing.T, got any) {
				f := got.(*PasskeyFactor)
				if f.Status != FactorStatusVerified || f.FactorType != FactorTypePasskeys || f.SID != goldenPasskeyFactor ||
					f.Identity != testIdentity || !reflect.DeepEqual(f.Config, goldenPasskeyConfig) {
					t.Errorf("factor = %+v, want a verified passkeys factor with the golden config", f.Factor)
				}
				if f.Options.Raw() != nil {
					t.Errorf("Options.Raw() = %s, want nil: VerifyFactor's answer has no options", f.Options.Raw())
				}
			}},
		{name: "CreateChallenge usernameless (nil params)", path: pathPasskeyChallenge, status: 201, golden: "passkey_challenge_create.json",
			body: `{}`,
			call: func(c *Client) (any, error) { return c.Passkeys.CreateChallenge(ctx, testService, nil) },
			check: func(t *testing.T, got any) {
				ch := got.(*PasskeyChallenge)
				if ch.SID != "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || ch.Status != StatusPending || ch.FactorType != FactorTypePasskeys ||
					ch.Identity != "" || ch.FactorSID != "" || !ch.ExpirationDate.IsZero() {
					t.Errorf("challenge = %+v, want a pending passkeys challenge for nobody yet", ch.Challenge)
				}
				if ch.Options.Challenge != "WUYwNDhkMWE3ZWMzYTJhNjk3MDA1OWMyNzY2YmJjN2UwZg" || ch.Options.Timeout != 10*time.Minute {
					t.Errorf("options = %+v", ch.Options)
				}
				if _, ok := ch.SignedIn(); ok {
					t.Error("a pending challenge says someone signed in")
				}
			}},
		{name: "CreateChallenge for an identity", path: pathPasskeyChallenge, status: 201, golden: "passkey_challenge_create_identity.json",
			body: `{"identity":"ff483d1ff591898a9942916050d2ca3f"}`,
			call: func(c *Client) (any, error) {
				return c.Passkeys.CreateChallenge(ctx, testService, &CreatePasskeyChallengeParams{Identity: testIdentity})
			}},
		{name: "CreateChallenge for one factor", path: pathPasskeyChallenge, status: 201, golden: "passkey_challenge_request_options.json",
			body: `{"identity":"ff483d1ff591898a9942916050d2ca3f","factor_sid":"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`,
			call: func(c *Client) (any, error) {
				return c.Passkeys.CreateChallenge(ctx, testService, &CreatePasskeyChallengeParams{Identity: testIdentity, FactorSID: goldenPasskeyFactor})
			},
			check: func(t *testing.T, got any) {
				o := got.(*PasskeyChallenge).Options
				want := []PasskeyCredentialDescriptor{{Type: "public-key", ID: goldenPasskeyCred, Transports: []string{"internal", "hybrid"}}}
				if o.RPID != "example.com" || o.Timeout != 5*time.Minute || o.UserVerification != PasskeyPreferred ||
					!reflect.DeepEqual(o.AllowCredentials, want) {
					t.Errorf("options = %+v", o)
				}
			}},
		{name: "ApproveChallenge sends the assertion as it is", path: pathPasskeyApprove, status: 200, golden: "passkey_challenge_approve.json",
			raw:  assertion,
			call: func(c *Client) (any, error) { return c.Passkeys.ApproveChallenge(ctx, testService, assertion) },
			check: func(t *testing.T, got any) {
				ch := got.(*PasskeyChallenge)
				id, ok := ch.SignedIn()
				if !ok || id != testIdentity || ch.FactorSID != goldenPasskeyFactor || ch.Status != StatusApproved {
					t.Errorf("SignedIn() = %q, %v; factor %s, status %s; want %s, true, the golden factor, approved", id, ok, ch.FactorSID, ch.Status, testIdentity)
				}
			}},
		{name: "ApproveChallenge answered without an identity", path: pathPasskeyApprove, status: 200, golden: "passkey_challenge_approve_unnamed.json",
			raw:  assertion,
			call: func(c *Client) (any, error) { return c.Passkeys.ApproveChallenge(ctx, testService, assertion) },
			check: func(t *testing.T, got any) {
				ch := got.(*PasskeyChallenge)
				if id, ok := ch.SignedIn(); ok || id != "" || ch.Status != StatusApproved {
					t.Errorf("SignedIn() = %q, %v with status %s; want nobody: the answer names no identity", id, ok, ch.Status)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mock.RegisterResponder("POST", apiBase+tc.path, jsonResponder(t, tc.status, tc.golden))
			got, err := tc.call(h.client)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			s := h.only()
			wantMethodPath(t, s, "POST", tc.path)
			for header, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json"} {
				if v := s.Header.Values(header); len(v) != 1 || v[0] != want {
					t.Errorf("%s = %q, want %q", header, v, want)
				}
			}
			if !strings.HasPrefix(s.Header.Get("Authorization"), "Basic ") || !strings.HasPrefix(s.Header.Get("User-Agent"), "verify-go/") {
				t.Errorf("headers = %v, want Basic auth and the SDK's User-Agent", s.Header)
			}
			if tc.raw != nil {
				if !bytes.Equal(s.Body, tc.raw) {
					t.Errorf("body:\n got  %s\n want the credential byte for byte: %s", s.Body, tc.raw)
				}
			} else {
				wantJSONBody(t, s.Body, tc.body)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// TestPasskeyGoldensMatchTheSpec: every answer the passkey tests decode is
// one the spec allows for its operation.
func TestPasskeyGoldensMatchTheSpec(t *testing.T) {
	t.Parallel()
	spec, err := contract.Load(filepath.Join("testdata", "verify_v2_passkeys.json"))
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{"Content-Type": {"application/json"}}
	for _, g := range []struct {
		path, file string
		status     int
	}{
		{pathPasskeyFactors, "passkey_factor_create.json", 201},
		{pathPasskeyVerify, "passkey_factor_verify.json", 200},
		{pathPasskeyChallenge, "passkey_challenge_create.json", 201},
		{pathPasskeyChallenge, "passkey_challenge_create_identity.json", 201},
		{pathPasskeyChallenge, "passkey_challenge_request_options.json", 201},
		{pathPasskeyApprove, "passkey_challenge_approve.json", 200},
		{pathPasskeyApprove, "passkey_challenge_approve_unnamed.json", 200},
	} {
		req, _ := http.NewRequest("POST", apiBase+g.path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if err := spec.CheckResponse(req, g.status, header, []byte(golden(t, g.file))); err != nil {
			t.Errorf("%s: %v", g.file, err)
		}
	}
}

// TestPasskeyOptionsForTheBrowser: the options keep Verify's JSON whole,
// read the fields a server uses, and BrowserJSON gives what
// parseCreationOptionsFromJSON and parseRequestOptionsFromJSON take.
func TestPasskeyOptionsForTheBrowser(t *testing.T) {
	t.Parallel()
	var f PasskeyFactor
	if err := json.Unmarshal([]byte(golden(t, "passkey_factor_create.json")), &f); err != nil {
		t.Fatal(err)
	}
	var whole struct {
		Options json.RawMessage `json:"options"`
	}
	_ = json.Unmarshal([]byte(golden(t, "passkey_factor_create.json")), &whole)
	if !bytes.Equal(f.Options.Raw(), whole.Options) {
		t.Errorf("Raw() = %s, want the options as sent: %s", f.Options.Raw(), whole.Options)
	}
	if b, _ := json.Marshal(f.Options); !jsonEqual(b, whole.Options) {
		t.Errorf("MarshalJSON = %s, want the options as sent", b)
	}
	want := PasskeyCreationOptions{
		Challenge:              "WUYwNDhkMWE3ZWMzYTJhNjk3MDA1OWMyNzY2YmJjN2UwZg",
		RP:                     PasskeyRelyingParty{ID: "example.com", Name: "Example"},
		User:                   PasskeyUser{ID: "WUU0ZmQzYWFmNGU0NTMyNGQwZjNlMTM0NjA3YjIxOTEyYg", Name: "friendly_name", DisplayName: "friendly_name"},
		PubKeyCredParams:       []PasskeyCredentialParameter{{Type: "public-key", Alg: -7}},
		Timeout:                10 * time.Minute,
		ExcludeCredentials:     []PasskeyCredentialDescriptor{},
		AuthenticatorSelection: PasskeyAuthenticatorSelection{AuthenticatorAttachment: AuthenticatorPlatform, ResidentKey: PasskeyPreferred, UserVerification: PasskeyPreferred},
		Attestation:            "none",
		raw:                    f.Options.raw,
	}
	if !reflect.DeepEqual(f.Options, want) {
		t.Errorf("options:\n got  %+v\n want %+v", f.Options, want)
	}
	browser, err := f.Options.BrowserJSON()
	if err != nil {
		t.Fatal(err)
	}
	wantJSONBody(t, browser, `{"rp":{"id":"example.com","name":"Example"},
		"user":{"id":"WUU0ZmQzYWFmNGU0NTMyNGQwZjNlMTM0NjA3YjIxOTEyYg","name":"friendly_name","displayName":"friendly_name"},
		"challenge":"WUYwNDhkMWE3ZWMzYTJhNjk3MDA1OWMyNzY2YmJjN2UwZg","pubKeyCredParams":[{"type":"public-key","alg":-7}],
		"timeout":600000,"excludeCredentials":[],"authenticatorSelection":{"authenticatorAttachment":"platform",
		"requireResidentKey":false,"residentKey":"preferred","userVerification":"preferred"},"attestation":"none"}`)

	var ch PasskeyChallenge
	if err := json.Unmarshal([]byte(golden(t, "passkey_challenge_request_options.json")), &ch); err != nil {
		t.Fatal(err)
	}
	browser, err = ch.Options.BrowserJSON()
	if err != nil {
		t.Fatal(err)
	}
	wantJSONBody(t, browser, `{"challenge":"WUYwNDhkMWE3ZWMzYTJhNjk3MDA1OWMyNzY2YmJjN2UwZg","timeout":300000,"rpId":"example.com",
		"allowCredentials":[{"type":"public-key","id":"`+goldenPasskeyCred+`","transports":["internal","hybrid"]}],"userVerification":"preferred"}`)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// TestPasskeyOptionsOfOtherShapes: options already in WebAuthn's shape pass
// through; odd or missing ones never fail the call, and BrowserJSON says
// what is missing.
func TestPasskeyOptionsOfOtherShapes(t *testing.T) {
	t.Parallel()
	decode := func(options string) PasskeyCreationOptions {
		t.Helper()
		var f PasskeyFactor
		if err := json.Unmarshal([]byte(`{"sid":"`+goldenPasskeyFactor+`","options":`+options+`}`), &f); err != nil {
			t.Fatalf("options %s fail the decode: %v", options, err)
		}
		if f.SID != goldenPasskeyFactor {
			t.Fatalf("options %s lost the factor", options)
		}
		return f.Options
	}
	unwrapped := `{"rp":{"id":"example.com","name":"Example"},"user":{"id":"dQ","name":"a","displayName":"a"},"challenge":"Y2g",
		"pubKeyCredParams":[{"type":"public-key","alg":-7},{"type":"public-key","alg":-257}],"timeout":1500.5}`
	o := decode(unwrapped)
	if len(o.PubKeyCredParams) != 2 || o.PubKeyCredParams[1].Alg != -257 || o.Timeout != 1500500*time.Microsecond || o.Challenge != "Y2g" {
		t.Errorf("unwrapped options read as %+v", o)
	}
	if b, err := o.BrowserJSON(); err != nil || !jsonEqual(b, []byte(unwrapped)) {
		t.Errorf("BrowserJSON of options already in WebAuthn's shape = %s, %v; want them unchanged", b, err)
	}
	for options, missing := range map[string]string{
		`null`:             "sent no",
		`"text"`:           "not a JSON object",
		`[1,2]`:            "not a JSON object",
		`{"publicKey":{}}`: "no challenge",
		`{"publicKey":{"challenge":1,"rp":{},"user":{},"pubKeyCredParams":[]}}`:                        "not a string",
		`{"challenge":"Y2g","rp":{},"user":{}}`:                                                        "no pubKeyCredParams",
		`{"challenge":"Y2g","rp":{},"user":null,"pubKeyCredParams":[]}`:                                "no user",
		`{"publicKey":{"challenge":{"x":1},"timeout":-5,"rp":"no","user":[],"pubKeyCredParams":"no"}}`: "not a string",
	} {
		o := decode(options)
		if o.Timeout != 0 || o.RP.ID != "" {
			t.Errorf("%s read as %+v", options, o)
		}
		_, err := o.BrowserJSON()
		if !errors.Is(err, ErrInvalidResponse) || !strings.Contains(err.Error(), missing) {
			t.Errorf("BrowserJSON of %s: err = %v, want ErrInvalidResponse saying %q", options, err, missing)
		}
	}
	// pubKeyCredParams of a shape of its own zeroes only itself, wherever it
	// sits among the members.
	for _, params := range []string{`"ES256"`, `[{"type":"public-key","alg":"-7"}]`, `{"alg":[]}`, `7`} {
		o := decode(`{"publicKey":{"pubKeyCredParams":` + params + `,"timeout":60000,"attestation":"none","rp":{"id":"example.com"},"challenge":"Y2g"}}`)
		if len(o.PubKeyCredParams) != 0 || o.Timeout != time.Minute || o.Attestation != "none" || o.RP.ID != "example.com" || o.Challenge != "Y2g" {
			t.Errorf("pubKeyCredParams %s: the options read as %+v; want only the parameters empty", params, o)
		}
	}
	var r PasskeyRequestOptions
	if _, err := r.BrowserJSON(); !errors.Is(err, ErrInvalidResponse) {
		t.Errorf("BrowserJSON of no request options: err = %v", err)
	}
}

// TestPasskeyParamsValidation: bad params are refused before anything is
// sent, naming the field as the JSON body does.
func TestPasskeyParamsValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name, field string
		call        func(c *Client) error
	}{
		{"no factor params", "identity", func(c *Client) error { return errOf(c.Passkeys.CreateFactor(ctx, testService, nil)) }},
		{"bad identity", "identity", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: "a b", FriendlyName: "laptop"}))
		}},
		{"no name", "friendly_name", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity}))
		}},
		{"long name", "friendly_name", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: strings.Repeat("é", 65)}))
		}},
		{"origin with a space", "config.relying_party.origins[1]", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
				Config: &PasskeySettings{RelyingParty: PasskeyRelyingParty{Origins: []string{"https://a.example,https://b.example", "https://c .example"}}}}))
		}},
		{"unknown attachment", "config.authenticator_attachment", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
				Config: &PasskeySettings{AuthenticatorAttachment: "usb"}}))
		}},
		{"unknown discoverable", "config.discoverable_credentials", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
				Config: &PasskeySettings{DiscoverableCredentials: "always"}}))
		}},
		{"unknown user verification", "config.user_verification", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
				Config: &PasskeySettings{UserVerification: "sometimes"}}))
		}},
		{"config without criteria", "config.authenticator_attachment", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
				Config: &PasskeySettings{RelyingParty: PasskeyRelyingParty{ID: "example.com"}}}))
		}},
		{"config without discoverable", "config.discoverable_credentials", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
				Config: &PasskeySettings{AuthenticatorAttachment: AuthenticatorPlatform, UserVerification: PasskeyRequired}}))
		}},
		{"config without user verification", "config.user_verification", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop",
				Config: &PasskeySettings{AuthenticatorAttachment: AuthenticatorPlatform, DiscoverableCredentials: PasskeyRequired}}))
		}},
		{"challenge identity", "identity", func(c *Client) error {
			return errOf(c.Passkeys.CreateChallenge(ctx, testService, &CreatePasskeyChallengeParams{Identity: "short"}))
		}},
		{"challenge factor", "factor_sid", func(c *Client) error {
			return errOf(c.Passkeys.CreateChallenge(ctx, testService, &CreatePasskeyChallengeParams{FactorSID: "YC" + strings.Repeat("a", 32)}))
		}},
		{"service of a factor", "ServiceSid", func(c *Client) error {
			return errOf(c.Passkeys.CreateFactor(ctx, "VA123", &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop"}))
		}},
		{"service of a registration", "ServiceSid", func(c *Client) error {
			return errOf(c.Passkeys.VerifyFactor(ctx, "", []byte(golden(t, "passkey_registration.json"))))
		}},
		{"service of a challenge", "ServiceSid", func(c *Client) error { return errOf(c.Passkeys.CreateChallenge(ctx, "VA/../x", nil)) }},
		{"service of an assertion", "ServiceSid", func(c *Client) error {
			return errOf(c.Passkeys.ApproveChallenge(ctx, "YF"+strings.Repeat("a", 32), []byte(golden(t, "passkey_assertion.json"))))
		}},
		{"no registration", "credential", func(c *Client) error { return errOf(c.Passkeys.VerifyFactor(ctx, testService, nil)) }},
		{"an assertion for a registration", "response.attestationObject", func(c *Client) error {
			return errOf(c.Passkeys.VerifyFactor(ctx, testService, []byte(golden(t, "passkey_assertion.json"))))
		}},
		{"a registration for an assertion", "response.authenticatorData", func(c *Client) error {
			return errOf(c.Passkeys.ApproveChallenge(ctx, testService, []byte(golden(t, "passkey_registration.json"))))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			err := tc.call(h.client)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want a *ValidationError for %s", err, tc.field)
			}
			if n := len(h.requests()); n != 0 {
				t.Errorf("sent %d requests for invalid input", n)
			}
		})
	}
}

// TestPasskeyErrorCodes: Verify's passkey errors match the sentinels a
// caller branches on.
func TestPasskeyErrorCodes(t *testing.T) {
	t.Parallel()
	assertion := []byte(golden(t, "passkey_assertion.json"))
	for _, tc := range []struct {
		status, code int
		want         error
	}{
		{401, 60381, ErrVerificationFailed},
		{400, 60382, ErrInvalidRequest},
		{400, 60393, ErrInvalidRequest},
		{400, 60420, ErrInvalidRequest},
		{400, 60434, ErrInvalidRequest},
		{400, 60371, ErrInvalidRequest},
		{400, 60379, ErrInvalidRequest},
		{400, 60386, ErrInvalidRequest},
		{404, 60391, ErrNotFound},
		{403, 60324, ErrVerificationFailed},
		{404, 20404, ErrNotFound},
		{400, 60323, ErrChallengeExpired},
		{400, 60322, ErrChallengeAlreadyResponded},
	} {
		h := newHarness(t)
		h.mock.RegisterResponder("POST", apiBase+pathPasskeyApprove, twilioError(tc.status, tc.code, "refused"))
		_, err := h.client.Passkeys.ApproveChallenge(context.Background(), testService, assertion)
		var apiErr *APIError
		if !errors.Is(err, tc.want) || !errors.As(err, &apiErr) || apiErr.Code != tc.code {
			t.Errorf("code %d: err = %v, want it to match %v", tc.code, err, tc.want)
		}
		if errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("code %d: a 4xx answer is not an unknown outcome", tc.code)
		}
		assertNoSecrets(t, "error", err.Error())
		if n := len(h.requests()); n != 1 {
			t.Errorf("code %d: sent %d requests, want 1", tc.code, n)
		}
	}
}

// TestRetriedJSONPostSendsTheSameBody: over a real socket, a JSON POST
// answered 429 is sent again byte for byte, with its length and media type.
func TestRetriedJSONPostSendsTheSameBody(t *testing.T) {
	t.Parallel()
	type received struct {
		body          string
		contentLength int64
		contentType   string
	}
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{string(b), r.ContentLength, r.Header.Get("Content-Type")})
		first := len(got) == 1
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if first {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"code":20429,"message":"Too many requests","status":429}`)
			return
		}
		_, _ = io.WriteString(w, golden(t, "passkey_challenge_approve.json"))
	}))
	defer srv.Close()
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL), WithRetryWait(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	var info ResponseInfo
	ch, err := c.Passkeys.ApproveChallenge(CaptureResponse(context.Background(), &info), testService, passkeyAssertion)
	if err != nil {
		t.Fatalf("err = %v, want success on the retry", err)
	}
	if id, ok := ch.SignedIn(); !ok || id != testIdentity || info.Attempts != 2 || info.StatusCode != 200 {
		t.Errorf("SignedIn() = %q, %v after %d attempts (last %d); want %s after 2", id, ok, info.Attempts, info.StatusCode, testIdentity)
	}
	if len(got) != 2 {
		t.Fatalf("server read %d approvals, want 2", len(got))
	}
	for i, r := range got {
		if r.body != string(passkeyAssertion) || r.contentLength != int64(len(passkeyAssertion)) || r.contentType != "application/json" {
			t.Errorf("attempt %d sent %q (Content-Length %d, %s); want the assertion (%d, JSON)", i+1, r.body, r.contentLength, r.contentType, len(passkeyAssertion))
		}
	}
}

// TestPasskeyDebugLogNeverHoldsTheCredential: the debug log of a JSON POST
// that is retried and then fails names method, path and status, never the
// body.
func TestPasskeyDebugLogNeverHoldsTheCredential(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	h := newHarness(t, WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))), WithMaxRetries(2))
	h.mock.RegisterResponder("POST", apiBase+pathPasskeyApprove, sequence(refused, twilioError(401, 60381, "Signature invalid")))
	_, err := h.client.Passkeys.ApproveChallenge(context.Background(), testService, passkeyAssertion)
	if !errors.Is(err, ErrVerificationFailed) {
		t.Fatalf("err = %v, want ErrVerificationFailed", err)
	}
	if n := h.mock.GetCallCountInfo()["POST "+apiBase+pathPasskeyApprove]; n != 2 {
		t.Errorf("sent %d approvals, want 2: refused, then the answer", n)
	}
	out := log.String()
	if !strings.Contains(out, "verify retry") || !strings.Contains(out, pathPasskeyApprove) || !strings.Contains(out, "status=401") {
		t.Errorf("debug log lacks the retry, the path or the status:\n%s", out)
	}
	assertNoSecrets(t, "debug log", out)
	assertNoCredential(t, out+err.Error(), passkeyAssertion)
}
