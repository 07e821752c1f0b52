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
	return checkCredential(registration, false)
}

// ValidatePasskeyAssertion checks assertion, a browser's credential.toJSON()
// after navigator.credentials.get(), as Passkeys.ApproveChallenge does
// before sending it: the rules of ValidatePasskeyRegistration with
// response.authenticatorData and response.signature in place of
// response.attestationObject, and response.userHandle, when set, in
// unpadded base64url.
func ValidatePasskeyAssertion(assertion []byte) error {
	return checkCredential(assertion, true)
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

// checkCredential applies the rules common to both ceremonies, then those
// of a registration or (assertion) of an assertion. Members are matched by
// their exact names, as the API matches them; the last of a repeated one
// counts.
func checkCredential(b []byte, assertion bool) error {
	switch {
	case len(b) == 0:
		return &ValidationError{Field: "credential", Rule: ruleCredentialRequired}
	case len(b) > MaxPasskeyCredentialBytes:
		return &ValidationError{Field: "credential", Rule: ruleCredentialSize}
	case !json.Valid(b) || !isObject(b):
		return &ValidationError{Field: "credential", Rule: ruleCredentialObject}
	}
	var id, rawID, typ, attachment, response []byte
	eachMember(b, func(key, value []byte) {
		switch string(key) {
		case "id":
			id = value
		case "rawId":
			rawID = value
		case "type":
			typ = value
		case "authenticatorAttachment":
			attachment = value
		case "response":
			response = value
		}
	})
	if err := checkBase64URLMember("id", id, true); err != nil {
		return err
	}
	if err := checkBase64URLMember("rawId", rawID, true); err != nil {
		return err
	}
	switch text, err := stringMember("type", typ, true); {
	case err != nil:
		return err
	case string(text) != "public-key":
		return &ValidationError{Field: "type", Rule: rulePublicKey}
	}
	switch text, err := stringMember("authenticatorAttachment", attachment, false); {
	case err != nil:
		return err
	case len(text) > 0 && string(text) != string(AuthenticatorPlatform) && string(text) != string(AuthenticatorCrossPlatform):
		return &ValidationError{Field: "authenticatorAttachment", Rule: ruleAttachment}
	}
	switch {
	case len(response) == 0 || string(response) == "null":
		return &ValidationError{Field: "response", Rule: ruleRequired}
	case response[0] != '{':
		return &ValidationError{Field: "response", Rule: ruleObject}
	}
	var clientData, attestation, authData, signature, userHandle []byte
	eachMember(response, func(key, value []byte) {
		switch string(key) {
		case "clientDataJSON":
			clientData = value
		case "attestationObject":
			attestation = value
		case "authenticatorData":
			authData = value
		case "signature":
			signature = value
		case "userHandle":
			userHandle = value
		}
	})
	if err := checkBase64URLMember("response.clientDataJSON", clientData, true); err != nil {
		return err
	}
	if !assertion {
		return checkBase64URLMember("response.attestationObject", attestation, true)
	}
	if err := checkBase64URLMember("response.authenticatorData", authData, true); err != nil {
		return err
	}
	if err := checkBase64URLMember("response.signature", signature, true); err != nil {
		return err
	}
	return checkBase64URLMember("response.userHandle", userHandle, false)
}

// eachMember calls member with the name (unescaped) and the value of each
// member of b, a valid JSON object, in order.
func eachMember(b []byte, member func(key, value []byte)) {
	i := skipSpace(b, 0) + 1 // past '{'
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == '}' {
			return
		}
		end := skipValue(b, i)
		key := b[i:end]
		if text, ok := plainString(key); ok && len(text) == len(key)-2 {
			key = text
		} else {
			var s string
			_ = json.Unmarshal(key, &s) // valid JSON: a string
			key = []byte(s)
		}
		i = skipSpace(b, end) + 1 // past ':'
		i = skipSpace(b, i)
		end = skipValue(b, i)
		member(key, b[i:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

// skipValue is the index just past the JSON value that starts at b[i], in
// valid JSON.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
			continue
		case '}', ']':
			depth--
		case ',', ':', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i
			}
			continue
		default:
			if depth == 0 && i+1 < len(b) && !isLiteralByte(b[i+1]) {
				return i + 1
			}
			continue
		}
		if depth == 0 {
			return i + 1
		}
	}
	return i
}

// isLiteralByte reports whether c may continue a number, true, false or null.
func isLiteralByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '.' || c == '-' || c == '+' || c == 'E'
}

// isObject reports whether the JSON value b is an object.
func isObject(b []byte) bool {
	i := skipSpace(b, 0)
	return i < len(b) && b[i] == '{'
}

// stringMember is the text of a member that must be a JSON string; empty
// when it is absent or null and not required. Plain strings are read in
// place; those with escapes are unescaped.
func stringMember(field string, raw json.RawMessage, required bool) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return nil, &ValidationError{Field: field, Rule: ruleRequired}
		}
		return nil, nil
	}
	if text, ok := plainString(raw); ok && len(text) == len(raw)-2 {
		return text, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, &ValidationError{Field: field, Rule: ruleString}
	}
	return []byte(s), nil
}

// checkBase64URLMember requires a member, when set (always when required),
// to be a non-empty unpadded base64url string.
func checkBase64URLMember(field string, raw json.RawMessage, required bool) error {
	s, err := stringMember(field, raw, required)
	switch {
	case err != nil:
		return err
	case len(s) == 0 && required:
		return &ValidationError{Field: field, Rule: ruleRequired}
	case !isBase64URL(s):
		return &ValidationError{Field: field, Rule: ruleBase64URL}
	}
	return nil
}

// isBase64URL reports whether s is unpadded base64url: its alphabet only,
// and a length a whole number of bytes encodes to (never 1 more than a
// multiple of 4).
func isBase64URL(s []byte) bool {
	if len(s)%4 == 1 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
