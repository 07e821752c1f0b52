package verify

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSecretKeepsItsValueForReveal(t *testing.T) {
	t.Parallel()
	s := NewSecret("123456")
	if s.Reveal() != "123456" || s.IsZero() || s.String() != "[redacted]" {
		t.Errorf("NewSecret: Reveal %q IsZero %v String %q", s.Reveal(), s.IsZero(), s.String())
	}
	var zero Secret
	if zero.Reveal() != "" || !zero.IsZero() || zero.String() != "" || fmt.Sprint(zero) != "" || !NewSecret("").IsZero() {
		t.Errorf("zero Secret: Reveal %q IsZero %v String %q", zero.Reveal(), zero.IsZero(), zero.String())
	}

	// Decoding reads the value; encoding never writes it.
	var got struct{ S Secret }
	if err := json.Unmarshal([]byte(`{"S":"s3cr3t"}`), &got); err != nil || got.S.Reveal() != "s3cr3t" {
		t.Errorf("UnmarshalJSON: %q %v", got.S.Reveal(), err)
	}
	if err := json.Unmarshal([]byte(`{"S":null}`), &got); err != nil || !got.S.IsZero() {
		t.Errorf("UnmarshalJSON(null): %q %v", got.S.Reveal(), err)
	}
	if err := json.Unmarshal([]byte(`{"S":42}`), &got); err == nil {
		t.Error("UnmarshalJSON(42): want an error")
	}
	b, _ := json.Marshal(struct{ S, Empty Secret }{S: NewSecret("s3cr3t")})
	if string(b) != `{"S":"[redacted]","Empty":""}` {
		t.Errorf("MarshalJSON = %s", b)
	}
	var fromText Secret
	if err := fromText.UnmarshalText([]byte("t3xt")); err != nil || fromText.Reveal() != "t3xt" {
		t.Errorf("UnmarshalText: %q %v", fromText.Reveal(), err)
	}
	if text, _ := fromText.MarshalText(); string(text) != "[redacted]" {
		t.Errorf("MarshalText = %s", text)
	}

	// The form encoder sends the value itself, and nothing for an empty one.
	form, err := formValues(&struct {
		A Secret `url:"A,omitempty"`
		B Secret `url:"B,omitempty"`
	}{A: NewSecret("a b&c")})
	if err != nil || form.Encode() != "A=a+b%26c" {
		t.Errorf("form = %q, %v", form.Encode(), err)
	}
}

func TestSecretMapKeepsItsValuesForReveal(t *testing.T) {
	t.Parallel()
	plain := map[string]string{"ip": "10.0.0.1", "ua": "curl"}
	m := NewSecretMap(plain)
	plain["ip"] = "changed"
	if m.Reveal()["ip"] != "10.0.0.1" || m.Len() != 2 || m.IsZero() {
		t.Errorf("Reveal %v Len %d", m.Reveal(), m.Len())
	}
	if s := fmt.Sprint(m); s != "map[ip:[redacted] ua:[redacted]]" {
		t.Errorf("Sprint = %s", s)
	}
	var got struct{ M SecretMap }
	if err := json.Unmarshal([]byte(`{"M":{"k":"v"}}`), &got); err != nil || got.M.Reveal()["k"] != "v" {
		t.Errorf("UnmarshalJSON: %v %v", got.M.Reveal(), err)
	}
	if err := json.Unmarshal([]byte(`{"M":["v"]}`), &got); err == nil {
		t.Error("UnmarshalJSON of a list: want an error")
	}
	if b, _ := json.Marshal(m); string(b) != `{"ip":"[redacted]","ua":"[redacted]"}` {
		t.Errorf("MarshalJSON = %s", b)
	}
	if b, _ := json.Marshal(SecretMap{}); string(b) != "null" {
		t.Errorf("zero MarshalJSON = %s", b)
	}
	form, err := formValues(&struct {
		M SecretMap `url:"M,omitempty"`
		E SecretMap `url:"E,omitempty"`
	}{M: m})
	if err != nil || form.Get("M") != `{"ip":"10.0.0.1","ua":"curl"}` || form.Has("E") {
		t.Errorf("form = %v, %v", form, err)
	}
}

// userExported and userUnexported are a caller's own structs holding an
// SDK value, in an exported or an unexported field: fmt reaches into both.
type userExported struct {
	Name string
	V    any
}

type userUnexported struct {
	name string
	v    any
}

// TestSecretsNeverPrinted is the secret matrix: every type of the package
// that carries a secret, by value and by pointer, alone and inside a
// caller's struct (exported and unexported fields), slice and map, through
// every fmt verb, log/slog's text and JSON handlers and encoding/json: no
// secret in any output, while the output still says what the value is.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	h.mock.RegisterResponder("POST", apiBase+pathFactors, jsonResponder(t, 201, "factor_create_totp.json"))
	h.mock.RegisterResponder("POST", apiBase+pathTokens, jsonResponder(t, 201, "access_token.json"))
	h.mock.RegisterResponder("GET", oneURL, bodyResponder(200,
		strings.Replace(golden(t, "fetch.json"), `"hidden_details": {`, `"hidden_details": {"secret": "`+secretHidden+`", `, 1)))
	nf, err := h.client.Factors.CreateTOTP(ctx, testService, testIdentity, &CreateTOTPFactorParams{FriendlyName: "Ada's phone"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := h.client.AccessTokens.Create(ctx, testService, testIdentity, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := h.client.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
	if err != nil {
		t.Fatal(err)
	}
	h.mock.RegisterResponder("POST", apiBase+pathPasskeyApprove, bodyResponder(200,
		strings.Replace(golden(t, "passkey_challenge_approve.json"), `"hidden_details": null`, `"hidden_details": {"secret": "`+secretHidden+`"}`, 1)))
	pch, err := h.client.Passkeys.ApproveChallenge(ctx, testService, passkeyAssertion)
	if err != nil || pch.HiddenDetails.Reveal()["secret"] != secretHidden {
		t.Fatalf("passkey challenge: %v, hidden details %v", err, pch)
	}
	// The secrets are there to be used; only their printing is refused.
	if nf.Binding.Secret.Reveal() != goldenBindingSecret || !strings.Contains(nf.Binding.URI.Reveal(), goldenBindingSecret) ||
		tok.Token.Reveal() != goldenAccessToken || ch.HiddenDetails.Reveal()["secret"] != secretHidden {
		t.Fatalf("decoded binding, token or hidden details differ from the golden values")
	}

	values := []struct {
		name string
		v    any
		show string // a part that is no secret, which %v must still show
	}{
		{"Secret", NewSecret(secretTOTP), "[redacted]"},
		{"SecretMap", NewSecretMap(map[string]string{"ip": secretHidden}), "ip:[redacted]"},
		{"NewFactor", *nf, goldenFactor},
		{"Binding", nf.Binding, "[redacted]"},
		{"AccessToken", *tok, testAccessToken},
		{"Challenge", *ch, "push approved"},
		{"PasskeyChallenge", *pch, "passkeys approved"},
		{"CreateChallengeParams", CreateChallengeParams{FactorSID: testFactor, AuthPayload: NewSecret(secretTOTP),
			HiddenDetails: NewSecretMap(map[string]string{"ip": secretHidden}), Details: &Details{Message: "Log in?"}}, testFactor},
		{"UpdateChallengeParams", UpdateChallengeParams{AuthPayload: NewSecret(secretJWT), Metadata: StringMap{"os": "Android"}}, "Android"},
		{"CreateTOTPFactorParams", CreateTOTPFactorParams{FriendlyName: "Ada's phone", Secret: NewSecret(goldenBindingSecret), Skew: Ptr(1)}, "Ada's phone"},
		{"UpdateFactorParams", UpdateFactorParams{AuthPayload: NewSecret(secretTOTP), FriendlyName: "Ada's phone"}, "Ada's phone"},
		{"VerifyFactorParams", VerifyFactorParams{AuthPayload: NewSecret(secretTOTP)}, "[redacted]"},
		{"CreateVerificationParams", CreateVerificationParams{To: testPhone, Channel: ChannelSMS, CustomCode: NewSecret(secretCustom),
			CustomMessage: NewSecret(secretMessage), Tags: StringMap{"flow": "login"}}, testPhone},
		{"CheckVerificationParams", CheckVerificationParams{VerificationSID: testVerification, Code: NewSecret(secretCode),
			SNAClientToken: NewSecret(secretJWT)}, testVerification},
	}
	for _, tc := range values {
		ptr := pointerTo(tc.v)
		for _, shape := range []struct {
			name string
			v    any
		}{
			{"value", tc.v},
			{"pointer", ptr},
			{"in an exported field", userExported{"x", tc.v}},
			{"pointer in an exported field", &userExported{"x", ptr}},
			{"in an unexported field", userUnexported{"x", tc.v}},
			{"pointer in an unexported field", userUnexported{"x", ptr}},
			{"in a slice", []any{tc.v, ptr}},
			{"in a map", map[string]any{"v": tc.v, "p": ptr}},
		} {
			where := tc.name + " " + shape.name
			for name, out := range renderEverywhere(shape.v) {
				assertNoSecretAnyForm(t, where+" through "+name, out)
			}
		}
		if out := fmt.Sprintf("%v", tc.v); !strings.Contains(out, tc.show) {
			t.Errorf("%s %%v = %s; want it to show %q", tc.name, out, tc.show)
		}
	}
}

// pointerTo returns a pointer to a copy of v, keeping its dynamic type.
func pointerTo(v any) any {
	switch v := v.(type) {
	case Secret:
		return &v
	case SecretMap:
		return &v
	case NewFactor:
		return &v
	case Binding:
		return &v
	case AccessToken:
		return &v
	case Challenge:
		return &v
	case PasskeyChallenge:
		return &v
	case CreateChallengeParams:
		return &v
	case UpdateChallengeParams:
		return &v
	case CreateTOTPFactorParams:
		return &v
	case UpdateFactorParams:
		return &v
	case VerifyFactorParams:
		return &v
	case CreateVerificationParams:
		return &v
	case CheckVerificationParams:
		return &v
	}
	panic(fmt.Sprintf("pointerTo: add %T", v))
}

// renderEverywhere is v through every fmt verb, log/slog's text and JSON
// handlers (as an attribute and inside a group) and encoding/json.
func renderEverywhere(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	for name, mk := range map[string]func(io.Writer) slog.Handler{
		"slog text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		"slog JSON": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var b strings.Builder
		slog.New(mk(&b)).Info("m", "v", v, slog.Group("g", "v", v))
		out[name] = b.String()
	}
	b, err := json.Marshal(v)
	out["encoding/json"] = string(b) + fmt.Sprint(err)
	return out
}

// assertNoSecretAnyForm is assertNoSecrets, also for the secrets written
// in hex (%x) and escaped as Go and JSON strings do.
func assertNoSecretAnyForm(t *testing.T, where, s string) {
	t.Helper()
	assertNoSecrets(t, where, s)
	for _, secret := range []string{secretTOTP, secretJWT, secretHidden, goldenBindingSecret, goldenAccessToken,
		secretCode, secretCustom, secretMessage} {
		for _, form := range []string{hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret))),
			url.QueryEscape(secret)} {
			if strings.Contains(s, form[:min(len(form), 32)]) {
				t.Errorf("%s holds an encoded secret:\n%s", where, s)
			}
		}
	}
}

// TestDurationsTravelInWholeSeconds: the TTLs and time steps the SDK takes
// as time.Duration reach the API, and come back from it, in seconds.
func TestDurationsTravelInWholeSeconds(t *testing.T) {
	t.Parallel()
	var tok AccessToken
	if err := json.Unmarshal([]byte(`{"sid":"YK1","ttl":300,"token":"t"}`), &tok); err != nil || tok.TTL != 5*time.Minute || tok.SID != "YK1" {
		t.Errorf("AccessToken: ttl %v sid %q err %v", tok.TTL, tok.SID, err)
	}
	var n Notification
	if err := json.Unmarshal([]byte(`{"sid":"NT1","ttl":0,"priority":"high"}`), &n); err != nil || n.TTL != 0 || n.Priority != "high" {
		t.Errorf("Notification: ttl %v err %v", n.TTL, err)
	}
	var cfg FactorConfig
	if err := json.Unmarshal([]byte(`{"time_step":45,"code_length":8,"alg":"sha256"}`), &cfg); err != nil ||
		cfg.TimeStep != 45*time.Second || cfg.CodeLength != 8 || cfg.Alg != TOTPAlgorithmSHA256 {
		t.Errorf("FactorConfig: %+v %v", cfg, err)
	}
	for name, v := range map[string]any{"AccessToken": tok, "Notification": n, "FactorConfig": cfg} {
		b, err := json.Marshal(v)
		if err != nil || strings.Contains(string(b), "000000000") || !strings.Contains(string(b), `":`) {
			t.Errorf("%s marshals as %s, %v; want seconds", name, b, err)
		}
	}
	if b, _ := json.Marshal(cfg); !strings.Contains(string(b), `"time_step":45`) {
		t.Errorf("FactorConfig marshals as %s", b)
	}
}
