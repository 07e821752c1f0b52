package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzValidatePasskeyCredential: any input is accepted or refused with a
// *ValidationError whose field and rule come from fixed lists (so it
// cannot quote the input); an accepted one has the members WebAuthn needs.
func FuzzValidatePasskeyCredential(f *testing.F) {
	f.Fuzz(func(t *testing.T, credential []byte, assertion bool) {
		validate, need := ValidatePasskeyRegistration, "attestationObject"
		if assertion {
			validate, need = ValidatePasskeyAssertion, "signature"
		}
		err := validate(credential)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !credentialFields[ve.Field] || !credentialRules[ve.Rule] {
				t.Fatalf("err = %#v: not a *ValidationError of a known field and rule", err)
			}
			return
		}
		// Accepted: the exact members are there (encoding/json's maps match
		// names exactly, as the API does; its structs would not).
		var top, response map[string]json.RawMessage
		if json.Unmarshal(credential, &top) != nil || json.Unmarshal(top["response"], &response) != nil ||
			len(credential) > MaxPasskeyCredentialBytes {
			t.Fatalf("accepted %q: not an object with a response object", credential)
		}
		var id, typ string
		if json.Unmarshal(top["id"], &id) != nil || id == "" || json.Unmarshal(top["type"], &typ) != nil || typ != "public-key" {
			t.Fatalf("accepted %q: id %q, type %q", credential, id, typ)
		}
		for _, name := range []string{"clientDataJSON", need} {
			var v string
			if json.Unmarshal(response[name], &v) != nil || v == "" {
				t.Fatalf("accepted %q without response.%s", credential, name)
			}
		}
	})
}

// FuzzPasskeyOptions: any options Verify may send decode without failing
// the call and are kept byte for byte; what BrowserJSON gives is one JSON
// object with a string challenge, no publicKey wrapper and, for creation,
// a pubKeyCredParams list.
func FuzzPasskeyOptions(f *testing.F) {
	f.Fuzz(func(t *testing.T, options []byte) {
		if !json.Valid(options) {
			return // the whole answer would be invalid JSON: not the options' concern
		}
		body := append(append([]byte(`{"sid":"YF1","options":`), options...), '}')
		var pf PasskeyFactor
		var pc PasskeyChallenge
		if err := json.Unmarshal(body, &pf); err != nil {
			t.Fatalf("factor with options %q: %v", options, err)
		}
		if err := json.Unmarshal(body, &pc); err != nil {
			t.Fatalf("challenge with options %q: %v", options, err)
		}
		if pf.SID != "YF1" || pc.SID != "YF1" {
			t.Fatalf("options %q lost the rest of the answer", options)
		}
		// json hands UnmarshalJSON the value without the spaces around it.
		if sent := bytes.TrimSpace(options); string(sent) != "null" &&
			(!bytes.Equal(pf.Options.Raw(), sent) || !bytes.Equal(pc.Options.Raw(), sent)) {
			t.Fatalf("options %q kept as %q and %q", options, pf.Options.Raw(), pc.Options.Raw())
		}
		for kind, browser := range map[string]func() (json.RawMessage, error){
			"creation": pf.Options.BrowserJSON, "request": pc.Options.BrowserJSON} {
			b, err := browser()
			if err != nil {
				if !errors.Is(err, ErrInvalidResponse) {
					t.Fatalf("%s options %q: err = %v, want ErrInvalidResponse", kind, options, err)
				}
				continue
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s options %q: BrowserJSON gave %q, not an object", kind, options, b)
			}
			var challenge string
			if json.Unmarshal(m["challenge"], &challenge) != nil {
				t.Fatalf("%s options %q: BrowserJSON gave %q, without a string challenge", kind, options, b)
			}
			if _, ok := m["publicKey"]; ok {
				t.Fatalf("%s options %q: BrowserJSON kept the publicKey wrapper: %q", kind, options, b)
			}
			if p := bytes.TrimSpace(m["pubKeyCredParams"]); kind == "creation" && (len(p) == 0 || p[0] != '[') {
				t.Fatalf("creation options %q: pubKeyCredParams %q is not a list", options, p)
			}
		}
	})
}
