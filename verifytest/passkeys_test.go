package verifytest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/internal/contract"
	"github.com/verifykit/verify-go/verifytest"
)

const passkeyOrigin = "https://example.com"

// passkeyFake is a fake whose default service has passkeys settings, with
// a contract for checking the Passkeys answers to raw JSON requests (the
// SDK's own calls are in passkeys_sdk_test.go).
type passkeyFake struct {
	t      *testing.T
	srv    *verifytest.Server
	client *verify.Client
	spec   *contract.Spec
}

func newPasskeyFake(t *testing.T) *passkeyFake {
	t.Helper()
	srv, client := newFake(t, nil)
	spec, err := contract.Load("../testdata/verify_v2_passkeys.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Services.Update(ctx, srv.ServiceSID(), &verify.UpdateServiceParams{Passkeys: &verify.PasskeySettings{
		RelyingParty:            verify.PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{passkeyOrigin}},
		AuthenticatorAttachment: verify.AuthenticatorPlatform,
		DiscoverableCredentials: verify.PasskeyPreferred,
		UserVerification:        verify.PasskeyPreferred,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &passkeyFake{t: t, srv: srv, client: client, spec: spec}
}

// post sends body (JSON text, or a value to encode) to a Passkeys endpoint
// of the default service and returns the status, the decoded answer and
// its raw text. A request answered 2xx, and its answer, must satisfy the
// spec; any other answer must be Twilio's error JSON with a request id.
func (p *passkeyFake) post(endpoint string, body any) (int, map[string]any, []byte) {
	p.t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			p.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+servicePath(p.srv.ServiceSID())+"/Passkeys/"+endpoint, bytes.NewReader(raw))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(p.srv.AccountSID(), p.srv.AuthToken())
	checkReq := req.Clone(ctx)
	checkReq.Body = io.NopCloser(bytes.NewReader(raw))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		p.t.Fatalf("POST %s: answer is not JSON: %s", endpoint, data)
	}
	if resp.StatusCode < 300 {
		if err := p.spec.CheckRequest(checkReq); err != nil {
			p.t.Errorf("the fake accepted a request outside the spec: %v", err)
		}
		if err := p.spec.CheckResponse(req, resp.StatusCode, resp.Header, data); err != nil {
			p.t.Errorf("response: %v", err)
		}
	} else if out["code"] == nil || resp.Header.Get("Twilio-Request-Id") == "" {
		p.t.Errorf("POST %s: error %d without Twilio error JSON or request id: %s", endpoint, resp.StatusCode, data)
	}
	return resp.StatusCode, out, data
}

// want fails unless the answer has this status and, for errors, this code.
func (p *passkeyFake) want(what string, status int, body map[string]any, wantStatus, wantCode int) {
	p.t.Helper()
	if status != wantStatus || (wantCode != 0 && code(body) != wantCode) {
		p.t.Fatalf("%s: %d %v, want %d code %d", what, status, body, wantStatus, wantCode)
	}
}

// createFactor creates a passkeys factor for identity and returns its
// answer (raw, as an authenticator takes it) and SID.
func (p *passkeyFake) createFactor(identity string, config map[string]any) ([]byte, string) {
	p.t.Helper()
	req := map[string]any{"friendly_name": "laptop", "identity": identity}
	if config != nil {
		req["config"] = config
	}
	status, body, raw := p.post("Factors", req)
	p.want("create factor", status, body, http.StatusCreated, 0)
	return raw, body["sid"].(string)
}

// enroll creates and verifies a passkeys factor for identity with a.
func (p *passkeyFake) enroll(a *verifytest.Authenticator, identity string) string {
	p.t.Helper()
	options, sid := p.createFactor(identity, nil)
	reg, err := a.Register(options)
	if err != nil {
		p.t.Fatal(err)
	}
	status, body, _ := p.post("VerifyFactor", reg)
	p.want("verify factor", status, body, http.StatusOK, 0)
	return sid
}

// challenge creates a passkeys challenge and returns its raw answer.
func (p *passkeyFake) challenge(req map[string]any) ([]byte, map[string]any) {
	p.t.Helper()
	status, body, raw := p.post("Challenges", req)
	p.want("create challenge", status, body, http.StatusCreated, 0)
	return raw, body
}

// publicKey is the options.publicKey object of an answer.
func publicKey(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	opts, _ := body["options"].(map[string]any)
	pk, ok := opts["publicKey"].(map[string]any)
	if !ok {
		t.Fatalf("no options.publicKey in %v", body)
	}
	return pk
}

func TestPasskeyRegistrationAndSignIn(t *testing.T) {
	p := newPasskeyFake(t)
	raw, sid := p.createFactor(identity, nil)
	var created map[string]any
	if err := json.Unmarshal(raw, &created); err != nil {
		t.Fatal(err)
	}
	if created["status"] != "unverified" || created["factor_type"] != "passkeys" || created["binding"] != nil || created["identity"] != identity {
		t.Fatalf("created factor: %v", created)
	}
	pk := publicKey(t, created)
	userID, _ := base64.RawURLEncoding.DecodeString(pk["user"].(map[string]any)["id"].(string))
	challenge, _ := base64.RawURLEncoding.DecodeString(pk["challenge"].(string))
	sel := pk["authenticatorSelection"].(map[string]any)
	switch {
	case string(userID) != created["entity_sid"]:
		t.Errorf("user.id decodes to %q, want the entity SID %v", userID, created["entity_sid"])
	case len(challenge) != 32:
		t.Errorf("challenge of %d bytes, want 32", len(challenge))
	case pk["rp"].(map[string]any)["id"] != "example.com" || pk["attestation"] != "none" || pk["timeout"] != float64(600000):
		t.Errorf("options: %v", pk)
	case sel["authenticatorAttachment"] != "platform" || sel["residentKey"] != "preferred" || sel["userVerification"] != "preferred" || sel["requireResidentKey"] != false:
		t.Errorf("authenticatorSelection: %v", sel)
	case len(pk["excludeCredentials"].([]any)) != 0:
		t.Errorf("excludeCredentials: %v", pk["excludeCredentials"])
	}

	a := verifytest.NewAuthenticator(passkeyOrigin, nil)
	reg, err := a.Register(raw)
	if err != nil {
		t.Fatal(err)
	}
	status, verified, _ := p.post("VerifyFactor", reg)
	p.want("verify", status, verified, http.StatusOK, 0)
	if verified["sid"] != sid || verified["status"] != "verified" {
		t.Fatalf("verified factor: %v", verified)
	}
	f, err := p.client.Factors.Fetch(ctx, p.srv.ServiceSID(), identity, sid)
	if err != nil || f.Status != verify.FactorStatusVerified || f.FactorType != verify.FactorTypePasskeys {
		t.Fatalf("Factors.Fetch: %+v %v", f, err)
	}

	chRaw, ch := p.challenge(map[string]any{"identity": identity})
	rk := publicKey(t, ch)
	allow := rk["allowCredentials"].([]any)
	var regJSON map[string]any
	_ = json.Unmarshal(reg, &regJSON)
	if len(allow) != 1 || allow[0].(map[string]any)["id"] != regJSON["id"] || rk["rpId"] != "example.com" || rk["userVerification"] != "preferred" {
		t.Fatalf("request options: %v", rk)
	}
	if ch["status"] != "pending" || ch["identity"] != identity || ch["factor_sid"] != nil {
		t.Fatalf("created challenge: %v", ch)
	}
	assertion, err := a.Assert(chRaw)
	if err != nil {
		t.Fatal(err)
	}
	status, approved, _ := p.post("ApproveChallenge", assertion)
	p.want("approve", status, approved, http.StatusOK, 0)
	if approved["status"] != "approved" || approved["identity"] != identity || approved["factor_sid"] != sid || approved["entity_sid"] != created["entity_sid"] {
		t.Fatalf("approved challenge: %v", approved)
	}
	got, err := p.client.Challenges.Fetch(ctx, p.srv.ServiceSID(), identity, approved["sid"].(string))
	if err != nil || got.Status != verify.StatusApproved || got.FactorSID != sid || got.FactorType != verify.FactorTypePasskeys {
		t.Fatalf("Challenges.Fetch: %+v %v", got, err)
	}
	n := 0
	for c, err := range p.client.Challenges.List(ctx, p.srv.ServiceSID(), identity, &verify.ListChallengesParams{FactorSID: sid}) {
		if err != nil || c.SID != got.SID {
			t.Fatalf("Challenges.List: %+v %v", c, err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("Challenges.List: %d challenges, want 1", n)
	}
}

func TestPasskeyUsernamelessSignIn(t *testing.T) {
	p := newPasskeyFake(t)
	a := verifytest.NewAuthenticator(passkeyOrigin, nil)
	sid := p.enroll(a, identity)
	raw, ch := p.challenge(map[string]any{})
	if allow := publicKey(t, ch)["allowCredentials"].([]any); len(allow) != 0 {
		t.Fatalf("usernameless allowCredentials: %v", allow)
	}
	if ch["identity"] != nil || ch["entity_sid"] != nil || ch["factor_sid"] != nil {
		t.Fatalf("usernameless challenge names someone: %v", ch)
	}
	assertion, err := a.Assert(raw)
	if err != nil {
		t.Fatal(err)
	}
	status, approved, _ := p.post("ApproveChallenge", assertion)
	p.want("approve", status, approved, http.StatusOK, 0)
	if approved["identity"] != identity || approved["factor_sid"] != sid || approved["status"] != "approved" {
		t.Fatalf("approved: %v", approved)
	}
	if _, err := p.client.Challenges.Fetch(ctx, p.srv.ServiceSID(), identity, approved["sid"].(string)); err != nil {
		t.Fatalf("the approved usernameless challenge is not under its entity: %v", err)
	}
}

func TestPasskeyNonDiscoverableCredential(t *testing.T) {
	p := newPasskeyFake(t)
	key := verifytest.NewAuthenticator(passkeyOrigin, &verifytest.AuthenticatorOptions{
		Attachment: verify.AuthenticatorCrossPlatform, NonDiscoverable: true, PackedAttestation: true})
	options, _ := p.createFactor(identity, map[string]any{"authenticator_attachment": "cross-platform", "discoverable_credentials": "discouraged"})
	reg, err := key.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := p.post("VerifyFactor", reg)
	p.want("verify a packed self-attestation", status, body, http.StatusOK, 0)
	raw, _ := p.challenge(map[string]any{"identity": identity})
	assertion, err := key.Assert(raw)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(assertion, []byte("userHandle")) {
		t.Fatalf("a non-discoverable credential's assertion has a userHandle: %s", assertion)
	}
	status, body, _ = p.post("ApproveChallenge", assertion)
	p.want("approve", status, body, http.StatusOK, 0)
	// Usernameless needs a discoverable credential: the authenticator has none.
	raw, _ = p.challenge(map[string]any{})
	if _, err := key.Assert(raw); err == nil {
		t.Fatal("a non-discoverable authenticator answered a usernameless challenge")
	}
}

func TestPasskeyFactorSettings(t *testing.T) {
	p := newPasskeyFake(t)
	_, body, _ := p.post("Factors", map[string]any{"friendly_name": "key", "identity": identity, "config": map[string]any{
		"relying_party":            map[string]any{"origins": []string{"https://login.example.com"}},
		"authenticator_attachment": "any", "user_verification": "required", "discoverable_credentials": "required"}})
	sel := publicKey(t, body)["authenticatorSelection"].(map[string]any)
	if _, ok := sel["authenticatorAttachment"]; ok || sel["userVerification"] != "required" || sel["residentKey"] != "required" || sel["requireResidentKey"] != true {
		t.Fatalf("config did not override the service: %v", sel)
	}
	cfg := body["config"].(map[string]any)
	rp := cfg["relying_party"].(map[string]any)
	if rp["id"] != "example.com" || rp["name"] != "Example" || len(rp["origins"].([]any)) != 1 || rp["origins"].([]any)[0] != "https://login.example.com" || cfg["user_verification"] != "required" {
		t.Fatalf("factor config: %v", cfg)
	}

	bare := newPasskeyFake(t)
	sid := bare.srv.NewService()
	for _, tc := range []struct {
		name   string
		config map[string]any
		code   int
	}{
		{"no relying party", nil, 60371},
		{"no criteria", map[string]any{"relying_party": map[string]any{"id": "example.com", "origins": []string{passkeyOrigin}}}, 60393},
		{"relying party ID not a domain", map[string]any{"relying_party": map[string]any{"id": "https://example.com/", "origins": []string{passkeyOrigin}},
			"authenticator_attachment": "platform", "discoverable_credentials": "preferred", "user_verification": "preferred"}, 60371},
	} {
		req := map[string]any{"friendly_name": "key", "identity": identity}
		if tc.config != nil {
			req["config"] = tc.config
		}
		status, body := rawJSON(t, bare.srv, "/v2/Services/"+sid+"/Passkeys/Factors", req)
		if status != http.StatusBadRequest || code(body) != tc.code {
			t.Errorf("%s: %d %v, want 400 code %d", tc.name, status, body, tc.code)
		}
	}
}

// rawJSON posts body as JSON to path with the account's credentials.
func rawJSON(t *testing.T, srv *verifytest.Server, path string, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(srv.AccountSID(), srv.AuthToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestPasskeyFactorCreateRefusesBadParameters(t *testing.T) {
	p := newPasskeyFake(t)
	for _, tc := range []struct {
		name string
		body any
	}{
		{"not JSON", []byte("FriendlyName=laptop")},
		{"no friendly_name", map[string]any{"identity": identity}},
		{"no identity", map[string]any{"friendly_name": "laptop"}},
		{"bad identity", map[string]any{"friendly_name": "laptop", "identity": "ab"}},
		{"friendly_name too long", map[string]any{"friendly_name": string(bytes.Repeat([]byte("x"), 65)), "identity": identity}},
		{"unknown attachment", map[string]any{"friendly_name": "laptop", "identity": identity, "config": map[string]any{"authenticator_attachment": "usb"}}},
		{"unknown user_verification", map[string]any{"friendly_name": "laptop", "identity": identity, "config": map[string]any{"user_verification": "always"}}},
	} {
		status, body, _ := p.post("Factors", tc.body)
		if status != http.StatusBadRequest || code(body) != 60306 {
			t.Errorf("%s: %d %v, want 400 code 60306", tc.name, status, body)
		}
	}
	if st, body := rawJSON(t, p.srv, "/v2/Services/VA00000000000000000000000000000000/Passkeys/Factors",
		map[string]any{"friendly_name": "laptop", "identity": identity}); st != http.StatusNotFound || code(body) != 20404 {
		t.Errorf("unknown service: %d %v, want 404 20404", st, body)
	}
}

// registration creates a factor and registers a credential for it with a,
// misbehaving as m says; edit, if set, changes the options first.
func (p *passkeyFake) registration(a *verifytest.Authenticator, config map[string]any, m verifytest.Misbehaviour, edit func(pk map[string]any)) (string, []byte) {
	p.t.Helper()
	options, sid := p.createFactor(identity, config)
	if edit != nil {
		var body map[string]any
		_ = json.Unmarshal(options, &body)
		edit(publicKey(p.t, body))
		options, _ = json.Marshal(body)
	}
	a.MisbehaveNext(m)
	reg, err := a.Register(options)
	if err != nil {
		p.t.Fatal(err)
	}
	return sid, reg
}

func TestPasskeyVerifyFactorRefusals(t *testing.T) {
	uvRequired := map[string]any{"user_verification": "required"}
	for _, tc := range []struct {
		name    string
		origin  string
		config  map[string]any
		m       verifytest.Misbehaviour
		edit    func(pk map[string]any)
		status  int
		code    int
		advance time.Duration
	}{
		{name: "origin not among the service's", origin: passkeyOrigin, m: verifytest.Misbehaviour{Origin: "https://evil.example"}, status: 403, code: 60311},
		{name: "no user presence", origin: passkeyOrigin, m: verifytest.Misbehaviour{NoUserPresence: true}, status: 403, code: 60311},
		{name: "no user verification, required", origin: passkeyOrigin, config: uvRequired, m: verifytest.Misbehaviour{NoUserVerification: true}, status: 403, code: 60311},
		{name: "no user verification, preferred", origin: passkeyOrigin, m: verifytest.Misbehaviour{NoUserVerification: true}, status: 200},
		{name: "rpIdHash of another relying party", origin: "https://other.example",
			m:      verifytest.Misbehaviour{Origin: passkeyOrigin},
			edit:   func(pk map[string]any) { pk["rp"].(map[string]any)["id"] = "other.example" },
			status: 403, code: 60311},
		{name: "another challenge", origin: passkeyOrigin,
			edit:   func(pk map[string]any) { pk["challenge"] = base64.RawURLEncoding.EncodeToString(make([]byte, 32)) },
			status: 404, code: 20404},
		{name: "options expired", origin: passkeyOrigin, advance: 11 * time.Minute, status: 403, code: 60311},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPasskeyFake(t)
			sid, reg := p.registration(verifytest.NewAuthenticator(tc.origin, nil), tc.config, tc.m, tc.edit)
			p.srv.Advance(tc.advance)
			status, body, _ := p.post("VerifyFactor", reg)
			p.want(tc.name, status, body, tc.status, tc.code)
			f, err := p.client.Factors.Fetch(ctx, p.srv.ServiceSID(), identity, sid)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.status == 200; (f.Status == verify.FactorStatusVerified) != want {
				t.Fatalf("factor %s after %d", f.Status, status)
			}
		})
	}
}

func TestPasskeyVerifyFactorUnreadableCredentials(t *testing.T) {
	p := newPasskeyFake(t)
	a := verifytest.NewAuthenticator(passkeyOrigin, nil)
	_, reg := p.registration(a, nil, verifytest.Misbehaviour{}, nil)
	var cred map[string]any
	_ = json.Unmarshal(reg, &cred)
	resp := cred["response"].(map[string]any)
	for _, tc := range []struct {
		name   string
		edit   func()
		status int
		code   int
	}{
		{"attestationObject not CBOR", func() { resp["attestationObject"] = "AAAA" }, 400, 60386},
		{"no attestationObject", func() { delete(resp, "attestationObject") }, 400, 60386},
		{"no clientDataJSON", func() { delete(resp, "clientDataJSON") }, 400, 60306},
		{"no response", func() { delete(cred, "response") }, 400, 60306},
	} {
		saved, _ := json.Marshal(cred)
		tc.edit()
		status, body, _ := p.post("VerifyFactor", cred)
		if status != tc.status || code(body) != tc.code {
			t.Errorf("%s: %d %v, want %d code %d", tc.name, status, body, tc.status, tc.code)
		}
		cred = map[string]any{}
		_ = json.Unmarshal(saved, &cred)
		resp = cred["response"].(map[string]any)
	}
	// The untouched credential still verifies, once.
	status, body, _ := p.post("VerifyFactor", reg)
	p.want("intact credential", status, body, 200, 0)
	status, body, _ = p.post("VerifyFactor", reg)
	p.want("the same credential again", status, body, 404, 20404)
}

func TestPasskeyChallengeRefusals(t *testing.T) {
	p := newPasskeyFake(t)
	unverified, _ := p.createFactor("user-0002-abcd", nil)
	var f map[string]any
	_ = json.Unmarshal(unverified, &f)
	totp, err := p.srv.NewTOTPFactor(p.srv.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		req    map[string]any
		status int
		code   int
	}{
		{"unknown identity", map[string]any{"identity": "user-9999-abcd"}, 404, 20404},
		{"identity without passkeys", map[string]any{"identity": identity}, 404, 20404},
		{"identity with an unverified passkey only", map[string]any{"identity": "user-0002-abcd"}, 404, 20404},
		{"unknown factor", map[string]any{"factor_sid": "YF00000000000000000000000000000000"}, 404, 20404},
		{"unverified factor", map[string]any{"factor_sid": f["sid"]}, 403, 60318},
		{"a TOTP factor", map[string]any{"factor_sid": totp.SID}, 400, 60306},
		{"malformed factor SID", map[string]any{"factor_sid": "YF1"}, 400, 60306},
		{"malformed identity", map[string]any{"identity": "a b"}, 400, 60306},
	} {
		status, body, _ := p.post("Challenges", tc.req)
		if status != tc.status || code(body) != tc.code {
			t.Errorf("%s: %d %v, want %d code %d", tc.name, status, body, tc.status, tc.code)
		}
	}
}

// signIn enrolls a with identity, creates a challenge for req, and returns
// the challenge's raw answer.
func (p *passkeyFake) signIn(a *verifytest.Authenticator, req map[string]any) []byte {
	p.t.Helper()
	p.enroll(a, identity)
	raw, _ := p.challenge(req)
	return raw
}

func TestPasskeyApproveRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    map[string]any
		config map[string]any
		m      verifytest.Misbehaviour
		status int
		code   int
	}{
		{name: "origin not among the service's", m: verifytest.Misbehaviour{Origin: "https://evil.example"}, status: 403, code: 60324},
		{name: "no user presence", m: verifytest.Misbehaviour{NoUserPresence: true}, status: 403, code: 60324},
		{name: "no user verification, required", config: map[string]any{"user_verification": "required"},
			m: verifytest.Misbehaviour{NoUserVerification: true}, status: 403, code: 60324},
		{name: "no user verification, preferred", m: verifytest.Misbehaviour{NoUserVerification: true}, status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPasskeyFake(t)
			a := verifytest.NewAuthenticator(passkeyOrigin, nil)
			options, sid := p.createFactor(identity, tc.config)
			reg, err := a.Register(options)
			if err != nil {
				t.Fatal(err)
			}
			status, body, _ := p.post("VerifyFactor", reg)
			p.want("verify", status, body, 200, 0)
			raw, ch := p.challenge(map[string]any{"factor_sid": sid})
			a.MisbehaveNext(tc.m)
			assertion, err := a.Assert(raw)
			if err != nil {
				t.Fatal(err)
			}
			status, body, _ = p.post("ApproveChallenge", assertion)
			p.want(tc.name, status, body, tc.status, tc.code)
			got, err := p.client.Challenges.Fetch(ctx, p.srv.ServiceSID(), identity, ch["sid"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.status == 200; got.Status.IsApproved() != want {
				t.Fatalf("challenge %s after %d", got.Status, status)
			}
		})
	}
}

func TestPasskeyApproveSignatureAndReplay(t *testing.T) {
	p := newPasskeyFake(t)
	a := verifytest.NewAuthenticator(passkeyOrigin, nil)
	raw := p.signIn(a, map[string]any{"identity": identity})
	assertion, err := a.Assert(raw)
	if err != nil {
		t.Fatal(err)
	}
	var cred map[string]any
	_ = json.Unmarshal(assertion, &cred)
	resp := cred["response"].(map[string]any)
	sig, _ := base64.RawURLEncoding.DecodeString(resp["signature"].(string))
	good := resp["signature"]
	sig[len(sig)-1] ^= 1
	resp["signature"] = base64.RawURLEncoding.EncodeToString(sig)
	status, body, _ := p.post("ApproveChallenge", cred)
	p.want("tampered signature", status, body, 403, 60324)
	resp["signature"] = good

	for _, tc := range []struct {
		name   string
		field  string
		value  any
		status int
		code   int
	}{
		{"no signature", "signature", nil, 400, 60381},
		{"no authenticatorData", "authenticatorData", nil, 400, 60379},
		{"userHandle not base64url", "userHandle", "not base64!", 400, 60420},
		{"userHandle of another entity", "userHandle", base64.RawURLEncoding.EncodeToString([]byte("YE00000000000000000000000000000000")), 403, 60324},
	} {
		saved := resp[tc.field]
		if tc.value == nil {
			delete(resp, tc.field)
		} else {
			resp[tc.field] = tc.value
		}
		status, body, _ := p.post("ApproveChallenge", cred)
		if status != tc.status || code(body) != tc.code {
			t.Errorf("%s: %d %v, want %d code %d", tc.name, status, body, tc.status, tc.code)
		}
		resp[tc.field] = saved
	}

	status, body, _ = p.post("ApproveChallenge", assertion)
	p.want("the intact assertion", status, body, 200, 0)
	status, body, _ = p.post("ApproveChallenge", assertion)
	p.want("the same assertion again", status, body, 403, 60322)

	// A second sign-in whose sign count does not go up: a cloned key.
	raw, _ = p.challenge(map[string]any{"identity": identity})
	a.MisbehaveNext(verifytest.Misbehaviour{ReplaySignCount: true})
	replayed, err := a.Assert(raw)
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ = p.post("ApproveChallenge", replayed)
	p.want("replayed sign count", status, body, 403, 60324)
}

func TestPasskeyApproveChallengeStates(t *testing.T) {
	p := newPasskeyFake(t)
	a := verifytest.NewAuthenticator(passkeyOrigin, nil)
	raw := p.signIn(a, map[string]any{})
	assertion, err := a.Assert(raw)
	if err != nil {
		t.Fatal(err)
	}
	p.srv.Advance(11 * time.Minute)
	status, body, _ := p.post("ApproveChallenge", assertion)
	p.want("expired", status, body, 403, 60323)

	// An assertion for a challenge the service never made.
	var opts map[string]any
	_ = json.Unmarshal(raw, &opts)
	publicKey(t, opts)["challenge"] = base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	foreign, _ := json.Marshal(opts)
	if assertion, err = a.Assert(foreign); err != nil {
		t.Fatal(err)
	}
	status, body, _ = p.post("ApproveChallenge", assertion)
	p.want("unknown challenge", status, body, 404, 60391)

	// A usernameless assertion without its userHandle.
	raw, _ = p.challenge(map[string]any{})
	if assertion, err = a.Assert(raw); err != nil {
		t.Fatal(err)
	}
	var cred map[string]any
	_ = json.Unmarshal(assertion, &cred)
	delete(cred["response"].(map[string]any), "userHandle")
	status, body, _ = p.post("ApproveChallenge", cred)
	p.want("usernameless without userHandle", status, body, 403, 60324)
}

func TestPasskeyApproveRefusesCredentialNotAllowed(t *testing.T) {
	p := newPasskeyFake(t)
	first := verifytest.NewAuthenticator(passkeyOrigin, nil)
	second := verifytest.NewAuthenticator(passkeyOrigin, nil)
	sid := p.enroll(first, identity)
	p.enroll(second, identity)
	raw, _ := p.challenge(map[string]any{"factor_sid": sid})
	var opts map[string]any
	_ = json.Unmarshal(raw, &opts)
	publicKey(t, opts)["allowCredentials"] = []any{} // the second key answers as if usernameless
	edited, _ := json.Marshal(opts)
	assertion, err := second.Assert(edited)
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := p.post("ApproveChallenge", assertion)
	p.want("credential not in allowCredentials", status, body, 403, 60324)
	// The second factor's creation options excluded the first credential.
	options, _ := p.createFactor(identity, nil)
	var created map[string]any
	_ = json.Unmarshal(options, &created)
	if n := len(publicKey(t, created)["excludeCredentials"].([]any)); n != 2 {
		t.Fatalf("excludeCredentials holds %d credentials, want 2", n)
	}
	if _, err := first.Register(options); err == nil {
		t.Fatal("an authenticator registered a second credential despite excludeCredentials")
	}
}

func TestPasskeyApproveRefusesAnotherRelyingParty(t *testing.T) {
	p := newPasskeyFake(t)
	a := verifytest.NewAuthenticator("https://login.example.com", nil)
	options, _ := p.createFactor(identity, map[string]any{"relying_party": map[string]any{
		"id": "login.example.com", "origins": []string{"https://login.example.com"}}})
	reg, err := a.Register(options)
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := p.post("VerifyFactor", reg)
	p.want("verify", status, body, 200, 0)
	raw, _ := p.challenge(map[string]any{}) // for the service's relying party, example.com
	var opts map[string]any
	_ = json.Unmarshal(raw, &opts)
	publicKey(t, opts)["rpId"] = "login.example.com"
	edited, _ := json.Marshal(opts)
	assertion, err := a.Assert(edited)
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ = p.post("ApproveChallenge", assertion)
	p.want("factor of another relying party", status, body, 400, 60382)
}

func TestPasskeyOtherEndpointsRefusePasskeys(t *testing.T) {
	p := newPasskeyFake(t)
	_, unverified := p.createFactor(identity, nil)
	_, err := p.client.Factors.Update(ctx, p.srv.ServiceSID(), identity, unverified, &verify.UpdateFactorParams{AuthPayload: verify.NewSecret("123456")})
	wantAPIError(t, "AuthPayload to a passkeys factor", err, 400, 60306)
	f, err := p.client.Factors.Update(ctx, p.srv.ServiceSID(), identity, unverified, &verify.UpdateFactorParams{FriendlyName: "phone"})
	if err != nil || f.FriendlyName != "phone" {
		t.Fatalf("renaming a passkeys factor: %+v %v", f, err)
	}
	sid := p.enroll(verifytest.NewAuthenticator(passkeyOrigin, nil), identity)
	_, err = p.client.Challenges.Create(ctx, p.srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: sid})
	wantAPIError(t, "Challenges.Create for a passkeys factor", err, 400, 60306)
	_, ch := p.challenge(map[string]any{"factor_sid": sid})
	_, err = p.client.Challenges.Update(ctx, p.srv.ServiceSID(), identity, ch["sid"].(string), &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret("123456")})
	wantAPIError(t, "Challenges.Update of a passkeys challenge", err, 400, 60306)
	n := 0
	for f, err := range p.client.Factors.List(ctx, p.srv.ServiceSID(), identity, nil) {
		if err != nil || f.FactorType != verify.FactorTypePasskeys {
			t.Fatalf("Factors.List: %+v %v", f, err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("Factors.List: %d factors, want 2", n)
	}
}
