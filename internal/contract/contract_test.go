package contract

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const base = "https://verify.twilio.com/v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Entities/ff483d1ff591898a9942916050d2ca3f/Challenges"

func post(t *testing.T, u string, form url.Values) *http.Request {
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func TestContractRejectsWhatTheSpecForbids(t *testing.T) {
	spec, err := Load("../../testdata/verify_v2_challenges.json")
	if err != nil {
		t.Fatal(err)
	}
	good := post(t, base, url.Values{"FactorSid": {"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"Details.Fields": {`{"label":"a","value":"b"}`}, "HiddenDetails": {`{"ip":"1"}`}})
	if err := spec.CheckRequest(good); err != nil {
		t.Fatalf("valid create rejected: %v", err)
	}
	get, _ := http.NewRequest("GET", base+"?PageSize=1000&Status=pending", nil)
	if err := spec.CheckRequest(get); err != nil {
		t.Fatalf("valid list rejected: %v", err)
	}
	bad := map[string]*http.Request{
		"missing FactorSid":      post(t, base, url.Values{"AuthPayload": {"123"}}),
		"bad FactorSid":          post(t, base, url.Values{"FactorSid": {"YFzz"}}),
		"double-encoded map":     post(t, base, url.Values{"FactorSid": {"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "HiddenDetails": {`"{\"ip\":\"1\"}"`}}),
		"field not an object":    post(t, base, url.Values{"FactorSid": {"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "Details.Fields": {`["a","b"]`}}),
		"ttl not an integer":     post(t, base+"/YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Notifications", url.Values{"Ttl": {"soon"}}),
		"unknown path":           post(t, base+"/YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Other", url.Values{}),
		"bad challenge sid":      post(t, base+"/XX", url.Values{}),
		"metadata sent twice":    post(t, base+"/YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", url.Values{"Metadata": {`{}`, `{}`}}),
		"page size out of range": mustGet(t, base+"?PageSize=1001"),
		"unknown status filter":  mustGet(t, base+"?Status=snoozed"),
	}
	for name, req := range bad {
		if err := spec.CheckRequest(req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestContractChecksVerificationJSONFields: the JSON-valued parameters of
// a verification are each one object, encoded once.
func TestContractChecksVerificationJSONFields(t *testing.T) {
	spec, err := Load("../../testdata/verify_v2_verifications.json")
	if err != nil {
		t.Fatal(err)
	}
	const verifications = "https://verify.twilio.com/v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Verifications"
	with := func(key, value string) *http.Request {
		return post(t, verifications, url.Values{"To": {"+15017122661"}, "Channel": {"email"}, key: {value}})
	}
	for _, key := range []string{"RateLimits", "TemplateCustomSubstitutions", "Tags", "ChannelConfiguration"} {
		if err := spec.CheckRequest(with(key, `{"k":"v"}`)); err != nil {
			t.Errorf("%s as one object rejected: %v", key, err)
		}
		for name, value := range map[string]string{"double-encoded": `"{\"k\":\"v\"}"`, "not JSON": `{k:v}`, "null": `null`, "a list": `["k"]`} {
			if err := spec.CheckRequest(with(key, value)); err == nil {
				t.Errorf("%s %s accepted", key, name)
			}
		}
	}
	nested := with("ChannelConfiguration", `{"substitutions":{"name":"Ada"},"n":1}`)
	if err := spec.CheckRequest(nested); err != nil {
		t.Errorf("nested ChannelConfiguration rejected: %v", err)
	}
	if err := spec.CheckRequest(with("Tags", `{"n":1}`)); err == nil {
		t.Error("Tags with a number value accepted")
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestContractChecksJSONBodies: the Passkeys endpoints take JSON, checked
// against their schemas; a form sent there is refused.
func TestContractChecksJSONBodies(t *testing.T) {
	spec, err := Load("../../testdata/verify_v2_passkeys.json")
	if err != nil {
		t.Fatal(err)
	}
	const service = "https://verify.twilio.com/v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Passkeys/"
	jsonPost := func(path, body string) *http.Request {
		req, err := http.NewRequest("POST", service+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	const assertion = `{"id":"abc","rawId":"abc","authenticatorAttachment":"platform","type":"public-key",
		"response":{"authenticatorData":"YQ","clientDataJSON":"YQ","signature":"YQ"}}`
	good := map[string]*http.Request{
		"factor":             jsonPost("Factors", `{"friendly_name":"laptop","identity":"ff483d1ff591898a9942916050d2ca3f","config":{"user_verification":"required"}}`),
		"usernameless":       jsonPost("Challenges", `{}`),
		"challenge":          jsonPost("Challenges", `{"identity":"ff483d1ff591898a9942916050d2ca3f","factor_sid":"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`),
		"assertion":          jsonPost("ApproveChallenge", assertion),
		"registration":       jsonPost("VerifyFactor", `{"id":"abc","rawId":"abc","type":"public-key","response":{"attestationObject":"YQ","clientDataJSON":"YQ"}}`),
		"unknown members ok": jsonPost("VerifyFactor", `{"response":{},"clientExtensionResults":{}}`),
	}
	for name, req := range good {
		if err := spec.CheckRequest(req); err != nil {
			t.Errorf("%s rejected: %v", name, err)
		}
	}
	form := jsonPost("Challenges", "Identity=ff483d1ff591898a9942916050d2ca3f")
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	bad := map[string]*http.Request{
		"factor without identity":  jsonPost("Factors", `{"friendly_name":"laptop"}`),
		"unknown attachment":       jsonPost("Factors", `{"friendly_name":"a","identity":"b","config":{"authenticator_attachment":"usb"}}`),
		"origins not a list":       jsonPost("Factors", `{"friendly_name":"a","identity":"b","config":{"relying_party":{"origins":"https://a"}}}`),
		"assertion without id":     jsonPost("ApproveChallenge", strings.Replace(assertion, `"id":"abc",`, "", 1)),
		"assertion without sig":    jsonPost("ApproveChallenge", strings.Replace(assertion, `,"signature":"YQ"`, "", 1)),
		"registration no response": jsonPost("VerifyFactor", `{"id":"abc"}`),
		"another credential type":  jsonPost("VerifyFactor", `{"type":"password","response":{}}`),
		"not JSON":                 jsonPost("Challenges", `{identity:`),
		"a form":                   form,
	}
	for name, req := range bad {
		if err := spec.CheckRequest(req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
