package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPasskeyAnswer: reading a browser's passkey answer never panics; what
// it forwards to Verify holds only WebAuthn's members, each once, and reads
// as signing the same challenge whether its names are matched exactly (as
// the API does) or without regard to case (as encoding/json does); reading
// it again changes nothing; a credential built around a challenge gives it
// back; and two challenges match both ways or neither, only when they are
// the same strict base64url, never when empty.
func FuzzPasskeyAnswer(f *testing.F) {
	cd := func(challenge string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"type":"webauthn.get","challenge":"` + challenge + `"}`))
	}
	f.Add([]byte(`{"id":"AAAA","response":{"clientDataJSON":"`+cd("Y2g")+`","signature":"AAAA"}}`), "Y2g")
	f.Add([]byte(`{"response":{"clientDataJSON":"`+cd("Y2g")+`"},"Response":{"clientDataJSON":"`+cd("b3RoZXI")+`"}}`), "b3RoZXI")
	f.Add([]byte(`{"response":{"clientDataJSON":"`+cd("Y2g")+`"},"response":{"clientDataJSON":"`+cd("b3RoZXI")+`"}}`), "Y2g")
	f.Add([]byte(`{"response":{"clientDataJSON":"`+cd("Y2g")+`","ClientDataJSON":"`+cd("b3RoZXI")+`"}}`), "Y2g=")
	f.Add([]byte(`{"response":{"clientDataJSON":"e30"}}`), "")
	for _, data := range []string{`{"challenge":"QUFB","challenge":"QkJC"}`, `{"challenge":"QUFB","Challenge":"QkJC"}`} {
		f.Add([]byte(`{"response":{"clientDataJSON":"`+base64.RawURLEncoding.EncodeToString([]byte(data))+`"}}`), "QUFB")
	}
	f.Add([]byte(`{"response":{"clientDataJSON":"`+cd("QUFB")+`","clientDataJSON":"`+cd("QkJC")+`"}}`), "QkJC")
	f.Add([]byte(`{"response":{"clientDataJSON":"`+cd("Y2g")+`"},"id":"<&>"}`), "Y2g==")
	f.Add([]byte(`[1,2]`), "AA\nAA")
	f.Fuzz(func(t *testing.T, body []byte, challenge string) {
		if sameChallenge(body2s(body), challenge) != sameChallenge(challenge, body2s(body)) {
			t.Fatal("sameChallenge is not symmetric")
		}
		if sameChallenge(challenge, challenge) {
			trimmed := strings.TrimRight(challenge, "=")
			if pad := len(challenge) - len(trimmed); pad != 0 && (len(trimmed)+pad)%4 != 0 || pad > 2 {
				t.Fatalf("%q matches itself with padding base64 never writes", challenge)
			}
			if b, err := base64.RawURLEncoding.Strict().DecodeString(trimmed); err != nil || len(b) == 0 || base64.RawURLEncoding.EncodeToString(b) != trimmed {
				t.Fatalf("%q matches itself but is not strict unpadded base64url", challenge)
			}
		}
		if a, ok := readPasskeyAnswer(body); ok {
			checkForwarded(t, a)
		}
		if !utf8.ValidString(challenge) {
			return // JSON cannot carry it as it is
		}
		data, _ := json.Marshal(map[string]string{"type": "webauthn.get", "challenge": challenge})
		built, _ := json.Marshal(map[string]any{"response": map[string]string{"clientDataJSON": base64.RawURLEncoding.EncodeToString(data)}})
		if a, ok := readPasskeyAnswer(built); (challenge != "") != ok || (ok && a.challenge != challenge) {
			t.Fatalf("a credential signing %q reads as signing %q (%v)", challenge, a.challenge, ok)
		}
	})
}

// body2s is the fuzzer's body as a string, a second challenge to compare.
func body2s(b []byte) string { return string(b) }

// checkForwarded checks what readPasskeyAnswer forwards to Verify.
func checkForwarded(t *testing.T, a passkeyAnswer) {
	t.Helper()
	var top, response map[string]json.RawMessage
	if json.Unmarshal(a.body, &top) != nil || json.Unmarshal(top["response"], &response) != nil {
		t.Fatalf("forwards %s: not an object with a response", a.body)
	}
	for name := range top {
		if !slices.Contains(credentialMembers, name) {
			t.Fatalf("forwards the member %q", name)
		}
	}
	for name := range response {
		if !slices.Contains(responseMembers, name) {
			t.Fatalf("forwards the response member %q", name)
		}
	}
	for _, keep := range []string{"first", "last"} {
		if got := exactChallenge(a.body, keep == "first"); got != a.challenge {
			t.Fatalf("checked challenge %q; an exact-name reader keeping the %s of two finds %q in %s", a.challenge, keep, got, a.body)
		}
	}
	var loose struct {
		Response struct{ ClientDataJSON string }
	}
	if json.Unmarshal(a.body, &loose) != nil {
		t.Fatalf("forwards %s, which encoding/json cannot read", a.body)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(loose.Response.ClientDataJSON)
	var data struct{ Challenge string }
	if json.Unmarshal(raw, &data) != nil || data.Challenge != a.challenge {
		t.Fatalf("checked challenge %q; a case-blind reader of what is forwarded finds %q", a.challenge, data.Challenge)
	}
	again, ok := readPasskeyAnswer(a.body)
	if !ok || string(again.body) != string(a.body) || again.challenge != a.challenge {
		t.Fatalf("reading %s again gives %s, %q", a.body, again.body, again.challenge)
	}
}

// exactChallenge reads the challenge of a forwarded answer as a reader
// that matches names exactly does, keeping the first of two members of a
// name when first is set, the last otherwise; "" when it finds none.
func exactChallenge(body []byte, first bool) string {
	member := func(b []byte, name string) []byte {
		dec := json.NewDecoder(bytes.NewReader(b))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil
		}
		var found []byte
		for dec.More() {
			tok, err := dec.Token()
			var v json.RawMessage
			if err != nil || dec.Decode(&v) != nil {
				return nil
			}
			if tok == name && (found == nil || !first) {
				found = v
			}
		}
		return found
	}
	var encoded, challenge string
	if json.Unmarshal(member(member(body, "response"), "clientDataJSON"), &encoded) != nil {
		return ""
	}
	data, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil || json.Unmarshal(member(data, "challenge"), &challenge) != nil {
		return ""
	}
	return challenge
}

// TestSameChallenge: challenges match only as base64url writes them.
func TestSameChallenge(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"Y2g", "Y2g", true}, {"Y2g=", "Y2g", true}, {"QUFB", "QUFB", true},
		{"Y2g==", "Y2g", false}, {"QUFB=", "QUFB", false}, {"Y2g=======", "Y2g", false},
		{"AA", "AB", false}, {"AAAA", "AA\nAA", false}, {"Y2g", "Y2h", false}, {"", "", false}, {"Y2+", "Y2+", false},
	} {
		if got := sameChallenge(c.a, c.b); got != c.want {
			t.Errorf("sameChallenge(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
