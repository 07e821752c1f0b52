package verify_test

import (
	"encoding/json"
	"errors"
	"fmt"

	verify "github.com/verifykit/verify-go"
)

// The options of a passkey challenge as Verify sends them, and as the
// browser's parseRequestOptionsFromJSON() takes them.
func ExamplePasskeyRequestOptions_BrowserJSON() {
	answer := []byte(`{"sid":"YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"pending","options":{"publicKey":{
		"challenge":"WUYwNDhk","rpId":"example.com","timeout":300000,"userVerification":"preferred","allowCredentials":[]}}}`)
	var ch verify.PasskeyChallenge
	if err := json.Unmarshal(answer, &ch); err != nil {
		panic(err)
	}
	fmt.Println(ch.Options.RPID, ch.Options.Timeout, ch.Options.UserVerification)
	browser, err := ch.Options.BrowserJSON()
	if err != nil {
		panic(err)
	}
	fmt.Println(string(browser))
	// Output:
	// example.com 5m0s preferred
	// {"allowCredentials":[],"challenge":"WUYwNDhk","rpId":"example.com","timeout":300000,"userVerification":"preferred"}
}

// A credential is checked before it is sent; the error names the member
// and the rule, never a value.
func ExampleValidatePasskeyAssertion() {
	assertion := []byte(`{"id":"4mW29WRg","rawId":"4mW29WRg","type":"public-key",
		"response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0","authenticatorData":"o3mm9u6v","signature":"MEUC+secret/=="}}`)
	err := verify.ValidatePasskeyAssertion(assertion)
	var invalid *verify.ValidationError
	fmt.Println(errors.As(err, &invalid), invalid.Field)
	fmt.Println(err)
	// Output:
	// true response.signature
	// verify: invalid response.signature: must be unpadded base64url (A-Z, a-z, 0-9, - and _), as credential.toJSON() encodes it
}
