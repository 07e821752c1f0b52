package verify

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// credentialFields are every Field a credential's *ValidationError may
// name, and credentialRules every Rule: fixed texts, so no error can quote
// the credential.
var (
	credentialFields = map[string]bool{"credential": true, "id": true, "rawId": true, "type": true,
		"authenticatorAttachment": true, "response": true, "response.clientDataJSON": true,
		"response.attestationObject": true, "response.authenticatorData": true, "response.signature": true,
		"response.userHandle": true}
	credentialRules = map[string]bool{ruleCredentialRequired: true, ruleCredentialSize: true, ruleCredentialObject: true,
		ruleRequired: true, ruleString: true, ruleObject: true, ruleBase64URL: true, rulePublicKey: true, ruleAttachment: true}
)

// edit returns the golden credential with change applied to its decoded form.
func edit(t *testing.T, file string, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(golden(t, file)), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func set(path string, v any) func(map[string]any) {
	return func(m map[string]any) {
		if inner, ok := strings.CutPrefix(path, "response."); ok {
			m["response"].(map[string]any)[inner] = v
			return
		}
		m[path] = v
	}
}

func drop(path string) func(map[string]any) {
	return func(m map[string]any) {
		if inner, ok := strings.CutPrefix(path, "response."); ok {
			delete(m["response"].(map[string]any), inner)
			return
		}
		delete(m, path)
	}
}

// A value planted in credentials to prove no error quotes one.
const plantedValue = "PLANTED+VALUE/SHOULD=NEVER-BE-QUOTED"

// TestPasskeyCredentialValidation: each rule, for registrations and
// assertions alike, names the field and never quotes the credential.
func TestPasskeyCredentialValidation(t *testing.T) {
	t.Parallel()
	const reg, asr = "passkey_registration.json", "passkey_assertion.json"
	validators := map[string]func([]byte) error{reg: ValidatePasskeyRegistration, asr: ValidatePasskeyAssertion}
	for _, file := range []string{reg, asr} {
		if err := validators[file]([]byte(golden(t, file))); err != nil {
			t.Fatalf("%s refused: %v", file, err)
		}
	}
	type tc struct {
		name, file, field, rule string
		credential              []byte
	}
	cases := []tc{
		{"empty", reg, "credential", ruleCredentialRequired, nil},
		{"too large", asr, "credential", ruleCredentialSize,
			edit(t, asr, set("clientExtensionResults", map[string]any{"pad": strings.Repeat("A", MaxPasskeyCredentialBytes)}))},
		{"not JSON", reg, "credential", ruleCredentialObject, []byte(`{"id":"` + plantedValue)},
		{"an array", asr, "credential", ruleCredentialObject, []byte(`["` + plantedValue + `"]`)},
		{"null", asr, "credential", ruleCredentialObject, []byte(`null`)},
		{"trailing data", reg, "credential", ruleCredentialObject, []byte(golden(t, reg) + `{"x":"` + plantedValue + `"}`)},
		{"JSON-encoded twice", asr, "credential", ruleCredentialObject, func() []byte { b, _ := json.Marshal(golden(t, asr)); return b }()},
		{"mangled", reg, "credential", ruleCredentialObject, []byte(golden(t, reg)[:len(golden(t, reg))-2])},
	}
	for _, file := range []string{reg, asr} {
		b64 := []string{"id", "rawId", "response.clientDataJSON"}
		if file == reg {
			b64 = append(b64, "response.attestationObject")
		} else {
			b64 = append(b64, "response.authenticatorData", "response.signature")
		}
		for _, field := range b64 {
			cases = append(cases,
				tc{"no " + field, file, field, ruleRequired, edit(t, file, drop(field))},
				tc{"null " + field, file, field, ruleRequired, edit(t, file, set(field, nil))},
				tc{"empty " + field, file, field, ruleRequired, edit(t, file, set(field, ""))},
				tc{field + " a number", file, field, ruleString, edit(t, file, set(field, 42))},
				tc{field + " padded", file, field, ruleBase64URL, edit(t, file, set(field, "QUJD"+"RA=="))},
				tc{field + " in standard base64", file, field, ruleBase64URL, edit(t, file, set(field, plantedValue))},
				tc{field + " of an impossible length", file, field, ruleBase64URL, edit(t, file, set(field, "QUJDR"))},
			)
		}
		cases = append(cases,
			tc{"no type", file, "type", ruleRequired, edit(t, file, drop("type"))},
			tc{"type not a string", file, "type", ruleString, edit(t, file, set("type", true))},
			tc{"another type", file, "type", rulePublicKey, edit(t, file, set("type", plantedValue))},
			tc{"type in capitals", file, "type", rulePublicKey, edit(t, file, set("type", "Public-Key"))},
			tc{"unknown attachment", file, "authenticatorAttachment", ruleAttachment, edit(t, file, set("authenticatorAttachment", plantedValue))},
			tc{"attachment any", file, "authenticatorAttachment", ruleAttachment, edit(t, file, set("authenticatorAttachment", "any"))},
			tc{"attachment a list", file, "authenticatorAttachment", ruleString, edit(t, file, set("authenticatorAttachment", []string{"platform"}))},
			tc{"id spelt ID", file, "id", ruleRequired, edit(t, file, func(m map[string]any) { m["ID"] = m["id"]; delete(m, "id") })},
			tc{"clientDataJSON spelt in capitals", file, "response.clientDataJSON", ruleRequired, edit(t, file, func(m map[string]any) {
				r := m["response"].(map[string]any)
				r["CLIENTDATAJSON"] = r["clientDataJSON"]
				delete(r, "clientDataJSON")
			})},
			tc{"no response", file, "response", ruleRequired, edit(t, file, drop("response"))},
			tc{"null response", file, "response", ruleRequired, edit(t, file, set("response", nil))},
			tc{"response a string", file, "response", ruleObject, edit(t, file, set("response", plantedValue))},
		)
	}
	cases = append(cases,
		tc{"userHandle not base64url", asr, "response.userHandle", ruleBase64URL, edit(t, asr, set("response.userHandle", plantedValue))},
		tc{"userHandle a number", asr, "response.userHandle", ruleString, edit(t, asr, set("response.userHandle", 7))},
		// The spec's own ApproveChallenge example: its authenticatorData is
		// 21 characters, a length no byte string encodes to.
		tc{"the spec's truncated example", asr, "response.authenticatorData", ruleBase64URL, []byte(golden(t, "passkey_assertion_spec.json"))},
	)
	for _, c := range cases {
		t.Run(c.file+"/"+c.name, func(t *testing.T) {
			err := validators[c.file](c.credential)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != c.field || ve.Rule != c.rule {
				t.Fatalf("err = %v, want %s: %s", err, c.field, c.rule)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.field) {
				t.Errorf("error %q does not name %s", msg, c.field)
			}
			assertNoCredential(t, msg, c.credential)
		})
	}

	accepted := map[string][]byte{
		"no authenticatorAttachment":   edit(t, asr, drop("authenticatorAttachment")),
		"null authenticatorAttachment": edit(t, asr, set("authenticatorAttachment", nil)),
		"cross-platform":               edit(t, asr, set("authenticatorAttachment", "cross-platform")),
		"no userHandle":                edit(t, asr, drop("response.userHandle")),
		"null userHandle":              edit(t, asr, set("response.userHandle", nil)),
		"extra members":                edit(t, asr, set("response.transports", []string{"hybrid"})),
		"escaped names and values":     []byte(`{"\u0069d":"Y\u0051","rawId":"YQ","type":"public-key","response":{"clientDataJSON":"YQ","authenticatorData":"YQ","signature":"YQ"}}`),
		"spaces everywhere":            []byte(" {\n \"id\" : \"YQ\" , \"rawId\":\"YQ\",\"n\": [1, {\"a\":[true, null, -1.5e+3]}], \"type\":\"public-key\",\"response\" : { \"clientDataJSON\":\"YQ\",\"authenticatorData\":\"YQ\", \"signature\" : \"YQ\" } } "),
		"exactly the cap": func() []byte {
			b := edit(t, asr, set("clientExtensionResults", map[string]any{"pad": ""}))
			pad := strings.Repeat("A", MaxPasskeyCredentialBytes-len(b))
			return edit(t, asr, set("clientExtensionResults", map[string]any{"pad": pad}))
		}(),
	}
	for name, b := range accepted {
		if err := ValidatePasskeyAssertion(b); err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
	}
	if err := ValidatePasskeyRegistration([]byte(golden(t, "passkey_registration.json"))); err != nil {
		t.Errorf("the spec's registration example (a hex rawId is base64url too) refused: %v", err)
	}
}

// assertNoCredential fails when msg holds any string value of credential
// (of 4 characters or more) or the planted value.
func assertNoCredential(t *testing.T, msg string, credential []byte) {
	t.Helper()
	if strings.Contains(msg, plantedValue) || strings.Contains(msg, "PLANTED") {
		t.Errorf("error %q quotes the credential", msg)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if len(v) >= 4 && strings.Contains(msg, v) && !credentialFields[v] && v != "public-key" && v != "platform" && v != "cross-platform" {
				t.Errorf("error %q quotes the value %q", msg, v)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	if json.Unmarshal(credential, &v) == nil {
		walk(v)
	}
}
