package main

import (
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
	f.Add([]byte(`[1,2]`), "AA\nAA")
	f.Fuzz(func(t *testing.T, body []byte, challenge string) {
		if sameChallenge(body2s(body), challenge) != sameChallenge(challenge, body2s(body)) {
			t.Fatal("sameChallenge is not symmetric")
		}
		if sameChallenge(challenge, challenge) {
			trimmed := strings.TrimRight(challenge, "=")
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
