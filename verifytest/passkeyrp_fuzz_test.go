package verifytest

import (
	"bytes"
	"encoding/base64"
	"slices"
	"testing"
)

// FuzzParseRegistration feeds VerifyFactor's credential parser any body:
// it never panics, and it either refuses with a 400 naming the request or
// the attestation object, or returns a credential whose id is its rawId.
func FuzzParseRegistration(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		parsed, err := parseRegistration(body)
		if err != nil {
			if parsed != nil || err.status != 400 || !slices.Contains([]int{codeInvalidRequest, codeAttestation}, err.code) {
				t.Fatalf("refusal %d %d %q with a result %v", err.status, err.code, err.message, parsed != nil)
			}
			return
		}
		if len(parsed.RawID) == 0 || parsed.ID != base64.RawURLEncoding.EncodeToString(parsed.RawID) {
			t.Fatalf("accepted a credential whose id %q is not its rawId %x", parsed.ID, parsed.RawID)
		}
		if parsed.Response.AttestationObject.RawAuthData == nil {
			t.Fatal("accepted a credential without authenticator data")
		}
	})
}

// FuzzParseAssertion feeds ApproveChallenge's assertion parser any body:
// it never panics, and it either refuses with a 400 naming the field at
// fault, or returns an assertion with a signature and the clientDataJSON's
// challenge.
func FuzzParseAssertion(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		parsed, err := parseAssertion(body)
		if err != nil {
			codes := []int{codeInvalidRequest, codeAuthenticatorData, codeSignatureMissing, codeContactID}
			if parsed != nil || err.status != 400 || !slices.Contains(codes, err.code) {
				t.Fatalf("refusal %d %d %q with a result %v", err.status, err.code, err.message, parsed != nil)
			}
			return
		}
		if len(parsed.RawID) == 0 || len(parsed.Response.Signature) == 0 {
			t.Fatalf("accepted an assertion without rawId or signature: %q", body)
		}
		if !bytes.Contains(parsed.Raw.AssertionResponse.ClientDataJSON, []byte(parsed.Response.CollectedClientData.Challenge)) {
			t.Fatalf("the parsed challenge %q is not the clientDataJSON's", parsed.Response.CollectedClientData.Challenge)
		}
	})
}
