package verify

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCreatePushSendsExactFormAndDecodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("POST", listURL, jsonResponder(t, 201, "create_push.json"))

	exp := time.Now().Add(10 * time.Minute).In(time.FixedZone("CEST", 2*3600)).Truncate(time.Second)
	ch, err := h.client.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{
		FactorSID:      testFactor,
		ExpirationDate: exp,
		Details: &Details{
			Message: "Hi! Mr. John Doe, would you like to sign up?",
			Fields:  []Field{{Label: "Action", Value: "Sign up in portal"}, {Label: "Location", Value: "<Paris & Co>"}},
		},
		HiddenDetails: NewSecretMap(map[string]string{"ip": "172.168.1.234", "ua": "curl"}),
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	s := h.only()
	wantMethodPath(t, s, "POST", listPath)
	wantForm(t, s.Form, url.Values{
		"FactorSid":       {testFactor},
		"ExpirationDate":  {exp.UTC().Format("2006-01-02T15:04:05Z")},
		"Details.Message": {"Hi! Mr. John Doe, would you like to sign up?"},
		"Details.Fields": {
			`{"label":"Action","value":"Sign up in portal"}`,
			`{"label":"Location","value":"<Paris & Co>"}`,
		},
		"HiddenDetails": {`{"ip":"172.168.1.234","ua":"curl"}`},
	})
	if got := s.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testAccount+":"+testToken))
	if got := s.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization = %q, want basic auth of account SID and token", got)
	}
	wantUA := "verify-go/" + Version + " (" + runtime.GOOS + " " + runtime.GOARCH + ") go/"
	if ua := s.Header.Get("User-Agent"); !strings.HasPrefix(ua, wantUA) {
		t.Errorf("User-Agent = %q, want prefix %q", ua, wantUA)
	}

	if ch.SID != "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || ch.FactorType != FactorTypePush || !ch.Status.IsPending() {
		t.Errorf("decoded %s %s %s", ch.SID, ch.FactorType, ch.Status)
	}
	if ch.Details.Message != "Hi! Mr. John Doe, would you like to sign up?" ||
		len(ch.Details.Fields) != 1 || ch.Details.Fields[0] != (Field{"Action", "Sign up in portal"}) {
		t.Errorf("details = %+v", ch.Details)
	}
	if !ch.Details.Date.Equal(mustTime(t, "2020-07-01T12:13:14Z")) {
		t.Errorf("details date = %v", ch.Details.Date)
	}
	if ch.HiddenDetails.Reveal()["ip"] != "172.168.1.234" || ch.Metadata != nil {
		t.Errorf("hidden %v metadata %v", ch.HiddenDetails, ch.Metadata)
	}
}

func TestCreateTOTPWithAuthPayload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("POST", listURL, jsonResponder(t, 201, "create_totp.json"))
	ch, err := h.client.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{
		FactorSID: "YF02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", AuthPayload: NewSecret("123456"),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantForm(t, h.only().Form, url.Values{"FactorSid": {"YF02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "AuthPayload": {"123456"}})
	if ch.FactorType != FactorTypeTOTP || ch.SID != "YC02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
		t.Errorf("decoded %s %s", ch.FactorType, ch.SID)
	}
}

func TestFetchDecodesEveryField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("GET", oneURL, jsonResponder(t, 200, "fetch.json"))
	ch, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
	if err != nil {
		t.Fatal(err)
	}
	s := h.only()
	wantMethodPath(t, s, "GET", listPath+"/"+testChallenge)
	if s.URL.RawQuery != "" {
		t.Errorf("query = %q, want none", s.URL.RawQuery)
	}
	want := Challenge{
		SID: "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", AccountSID: testAccount, ServiceSID: testService,
		EntitySID: "YEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Identity: testIdentity, FactorSID: "YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		DateCreated: mustTime(t, "2015-07-30T20:00:00Z"), DateUpdated: mustTime(t, "2015-07-30T20:00:00Z"),
		DateResponded: mustTime(t, "2015-07-30T20:00:00Z"), ExpirationDate: mustTime(t, "2015-07-30T20:00:00Z"),
		Status: StatusApproved, RespondedReason: ReasonNone, FactorType: FactorTypePush,
		URL:   apiBase + listPath + "/YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		Links: Links{Notifications: apiBase + listPath + "/YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Notifications"},
	}
	got := *ch
	got.Details, got.HiddenDetails, got.Metadata = Details{}, SecretMap{}, nil
	if !equalChallenge(got, want) {
		t.Errorf("decoded\n %+v\nwant\n %+v", got, want)
	}
	if ch.Metadata["os"] != "Android" || ch.HiddenDetails.Reveal()["ip"] != "172.168.1.234" {
		t.Errorf("maps: %v %v", ch.Metadata, ch.HiddenDetails)
	}
}

func equalChallenge(a, b Challenge) bool {
	return a.SID == b.SID && a.AccountSID == b.AccountSID && a.ServiceSID == b.ServiceSID &&
		a.EntitySID == b.EntitySID && a.Identity == b.Identity && a.FactorSID == b.FactorSID &&
		a.DateCreated.Equal(b.DateCreated) && a.DateUpdated.Equal(b.DateUpdated) &&
		a.DateResponded.Equal(b.DateResponded) && a.ExpirationDate.Equal(b.ExpirationDate) &&
		a.Status == b.Status && a.RespondedReason == b.RespondedReason && a.FactorType == b.FactorType &&
		a.URL == b.URL && a.Links == b.Links
}

func TestDecodeNullsUnknownEnumsAndFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("GET", oneURL, bodyResponder(200, `{
		"sid": "`+testChallenge+`", "status": "snoozed", "responded_reason": "because",
		"factor_type": "passkeys", "details": null, "hidden_details": null, "metadata": null,
		"date_responded": null, "expiration_date": null, "links": null, "brand_new_field": {"x": [1, 2]}}`))
	ch, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
	if err != nil {
		t.Fatalf("unknown values must decode: %v", err)
	}
	if ch.Status != "snoozed" || ch.Status.Known() || ch.RespondedReason != "because" || ch.FactorType != FactorTypePasskeys {
		t.Errorf("enums: %q %q %q", ch.Status, ch.RespondedReason, ch.FactorType)
	}
	if !ch.DateResponded.IsZero() || !ch.ExpirationDate.IsZero() || ch.Details.Message != "" ||
		ch.Details.Fields != nil || ch.HiddenDetails.Reveal() != nil || ch.Metadata != nil {
		t.Errorf("nulls must decode to zero values: %+v", ch)
	}
}

func TestUpdateSendsAuthPayloadAndMetadataOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("POST", oneURL, jsonResponder(t, 200, "update_push.json"))
	ch, err := h.client.Challenges.Update(context.Background(), testService, testIdentity, testChallenge, &UpdateChallengeParams{
		AuthPayload: NewSecret("eyJhbGciOiJFUzI1NiJ9.e30.c2ln"),
		Metadata:    map[string]string{"os": "Android", "quote": `say "hi"`},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := h.only()
	wantMethodPath(t, s, "POST", listPath+"/"+testChallenge)
	wantForm(t, s.Form, url.Values{
		"AuthPayload": {"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"},
		"Metadata":    {`{"os":"Android","quote":"say \"hi\""}`},
	})
	if !ch.Status.IsApproved() || ch.Metadata["os"] != "Android" {
		t.Errorf("decoded %s %v", ch.Status, ch.Metadata)
	}
}

func TestUpdateTOTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("POST", oneURL, jsonResponder(t, 200, "update_totp.json"))
	ch, err := h.client.Challenges.Update(context.Background(), testService, testIdentity, testChallenge, &UpdateChallengeParams{AuthPayload: NewSecret("123456")})
	if err != nil {
		t.Fatal(err)
	}
	wantForm(t, h.only().Form, url.Values{"AuthPayload": {"123456"}})
	if ch.FactorType != FactorTypeTOTP || !ch.Status.IsApproved() {
		t.Errorf("decoded %s %s", ch.FactorType, ch.Status)
	}
}

func TestNotifyTTL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ttl  *time.Duration
		want url.Values
	}{
		{"nil sends nothing", nil, url.Values{}},
		{"zero is sent", Ptr(time.Duration(0)), url.Values{"Ttl": {"0"}}},
		{"150 s", Ptr(150 * time.Second), url.Values{"Ttl": {"150"}}},
		{"5 min", Ptr(5 * time.Minute), url.Values{"Ttl": {"300"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mock.RegisterResponder("POST", notifyURL, jsonResponder(t, 201, "notification.json"))
			n, err := h.client.Challenges.Notify(context.Background(), testService, testIdentity, testChallenge, &NotifyParams{TTL: tc.ttl})
			if err != nil {
				t.Fatal(err)
			}
			s := h.only()
			wantMethodPath(t, s, "POST", listPath+"/"+testChallenge+"/Notifications")
			wantForm(t, s.Form, tc.want)
			if n.SID != "NTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" || n.ChallengeSID != testChallenge || n.TTL != 150*time.Second ||
				n.Priority != "high" || !n.DateCreated.Equal(mustTime(t, "2015-07-30T20:00:00Z")) {
				t.Errorf("decoded %+v", n)
			}
		})
	}
}

func TestAPIErrorJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status, code int
		sentinel     error
	}{
		{404, 20404, ErrNotFound},
		{429, 20429, ErrRateLimited},
		{429, 60308, ErrRateLimited},
		{429, 60309, ErrRateLimited},
		{429, 60312, ErrRateLimited},
		{400, 60306, ErrInvalidRequest},
		{403, 60318, ErrFactorNotVerified},
		{403, 60322, ErrChallengeAlreadyResponded},
		{403, 60323, ErrChallengeExpired},
		{403, 60324, ErrVerificationFailed},
		{401, 20003, ErrUnauthorized},
	} {
		t.Run(tc.sentinel.Error(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, WithMaxRetries(0))
			h.mock.RegisterResponder("POST", oneURL, twilioError(tc.status, tc.code, "nope").
				HeaderAdd(http.Header{"Retry-After": {"7"}}))
			_, err := h.client.Challenges.Update(context.Background(), testService, testIdentity, testChallenge, &UpdateChallengeParams{AuthPayload: NewSecret("123456")})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Status != tc.status || apiErr.Code != tc.code || apiErr.Message != "nope" ||
				apiErr.RequestID != "RQ00000000000000000000000000000000" || apiErr.RetryAfter != 7*time.Second ||
				apiErr.MoreInfo != "https://www.twilio.com/docs/errors/"+strconv.Itoa(tc.code) {
				t.Errorf("APIError = %+v", apiErr)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			if errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("a 4xx answer is a known outcome")
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tc.code)) || !strings.Contains(err.Error(), "RQ0000") {
				t.Errorf("message %q lacks code or request id", err)
			}
		})
	}
}

// TestAPIErrorKeepsWhatIsReadable: an error body with odd field types still
// gives its code and message.
func TestAPIErrorKeepsWhatIsReadable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		code       int
		message    string
		details    map[string]any
	}{
		{"details as text", `{"code":60306,"message":"bad","details":"FactorSid is invalid","status":400}`,
			60306, "bad", map[string]any{"value": "FactorSid is invalid"}},
		{"code as a string", `{"code":"60306","message":"bad","status":"400"}`, 60306, "bad", nil},
		{"code as a float", `{"code":60306.0,"message":"bad"}`, 60306, "bad", nil},
		{"message not a string", `{"code":60306,"message":{"en":"bad"},"more_info":7}`, 60306, "no message (HTTP 400)", nil},
		{"details as an object", `{"code":60306,"message":"bad","details":{"field":"Ttl"}}`, 60306, "bad", map[string]any{"field": "Ttl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, WithMaxRetries(0))
			h.mock.RegisterResponder("GET", oneURL, bodyResponder(400, tc.body))
			_, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.Message != tc.message || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %#v, want code %d and message %q", apiErr, tc.code, tc.message)
			}
			if fmt.Sprint(apiErr.Details) != fmt.Sprint(tc.details) {
				t.Errorf("Details = %v, want %v", apiErr.Details, tc.details)
			}
		})
	}
}

func TestUpdateWithoutAuthPayloadIsRefusedLocally(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, params := range []*UpdateChallengeParams{nil, {}, {Metadata: map[string]string{"os": "ios"}}} {
		_, err := h.client.Challenges.Update(context.Background(), testService, testIdentity, testChallenge, params)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "AuthPayload" || !strings.Contains(ve.Rule, "required") {
			t.Errorf("Update(%+v): err = %v, want a *ValidationError naming AuthPayload", params, err)
		}
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("sent %d requests, want 0", n)
	}
}

func TestAPIErrorHTMLBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithMaxRetries(0))
	h.mock.RegisterResponder("GET", oneURL, httpmock502())
	_, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 502 || apiErr.Code != 0 {
		t.Fatalf("err = %#v, want *APIError with status 502", err)
	}
	if !strings.Contains(apiErr.Message, "text/html") || !apiErr.Temporary() {
		t.Errorf("message %q temporary %v", apiErr.Message, apiErr.Temporary())
	}
}

func TestInvalidJSONOn200(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("GET", oneURL, bodyResponder(200, `{"sid": "YC`))
	_, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
	if !errors.Is(err, ErrInvalidResponse) || len(h.requests()) != 1 {
		t.Fatalf("complete but truncated JSON: err = %v after %d requests, want ErrInvalidResponse after 1", err, len(h.requests()))
	}
	h2 := newHarness(t)
	h2.mock.RegisterResponder("GET", oneURL, bodyResponder(200, `<html>oops</html>`))
	_, err = h2.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
	if !errors.Is(err, ErrInvalidResponse) {
		t.Fatalf("err = %v, want ErrInvalidResponse", err)
	}
	if n := len(h2.requests()); n != 1 {
		t.Errorf("malformed JSON retried: %d requests", n)
	}
}

func TestNilContextIsAnError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	//lint:ignore SA1012 the point is a nil context
	_, err := h.client.Challenges.Fetch(nil, testService, testIdentity, testChallenge) //nolint:staticcheck
	if err == nil || len(h.requests()) != 0 {
		t.Fatalf("err = %v, requests %d", err, len(h.requests()))
	}
}
