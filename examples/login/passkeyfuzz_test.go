package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSignedChallenge: reading the challenge a browser's answer signed
// never panics and gives back the challenge a credential carries; two
// challenges match both ways or neither, and only when they are the same
// bytes, never when empty.
func FuzzSignedChallenge(f *testing.F) {
	f.Add([]byte(`{"response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiWTJnIn0"}}`), "Y2g")
	f.Add([]byte(`{"response":{"clientDataJSON":"e30"}}`), "")
	f.Add([]byte(`{"response":{"clientDataJSON":"not base64!"}}`), "Y2g=")
	f.Add([]byte(`[1,2]`), "AAAA")
	f.Fuzz(func(t *testing.T, credential []byte, challenge string) {
		got := signedChallenge(credential)
		if sameChallenge(got, challenge) != sameChallenge(challenge, got) {
			t.Fatalf("sameChallenge(%q, %q) is not symmetric", got, challenge)
		}
		if sameChallenge(got, challenge) {
			a, errA := base64.RawURLEncoding.DecodeString(strings.TrimRight(got, "="))
			b, errB := base64.RawURLEncoding.DecodeString(strings.TrimRight(challenge, "="))
			if errA != nil || errB != nil || len(a) == 0 || !bytes.Equal(a, b) {
				t.Fatalf("%q and %q match but are not the same bytes", got, challenge)
			}
		}
		if !utf8.ValidString(challenge) {
			return // JSON cannot carry it as it is
		}
		data, _ := json.Marshal(map[string]string{"type": "webauthn.get", "challenge": challenge})
		built, _ := json.Marshal(map[string]any{"response": map[string]string{"clientDataJSON": base64.RawURLEncoding.EncodeToString(data)}})
		if back := signedChallenge(built); back != challenge {
			t.Fatalf("a credential signing %q reads as signing %q", challenge, back)
		}
	})
}
