package verify

import "encoding/json"

// MaxPasskeyCredentialBytes caps the credential VerifyFactor and
// ApproveChallenge send: 64 KiB. A browser's credential.toJSON() is well
// under 4 KiB for an assertion and for a registration with "none"
// attestation; attestation certificates (packed, TPM) add a few KiB more.
const MaxPasskeyCredentialBytes = 64 << 10

// ValidatePasskeyRegistration checks registration, a browser's
// credential.toJSON() after navigator.credentials.create(), as
// Passkeys.VerifyFactor does before sending it: at most
// MaxPasskeyCredentialBytes of one JSON object with id, rawId,
// response.clientDataJSON and response.attestationObject in unpadded
// base64url, type "public-key", and authenticatorAttachment, when set,
// platform or cross-platform. The error is a *ValidationError naming the
// field and the rule; it never quotes the credential or any of its values.
func ValidatePasskeyRegistration(registration []byte) error {
	return checkCredential(registration, "response.attestationObject")
}

// ValidatePasskeyAssertion checks assertion, a browser's credential.toJSON()
// after navigator.credentials.get(), as Passkeys.ApproveChallenge does
// before sending it: the rules of ValidatePasskeyRegistration with
// response.authenticatorData and response.signature in place of
// response.attestationObject, and response.userHandle, when set, in
// unpadded base64url.
func ValidatePasskeyAssertion(assertion []byte) error {
	return checkCredential(assertion, "response.authenticatorData", "response.signature")
}

// The rules a credential can break. Fixed texts: a rule never carries a
// value of the credential.
const (
	ruleCredentialRequired = "is required: the browser's credential.toJSON(), as it is"
	ruleCredentialSize     = "must be at most 65536 bytes (MaxPasskeyCredentialBytes)"
	ruleCredentialObject   = "must be one JSON object: the browser's credential.toJSON(), as it is"
	ruleRequired           = "is required"
	ruleString             = "must be a JSON string"
	ruleObject             = "must be a JSON object"
	ruleBase64URL          = "must be unpadded base64url (A-Z, a-z, 0-9, - and _), as credential.toJSON() encodes it"
	rulePublicKey          = `must be "public-key"`
	ruleAttachment         = "must be platform or cross-platform when set"
)

// checkCredential applies the rules common to both ceremonies, then
// requires each of the named base64url members of response.
func checkCredential(b []byte, responseFields ...string) error {
	switch {
	case len(b) == 0:
		return &ValidationError{Field: "credential", Rule: ruleCredentialRequired}
	case len(b) > MaxPasskeyCredentialBytes:
		return &ValidationError{Field: "credential", Rule: ruleCredentialSize}
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || top == nil {
		return &ValidationError{Field: "credential", Rule: ruleCredentialObject}
	}
	for _, field := range []string{"id", "rawId"} {
		if err := checkBase64URLMember(top, "", field, true); err != nil {
			return err
		}
	}
	typ, err := stringMember(top, "", "type", true)
	if err != nil {
		return err
	}
	if typ != "public-key" {
		return &ValidationError{Field: "type", Rule: rulePublicKey}
	}
	attachment, err := stringMember(top, "", "authenticatorAttachment", false)
	if err != nil {
		return err
	}
	if attachment != "" && attachment != string(AuthenticatorPlatform) && attachment != string(AuthenticatorCrossPlatform) {
		return &ValidationError{Field: "authenticatorAttachment", Rule: ruleAttachment}
	}
	raw, ok := top["response"]
	if !ok || string(raw) == "null" {
		return &ValidationError{Field: "response", Rule: ruleRequired}
	}
	var response map[string]json.RawMessage
	if json.Unmarshal(raw, &response) != nil || response == nil {
		return &ValidationError{Field: "response", Rule: ruleObject}
	}
	for _, field := range append([]string{"response.clientDataJSON"}, responseFields...) {
		if err := checkBase64URLMember(response, "response.", field[len("response."):], true); err != nil {
			return err
		}
	}
	return checkBase64URLMember(response, "response.", "userHandle", false)
}

// stringMember is member name of m as a string; "" when it is absent or
// null and not required. prefix is the path of m in the credential.
func stringMember(m map[string]json.RawMessage, prefix, name string, required bool) (string, error) {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", &ValidationError{Field: prefix + name, Rule: ruleRequired}
		}
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", &ValidationError{Field: prefix + name, Rule: ruleString}
	}
	return s, nil
}

// checkBase64URLMember requires member name of m, when set (always when
// required), to be a non-empty unpadded base64url string.
func checkBase64URLMember(m map[string]json.RawMessage, prefix, name string, required bool) error {
	s, err := stringMember(m, prefix, name, required)
	switch {
	case err != nil:
		return err
	case s == "" && required:
		return &ValidationError{Field: prefix + name, Rule: ruleRequired}
	case !isBase64URL(s):
		return &ValidationError{Field: prefix + name, Rule: ruleBase64URL}
	}
	return nil
}

// isBase64URL reports whether s is unpadded base64url: its alphabet only,
// and a length a whole number of bytes encodes to (never 1 more than a
// multiple of 4).
func isBase64URL(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
