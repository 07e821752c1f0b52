package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
)

// passkeyAnswer is a browser's credential.toJSON() as this server checks
// it and forwards it to Verify: the members WebAuthn names, by their exact
// names, and the challenge its clientDataJSON says the authenticator
// signed. The challenge check and Verify read the same bytes, and an
// answer with a member spelled in another case or given twice (which
// encoding/json and the API could read differently) is refused, so no
// answer can show the check one challenge and Verify another.
type passkeyAnswer struct {
	body      json.RawMessage // what goes to Verify
	challenge string          // base64url, as the browser wrote it
}

// The members of a credential's toJSON(), registration and assertion:
// the rest is dropped.
var (
	credentialMembers = []string{"id", "rawId", "type", "authenticatorAttachment", "clientExtensionResults", "response"}
	responseMembers   = []string{"clientDataJSON", "authenticatorData", "signature", "userHandle",
		"attestationObject", "transports", "publicKeyAlgorithm", "publicKey"}
)

// readPasskeyAnswer rebuilds body, a credential's toJSON(), from its known
// members and reads the challenge it signed; ok is false when body is no
// JSON object with a response whose clientDataJSON names a challenge.
func readPasskeyAnswer(body []byte) (a passkeyAnswer, ok bool) {
	top, ok := exactMembers(body, credentialMembers)
	if !ok {
		return passkeyAnswer{}, false
	}
	response, ok := exactMembers(top["response"], responseMembers)
	if !ok {
		return passkeyAnswer{}, false
	}
	var encoded string
	if json.Unmarshal(response["clientDataJSON"], &encoded) != nil {
		return passkeyAnswer{}, false
	}
	clientData, err := base64.RawURLEncoding.Strict().DecodeString(encoded)
	if err != nil {
		return passkeyAnswer{}, false
	}
	data, ok := exactMembers(clientData, []string{"challenge"})
	if !ok || json.Unmarshal(data["challenge"], &a.challenge) != nil || a.challenge == "" {
		return passkeyAnswer{}, false
	}
	if top["response"], err = marshalAsIs(response); err != nil {
		return passkeyAnswer{}, false
	}
	if a.body, err = marshalAsIs(top); err != nil {
		return passkeyAnswer{}, false
	}
	return a, true
}

// marshalAsIs is members as a JSON object, its values as they came:
// without json.Marshal's HTML escaping, which could make them six times
// longer.
func marshalAsIs(members map[string]json.RawMessage) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(members); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// exactMembers are the members of the JSON object b whose names are
// exactly one of names. ok is false when b is no JSON object, or names a
// member twice, or has a member whose name differs from one of names in
// case only: readers that match names exactly and readers that do not
// (encoding/json), or that keep the first of two and those that keep the
// last, would read such an object differently.
func exactMembers(b []byte, names []string) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	kept := make(map[string]json.RawMessage, len(names))
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		name, isName := tok.(string)
		var value json.RawMessage
		if err != nil || !isName || seen[name] || dec.Decode(&value) != nil {
			return nil, false
		}
		seen[name] = true
		for _, known := range names {
			switch {
			case name == known:
				kept[name] = value
			case strings.EqualFold(name, known):
				return nil, false
			}
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // something after the object
	}
	return kept, true
}

// sameChallenge reports whether a and b are the same challenge, written
// the one way strict base64url writes its bytes, unpadded or with exactly
// the padding it needs, and not empty.
func sameChallenge(a, b string) bool {
	a, okA := unpadded(a)
	b, okB := unpadded(b)
	if !okA || !okB || a == "" || a != b || strings.ContainsAny(a, "\r\n") {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(a)
	return err == nil
}

// unpadded is s without its = padding; ok is false when s has padding it
// does not need (base64 pads to a multiple of 4 characters, no further).
func unpadded(s string) (string, bool) {
	t := strings.TrimRight(s, "=")
	pad := len(s) - len(t)
	return t, pad == 0 || pad == (4-len(t)%4)%4
}
