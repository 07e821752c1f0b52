package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verify-go/internal/twiliosig"
)

const hookURL = "https://example.com/hooks/verify"

// wrongSignature has the shape of a signature, the base64 of 20 bytes, and
// verifies nothing.
const wrongSignature = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="

// Values that must never show up in an error or a response.
const (
	hookSecretHidden   = "s3cr3t-hidden-value-7f3a"
	hookSecretMetadata = "s3cr3t-metadata-value-91bc"
	hookSecretMessage  = "s3cr3t-message-value-22de"
)

// eventForm is a challenge.approved delivery as a form, every field set.
func eventForm() url.Values {
	return url.Values{
		"uuid":                     {"3a1c1b1e-0000-4000-8000-000000000001"},
		"type":                     {"challenge.approved"},
		"account_sid":              {testAccount},
		"service_sid":              {testService},
		"entity_identity":          {testIdentity},
		"factor_sid":               {testFactor},
		"factor_type":              {"push"},
		"factor_friendly_name":     {"Ada's phone"},
		"challenge_sid":            {testChallenge},
		"challenge_status":         {"approved"},
		"challenge_details":        {`{"message":"` + hookSecretMessage + `","date":"2026-01-02T03:04:05Z","fields":[{"label":"IP","value":"10.0.0.1"}]}`},
		"challenge_hidden_details": {`{"ip":"` + hookSecretHidden + `"}`},
		"challenge_metadata":       {`{"os":"` + hookSecretMetadata + `"}`},
		"date_created":             {testEventDate},
		"x_future_field":           {"kept"},
	}
}

// testEventDate is a recent date_created, so fixtures are never stale.
var testEventDate = time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)

// formRequest is a POST of form to target, signed with token for target.
func formRequest(target string, form url.Values, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(SignatureHeader, signWebhook(token, target, form))
	return r
}

// signWebhook and signWebhookJSON play Twilio in the tests, as
// verifytest's SignWebhook and SignWebhookJSON do for users.
func signWebhook(token, rawURL string, form url.Values) string {
	return twiliosig.Sign(token, rawURL, form)
}

func signWebhookJSON(token, rawURL string, body []byte) (deliveryURL, signature string) {
	return twiliosig.SignJSON(token, rawURL, body)
}

// jsonRequest is a POST of body to target, signed through bodySHA256.
func jsonRequest(target, body, token string) *http.Request {
	delivery, sig := signWebhookJSON(token, target, []byte(body))
	r := httptest.NewRequest(http.MethodPost, delivery, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set(SignatureHeader, sig)
	return r
}

func testConfig() WebhookConfig {
	return WebhookConfig{AuthTokens: Secrets(testToken)}
}

func wantApprovedEvent(t *testing.T, ev *Event) {
	t.Helper()
	want := Event{
		UUID: "3a1c1b1e-0000-4000-8000-000000000001", Type: EventChallengeApproved,
		AccountSID: testAccount, ServiceSID: testService, EntityIdentity: testIdentity,
		FactorSID: testFactor, FactorType: FactorTypePush, FactorFriendlyName: "Ada's phone",
		ChallengeSID: testChallenge, ChallengeStatus: StatusApproved,
		ChallengeDetails: Details{Message: hookSecretMessage, Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Fields: []Field{{Label: "IP", Value: "10.0.0.1"}}},
		ChallengeHiddenDetails: NewSecretMap(map[string]string{"ip": hookSecretHidden}),
		ChallengeMetadata:      StringMap{"os": hookSecretMetadata},
	}
	want.DateCreated, _ = time.Parse(time.RFC3339, testEventDate)
	got := *ev
	got.Raw = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event:\n got  %+v\n want %+v", got, want)
	}
	if ev.Raw.Get("date_created") != testEventDate || ev.Raw.Get("x_future_field") != "kept" || ev.Raw.Get("uuid") != want.UUID {
		t.Errorf("Raw lost fields: %v", ev.Raw)
	}
}

func TestParseEventForm(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent(formRequest(hookURL, eventForm(), testToken), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	wantApprovedEvent(t, ev)
	if len(ev.Raw) != len(eventForm()) {
		t.Errorf("Raw has %d fields, want %d", len(ev.Raw), len(eventForm()))
	}
}

func TestParseEventJSON(t *testing.T) {
	t.Parallel()
	// The JSON fields as nested objects, and as strings holding JSON text
	// (the way a form carries them): both decode alike.
	nested := `{"uuid":"3a1c1b1e-0000-4000-8000-000000000001","type":"challenge.approved",
		"account_sid":"` + testAccount + `","service_sid":"` + testService + `","entity_identity":"` + testIdentity + `",
		"factor_sid":"` + testFactor + `","factor_type":"push","factor_friendly_name":"Ada's phone",
		"challenge_sid":"` + testChallenge + `","challenge_status":"approved",
		"challenge_details":{"message":"` + hookSecretMessage + `","date":"2026-01-02T03:04:05Z","fields":[{"label":"IP","value":"10.0.0.1"}]},
		"challenge_hidden_details":{"ip":"` + hookSecretHidden + `"},"challenge_metadata":{"os":"` + hookSecretMetadata + `"},
		"date_created":"` + testEventDate + `","x_future_field":"kept","x_count":42,"x_null":null}`
	f := eventForm()
	stringly := `{"uuid":"3a1c1b1e-0000-4000-8000-000000000001","type":"challenge.approved",
		"account_sid":"` + testAccount + `","service_sid":"` + testService + `","entity_identity":"` + testIdentity + `",
		"factor_sid":"` + testFactor + `","factor_type":"push","factor_friendly_name":"Ada's phone",
		"challenge_sid":"` + testChallenge + `","challenge_status":"approved",
		"challenge_details":` + quoteJSON(f.Get("challenge_details")) + `,
		"challenge_hidden_details":` + quoteJSON(f.Get("challenge_hidden_details")) + `,
		"challenge_metadata":` + quoteJSON(f.Get("challenge_metadata")) + `,
		"date_created":"` + testEventDate + `","x_future_field":"kept"}`
	for name, body := range map[string]string{"nested objects": nested, "JSON in strings": stringly} {
		ev, err := ParseEvent(jsonRequest(hookURL, body, testToken), testConfig())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantApprovedEvent(t, ev)
		if name == "nested objects" {
			if ev.Raw.Get("x_count") != "42" || !ev.Raw.Has("x_null") || ev.Raw.Get("x_null") != "" ||
				!strings.HasPrefix(ev.Raw.Get("challenge_details"), `{"message":`) {
				t.Errorf("Raw of the JSON body: %v", ev.Raw)
			}
		}
	}
}

func quoteJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestParseEventFactorAndUnknownTypes(t *testing.T) {
	t.Parallel()
	factor := url.Values{"uuid": {"u-2"}, "type": {"factor.verified"}, "factor_sid": {testFactor}, "factor_type": {"totp"}, "date_created": {testEventDate}}
	ev, err := ParseEvent(formRequest(hookURL, factor, testToken), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != EventFactorVerified || !ev.Type.Known() || ev.FactorType != FactorTypeTOTP || ev.ChallengeSID != "" ||
		ev.ChallengeDetails.Message != "" || !ev.ChallengeHiddenDetails.IsZero() {
		t.Errorf("factor event: %+v", ev)
	}
	future := url.Values{"uuid": {"u-3"}, "type": {"challenge.expired"}, "challenge_sid": {testChallenge}, "challenge_status": {"expired"},
		"date_created": {testEventDate}}
	ev, err = ParseEvent(formRequest(hookURL, future, testToken), testConfig())
	if err != nil || ev.Type != "challenge.expired" || ev.Type.Known() || ev.ChallengeStatus != StatusExpired {
		t.Errorf("unknown type: %+v %v", ev, err)
	}
}

func TestEventTypeKnown(t *testing.T) {
	t.Parallel()
	for _, e := range []EventType{EventFactorCreated, EventFactorVerified, EventFactorDeleted, EventChallengeApproved, EventChallengeDenied} {
		if !e.Known() {
			t.Errorf("%s not known", e)
		}
	}
	// EventAll subscribes to every event; no event is of type "*".
	if EventAll.Known() || EventType("challenge.approved ").Known() || EventType("").Known() {
		t.Error("EventAll or unknown types reported known")
	}
	// A webhook may still subscribe to EventAll.
	p := &CreateWebhookParams{FriendlyName: "login", WebhookURL: hookURL, EventTypes: []EventType{EventAll}}
	if err := p.Validate(); err != nil {
		t.Errorf("a webhook for EventAll: %v", err)
	}
	if err := (&UpdateWebhookParams{EventTypes: []EventType{EventAll, "challenge.expired"}}).Validate(); err == nil {
		t.Error("a webhook for an unknown type validated")
	}
}

func TestParseEventRefusals(t *testing.T) {
	t.Parallel()
	withField := func(k, v string) url.Values {
		f := eventForm()
		f.Set(k, v)
		return f
	}
	without := func(k string) url.Values {
		f := eventForm()
		f.Del(k)
		return f
	}
	big := eventForm()
	big.Set("x_pad", strings.Repeat("p", DefaultWebhookMaxBodyBytes))

	for _, tc := range []struct {
		name string
		req  func() *http.Request
		cfg  WebhookConfig
		want error  // sentinel; nil: an error matching none of them
		says string // part of the message
	}{
		{"no signature header", func() *http.Request {
			r := formRequest(hookURL, eventForm(), testToken)
			r.Header.Del(SignatureHeader)
			return r
		}, testConfig(), ErrWebhookSignature, "no X-Twilio-Signature header"},
		{"wrong token", func() *http.Request { return formRequest(hookURL, eventForm(), "another-token") },
			testConfig(), ErrWebhookSignature, "matches none of the 1 auth token(s)"},
		{"signed for another URL", func() *http.Request {
			r := formRequest("https://example.com/other", eventForm(), testToken)
			r.URL.Path, r.RequestURI = "/hooks/verify", "/hooks/verify"
			return r
		}, testConfig(), ErrWebhookSignature, "set PublicURL behind a proxy"},
		{"tampered value", func() *http.Request {
			r := formRequest(hookURL, eventForm(), testToken)
			r.Body = io.NopCloser(strings.NewReader(withField("challenge_status", "denied").Encode()))
			r.ContentLength = -1
			return r
		}, WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: hookURL}, ErrWebhookSignature, "for PublicURL"},
		{"JSON without bodySHA256", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader(`{"uuid":"u"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set(SignatureHeader, signWebhook(testToken, hookURL, nil))
			return r
		}, testConfig(), ErrWebhookSignature, "a JSON body is signed through a bodySHA256"},
		{"JSON body changed", func() *http.Request {
			r := jsonRequest(hookURL, `{"uuid":"u","type":"challenge.approved","challenge_metadata":{"k":"`+hookSecretMetadata+`"}}`, testToken)
			r.Body = io.NopCloser(strings.NewReader(`{"uuid":"u","type":"challenge.denied","challenge_metadata":{"k":"` + hookSecretMetadata + `"}}`))
			return r
		}, testConfig(), ErrWebhookSignature, "SHA-256"},
		{"Content-Length over the cap", func() *http.Request { return formRequest(hookURL, big, testToken) },
			testConfig(), ErrWebhookTooLarge, "exceeds 32768 bytes"},
		{"chunked body over the cap", func() *http.Request {
			r := formRequest(hookURL, big, testToken)
			r.ContentLength = -1
			return r
		}, testConfig(), ErrWebhookTooLarge, "more than 32768 bytes"},
		{"body over a smaller cap", func() *http.Request { return formRequest(hookURL, eventForm(), testToken) },
			WebhookConfig{AuthTokens: Secrets(testToken), MaxBodyBytes: 100}, ErrWebhookTooLarge, "exceeds 100 bytes"},
		{"no uuid", func() *http.Request { return formRequest(hookURL, without("uuid"), testToken) },
			testConfig(), ErrWebhookMalformed, "no uuid"},
		{"no type", func() *http.Request { return formRequest(hookURL, without("type"), testToken) },
			testConfig(), ErrWebhookMalformed, "no type"},
		{"details not JSON", func() *http.Request {
			return formRequest(hookURL, withField("challenge_details", "message="+hookSecretMessage), testToken)
		}, testConfig(), ErrWebhookMalformed, "challenge_details is not the JSON object expected"},
		{"hidden details an array", func() *http.Request {
			return formRequest(hookURL, withField("challenge_hidden_details", `["`+hookSecretHidden+`"]`), testToken)
		}, testConfig(), ErrWebhookMalformed, "challenge_hidden_details"},
		{"metadata with a number", func() *http.Request {
			return formRequest(hookURL, withField("challenge_metadata", `{"n":1,"s":"`+hookSecretMetadata+`"}`), testToken)
		}, testConfig(), ErrWebhookMalformed, "challenge_metadata"},
		{"JSON array body", func() *http.Request { return jsonRequest(hookURL, `["`+hookSecretHidden+`"]`, testToken) },
			testConfig(), ErrWebhookMalformed, "not an object"},
		{"JSON uuid a number", func() *http.Request { return jsonRequest(hookURL, `{"uuid":12,"type":"factor.created"}`, testToken) },
			testConfig(), ErrWebhookMalformed, "uuid must be a JSON string"},
		{"truncated JSON", func() *http.Request {
			return jsonRequest(hookURL, `{"uuid":"u","type":"x","challenge_hidden_details":{"ip":"`+hookSecretHidden, testToken)
		}, testConfig(), ErrWebhookMalformed, "not an object"},
		{"bad form escape", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader("uuid=%zz"+hookSecretHidden))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set(SignatureHeader, wrongSignature)
			return r
		}, testConfig(), ErrWebhookSignature, "neither a form the signature could cover"}, // unsigned: 403, whatever the body
		{"unsigned body of another type", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader(hookSecretHidden))
			r.Header.Set("Content-Type", "text/plain; =")
			r.Header.Set(SignatureHeader, wrongSignature)
			return r
		}, testConfig(), ErrWebhookSignature, "matches none"},
		{"stale event", func() *http.Request {
			return formRequest(hookURL, withField("date_created", time.Now().Add(-3*time.Hour).UTC().Format(time.RFC3339)), testToken)
		}, testConfig(), ErrWebhookStale, "more than MaxEventAge (20m0s)"},
		{"stale event, a shorter MaxEventAge", func() *http.Request {
			return formRequest(hookURL, withField("date_created", time.Now().Add(-2*time.Minute).UTC().Format(time.RFC3339)), testToken)
		}, WebhookConfig{AuthTokens: Secrets(testToken), MaxEventAge: time.Minute}, ErrWebhookStale, "MaxEventAge (1m0s)"},
		{"date_created not a date", func() *http.Request {
			return formRequest(hookURL, withField("date_created", "yesterday"), testToken)
		}, testConfig(), ErrWebhookMalformed, "date_created"},
		{"PublicURL copied from a delivery", func() *http.Request { return formRequest(hookURL, eventForm(), testToken) },
			WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: hookURL + "?bodySHA256=00"}, nil, "PublicURL holds a bodySHA256"},
		{"unsupported content type", func() *http.Request {
			r := formRequest(hookURL, eventForm(), testToken)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, testConfig(), ErrWebhookMalformed, "neither application/x-www-form-urlencoded nor application/json"},
		{"no auth token", func() *http.Request { return formRequest(hookURL, eventForm(), testToken) },
			WebhookConfig{}, nil, "AuthTokens is empty"},
		{"an empty auth token", func() *http.Request { return formRequest(hookURL, eventForm(), testToken) },
			WebhookConfig{AuthTokens: []Secret{NewSecret(testToken), {}}}, nil, "AuthTokens[1] is empty"},
		{"relative PublicURL", func() *http.Request { return formRequest(hookURL, eventForm(), testToken) },
			WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: "/hooks/verify"}, nil, "PublicURL must be an absolute"},
	} {
		ev, err := ParseEvent(tc.req(), tc.cfg)
		if err == nil {
			t.Errorf("%s: accepted %+v", tc.name, ev)
			continue
		}
		sentinels := []error{ErrWebhookSignature, ErrWebhookTooLarge, ErrWebhookMalformed, ErrWebhookStale}
		for _, s := range sentinels {
			if errors.Is(err, s) != (s == tc.want) {
				t.Errorf("%s: errors.Is(%v, %v) = %v", tc.name, err, s, !(s == tc.want))
			}
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %q does not say %q", tc.name, err, tc.says)
		}
		wantNoSecrets(t, tc.name, err.Error())
	}
}

// wantNoSecrets fails if s holds the auth token or a payload value.
func wantNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testToken, "another-token", hookSecretHidden, hookSecretMetadata, hookSecretMessage, "Ada's phone", testIdentity, "pppppppp"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s: %q holds %q", what, s, secret)
		}
	}
}

// FuzzParseEvent feeds signed deliveries of arbitrary bodies: ParseEvent
// must accept or refuse with one of its sentinels, never panic, and never
// put the token or the body in an error.
func FuzzParseEvent(f *testing.F) {
	// A captured approval rewritten with the same signed bytes: date_created
	// glued to its key, or split after its first letter, hides the event's
	// age; both are refused (see TestSignedFormHasOneReading).
	const form = "application/x-www-form-urlencoded"
	approval := "uuid=u-1&type=challenge.approved&challenge_sid=" + testChallenge + "&challenge_status=approved&"
	f.Add(form, approval+"date_created2026-01-02T03%3A04%3A05Z=", false)
	f.Add(form, approval+"d=ate_created2026-01-02T03%3A04%3A05Z", false)
	f.Add(form, approval+"date_created="+url.QueryEscape(testEventDate), false)
	f.Fuzz(func(t *testing.T, contentType, body string, signJSON bool) {
		target, sig := hookURL, "not-a-signature"
		if signJSON {
			target, sig = signWebhookJSON(testToken, hookURL, []byte(body))
		} else if form, err := url.ParseQuery(body); err == nil {
			sig = signWebhook(testToken, hookURL, form)
		}
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Set(SignatureHeader, sig)
		ev, err := ParseEvent(r, WebhookConfig{AuthTokens: Secrets(testToken), MaxBodyBytes: 4096})
		if err != nil {
			if !errors.Is(err, ErrWebhookSignature) && !errors.Is(err, ErrWebhookTooLarge) && !errors.Is(err, ErrWebhookMalformed) && !errors.Is(err, ErrWebhookStale) {
				t.Fatalf("error matching no sentinel: %v", err)
			}
			if msg := err.Error(); strings.Contains(msg, testToken) || len(body) >= 32 && strings.Contains(msg, body) {
				t.Fatalf("error echoes the token or the body: %v", err)
			}
			return
		}
		if ev.UUID == "" || ev.Type == "" || ev.Raw.Get("uuid") != ev.UUID || string(ev.Type) != ev.Raw.Get("type") {
			t.Fatalf("accepted %+v", ev)
		}
		// One reading: the age was judged, and no field is hidden in a key.
		if ev.DateCreated.IsZero() || time.Since(ev.DateCreated) > DefaultReplayWindow+maxClockSkew {
			t.Fatalf("accepted an event without a recent date_created: %+v", ev)
		}
		for k, vs := range ev.Raw {
			for _, field := range eventFields {
				if k == field && len(vs) != 1 || k != field && strings.HasPrefix(k, field) {
					t.Fatalf("accepted the key %q (%d values) beside the field %s", k, len(vs), field)
				}
			}
		}
	})
}

// TestCapturedSignatureCannotCoverAnotherBody: a signature captured from a
// JSON delivery does not verify a body of the attacker's choosing with its
// own bodySHA256, whatever PublicURL holds.
func TestCapturedSignatureCannotCoverAnotherBody(t *testing.T) {
	t.Parallel()
	legit := []byte(`{"uuid":"u-1","type":"factor.created"}`)
	deliveryURL, sig := signWebhookJSON(testToken, hookURL, legit)
	evil := []byte(`{"uuid":"u-2","type":"challenge.approved","challenge_sid":"` + testChallenge + `","challenge_status":"approved"}`)
	sum := sha256.Sum256(evil)
	forged := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hooks/verify?bodySHA256="+hex.EncodeToString(sum[:]), bytes.NewReader(evil))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(SignatureHeader, sig)
		return r
	}
	for _, publicURL := range []string{"", hookURL, deliveryURL} {
		ev, err := ParseEvent(forged(), WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: publicURL})
		if err == nil {
			t.Errorf("PublicURL %q: forged event accepted: %s %s", publicURL, ev.Type, ev.ChallengeSID)
		}
	}
	// The handler answers such a request 403 and never calls back.
	h := NewWebhookHandler(WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: hookURL},
		func(context.Context, *Event) error { t.Error("callback called for a forged event"); return nil })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, forged())
	if rec.Code != http.StatusForbidden {
		t.Errorf("handler answered %d, want 403", rec.Code)
	}
}

// TestStaleEventIsAnsweredWithoutCallingBack: an old delivery, whose uuid
// the handler may have forgotten, never reaches the callback, unless
// MaxEventAge is negative (a fake on a clock set in the past).
func TestStaleEventIsAnsweredWithoutCallingBack(t *testing.T) {
	t.Parallel()
	calls := 0
	h := NewWebhookHandler(WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: hookURL, ReplayWindow: time.Minute},
		func(context.Context, *Event) error { calls++; return nil })
	for _, tc := range []struct {
		age        time.Duration
		code, want int
	}{{3 * time.Hour, http.StatusBadRequest, 0}, {5 * time.Minute, http.StatusNoContent, 1}} {
		f := eventForm()
		f.Set("uuid", "u-"+tc.age.String())
		f.Set("date_created", time.Now().Add(-tc.age).UTC().Format(time.RFC3339))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, formRequest(hookURL, f, testToken))
		if rec.Code != tc.code || calls != tc.want {
			t.Errorf("event %v old: HTTP %d and %d callbacks, want %d and %d", tc.age, rec.Code, calls, tc.code, tc.want)
		}
	}
	f := eventForm()
	f.Set("date_created", "2001-01-01T00:00:00Z")
	if _, err := ParseEvent(formRequest(hookURL, f, testToken), WebhookConfig{AuthTokens: Secrets(testToken), MaxEventAge: -1}); err != nil {
		t.Errorf("MaxEventAge -1: %v", err)
	}
}

// sameSignature is a request carrying forged as its body and the signature
// Twilio made for orig: the test first checks that the two forms are the
// same signed bytes, so that the forgery needs no token.
func sameSignature(t *testing.T, orig, forged url.Values) *http.Request {
	t.Helper()
	if !bytes.Equal(twiliosig.SignedData(hookURL, orig), twiliosig.SignedData(hookURL, forged)) {
		t.Fatalf("not the same signed bytes:\n%s\n%s", twiliosig.SignedData(hookURL, orig), twiliosig.SignedData(hookURL, forged))
	}
	r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader(forged.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(SignatureHeader, signWebhook(testToken, hookURL, orig))
	return r
}

// TestSignedFormHasOneReading: Twilio's signature glues each key to its
// value, so a captured form can be rewritten into another with the same
// signed bytes: date_created=D as the key "date_createdD" with an empty
// value, "challenge_st" + "atusapproved", a field swallowed by the value
// before it. Every such reading of a form is refused, so that the fields
// ParseEvent returns are the ones Twilio sent.
func TestSignedFormHasOneReading(t *testing.T) {
	t.Parallel()
	stale := time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	captured := eventForm()
	captured.Set("date_created", stale)
	if _, err := ParseEvent(formRequest(hookURL, captured, testToken), testConfig()); !errors.Is(err, ErrWebhookStale) {
		t.Fatalf("the captured delivery itself: %v, want ErrWebhookStale", err)
	}
	// rewrite is base with the fields in drop removed and those in add set.
	rewrite := func(base url.Values, drop []string, add url.Values) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = append([]string(nil), v...)
		}
		for _, k := range drop {
			f.Del(k)
		}
		for k, v := range add {
			f[k] = v
		}
		return f
	}
	fresh := eventForm()
	status := fresh.Get("challenge_status")
	for _, tc := range []struct {
		name         string
		orig, forged url.Values
		says         string
	}{
		{"date_created glued to its key", captured,
			rewrite(captured, []string{"date_created"}, url.Values{"date_created" + stale: {""}}), "date_created"},
		{"date_created split after its first letter", captured,
			rewrite(captured, []string{"date_created"}, url.Values{"d": {"ate_created" + stale}}), "date_created"},
		{"another field glued to its key", fresh,
			rewrite(fresh, []string{"factor_sid"}, url.Values{"factor_sid" + testFactor: {""}}), "factor_sid"},
		{"a field name split across key and value", fresh,
			rewrite(fresh, []string{"challenge_status"}, url.Values{"challenge_st": {"atus" + status}}), "challenge_status"},
		{"a field swallowed by the value before it", fresh,
			rewrite(fresh, []string{"challenge_sid", "challenge_status"}, url.Values{"challenge_sid": {testChallenge + "challenge_status" + status}}),
			"challenge_status"},
		{"a value's tail cut off into a key that starts the next field name", fresh,
			rewrite(fresh, nil, url.Values{"challenge_status": {"approve"}, "d": {""}}), "date_created"},
		{"a SID's tail cut off into a key of its own",
			rewrite(fresh, nil, url.Values{"account_sid": {testAccount[:33] + "b"}}),
			rewrite(fresh, nil, url.Values{"account_sid": {testAccount[:33]}, "b": {""}}), "account_sid"},
	} {
		r := sameSignature(t, tc.orig, tc.forged)
		ev, err := ParseEvent(r, testConfig())
		if !errors.Is(err, ErrWebhookMalformed) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: ParseEvent = %+v, %v; want ErrWebhookMalformed naming %s", tc.name, ev, err, tc.says)
		}
	}

	// Through the handler, once the captured uuid is forgotten: 400, and
	// the callback never runs.
	calls := 0
	h := NewWebhookHandler(WebhookConfig{AuthTokens: Secrets(testToken), ReplayWindow: time.Minute},
		func(context.Context, *Event) error { calls++; return nil })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, sameSignature(t, captured, rewrite(captured, []string{"date_created"}, url.Values{"date_created" + stale: {""}})))
	if rec.Code != http.StatusBadRequest || calls != 0 {
		t.Errorf("replayed approval with date_created glued to its key: HTTP %d, %d callbacks; want 400, 0", rec.Code, calls)
	}
}

// TestSignedFormFieldsOnce: a signed form that repeats a field, or leaves
// out date_created, is refused while MaxEventAge applies.
func TestSignedFormFieldsOnce(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"uuid", "type", "challenge_sid", "challenge_status", "date_created", "entity_identity"} {
		f := eventForm()
		f.Add(k, f.Get(k)+"0")
		_, err := ParseEvent(formRequest(hookURL, f, testToken), testConfig())
		if !errors.Is(err, ErrWebhookMalformed) || !strings.Contains(err.Error(), k) {
			t.Errorf("%s twice: %v, want ErrWebhookMalformed naming it", k, err)
		}
	}
	f := eventForm()
	f.Del("date_created")
	if _, err := ParseEvent(formRequest(hookURL, f, testToken), testConfig()); !errors.Is(err, ErrWebhookMalformed) || !strings.Contains(err.Error(), "no date_created") {
		t.Errorf("no date_created: %v, want ErrWebhookMalformed", err)
	}
	if _, err := ParseEvent(formRequest(hookURL, f, testToken), WebhookConfig{AuthTokens: Secrets(testToken), MaxEventAge: -1}); err != nil {
		t.Errorf("no date_created, MaxEventAge -1: %v", err)
	}
}

// TestEventNeverShowsHiddenDetails: an event's hidden details, which the
// user was not shown, print and log as [redacted], Raw included, whatever
// the verb or handler and also inside a struct of the caller's; the value
// is there for Reveal. fmt.Println(ev) is a one-line summary.
func TestEventNeverShowsHiddenDetails(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent(formRequest(hookURL, eventForm(), testToken), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.ChallengeHiddenDetails.Reveal(); !reflect.DeepEqual(got, map[string]string{"ip": hookSecretHidden}) {
		t.Errorf("Reveal() = %v", got)
	}
	if got := ev.Raw["challenge_hidden_details"]; !reflect.DeepEqual(got, []string{"[redacted]"}) {
		t.Errorf("Raw holds the hidden details as %q, want [redacted]", got)
	}
	type holder struct {
		Ev *Event
		ev Event
		Es []Event
	}
	for name, v := range map[string]any{"Event": *ev, "*Event": ev, "struct": holder{ev, *ev, []Event{*ev}}} {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
		for _, h := range []func(io.Writer) slog.Handler{
			func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
			func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
		} {
			var buf strings.Builder
			slog.New(h(&buf)).Info("event", "ev", v)
			outs = append(outs, buf.String())
		}
		for _, out := range outs {
			if strings.Contains(out, hookSecretHidden) {
				t.Errorf("%s shows the hidden details: %s", name, out)
			}
		}
	}
	want := "challenge.approved challenge=" + testChallenge + " status=approved factor=" + testFactor +
		" uuid=3a1c1b1e-0000-4000-8000-000000000001 created=" + testEventDate
	if got := fmt.Sprintln(ev); got != want+"\n" {
		t.Errorf("fmt.Println(ev) = %q\nwant %q", got, want)
	}
	if got := fmt.Sprint(*ev); got != want {
		t.Errorf("fmt.Print(*ev) = %q\nwant %q", got, want)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("webhook event", "event", ev)
	for _, field := range []string{`"type":"challenge.approved"`, `"challenge_sid":"` + testChallenge + `"`, `"uuid":"3a1c1b1e-0000-4000-8000-000000000001"`} {
		if !strings.Contains(buf.String(), field) {
			t.Errorf("logged %s; want %s", buf.String(), field)
		}
	}
	if got := fmt.Sprint(&Event{UUID: "u", Type: EventFactorVerified, FactorSID: testFactor, FactorType: FactorTypePush}); got != "factor.verified factor="+testFactor+" (push) uuid=u" {
		t.Errorf("factor event printed %q", got)
	}
}

// FuzzSignedFormReadings cuts the signed bytes of a fresh approval (every
// key and value glued, keys sorted) into keys and values at the positions
// the fuzzer picks: each such form carries Twilio's signature for the
// original. ParseEvent may refuse it (ErrWebhookMalformed, never a
// signature error; ErrWebhookTooLarge for more than 64 fields), and
// whatever it accepts has the original's uuid, type, SIDs, status and
// date: a re-cut form can neither forge nor hide those.
// (Free-text fields, entity_identity and factor_friendly_name, and
// factor_type can lose their tail to a new key: see ParseEvent.)
func FuzzSignedFormReadings(f *testing.F) {
	base := url.Values{
		"uuid": {"3a1c1b1e-0000-4000-8000-000000000001"}, "type": {"challenge.approved"},
		"account_sid": {"AC0123456789abcdef0123456789abcdeb"}, "service_sid": {"VA0123456789abcdef0123456789abcdef"},
		"entity_identity": {"user-0001-alex"}, "factor_sid": {"YF0123456789abcdef0123456789abcdef"}, "factor_type": {"push"},
		"challenge_sid": {"YC0123456789abcdef0123456789abcdef"}, "challenge_status": {"approved"}, "date_created": {testEventDate},
	}
	signed := string(twiliosig.SignedData("", base))
	sig := signWebhook(testToken, hookURL, base)
	orig, err := ParseEvent(formRequest(hookURL, base, testToken), testConfig())
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: the form as sent, and re-cuts of it: date_created glued to its
	// key, "d" + "ate_created…", challenge_status=approve + d=, account_sid
	// cut short + b=.
	cutsOf := func(change url.Values) []byte {
		form := url.Values{}
		for k, v := range base {
			form[k] = v
		}
		for k, v := range change {
			if v == nil {
				delete(form, k)
			} else {
				form[k] = v
			}
		}
		var cuts []byte
		for _, k := range slices.Sorted(maps.Keys(form)) {
			cuts = append(cuts, byte(len(k)), byte(len(form.Get(k))))
		}
		return cuts
	}
	f.Add(cutsOf(nil))
	f.Add(cutsOf(url.Values{"date_created": nil, "date_created" + testEventDate: {""}}))
	f.Add(cutsOf(url.Values{"date_created": nil, "d": {"ate_created" + testEventDate}}))
	f.Add(cutsOf(url.Values{"challenge_status": {"approve"}, "d": {""}}))
	f.Add(cutsOf(url.Values{"account_sid": {base.Get("account_sid")[:33]}, "b": {""}}))
	f.Fuzz(func(t *testing.T, cuts []byte) {
		var tokens []string
		rest := signed
		for _, c := range cuts {
			n := min(int(c), len(rest))
			tokens, rest = append(tokens, rest[:n]), rest[n:]
		}
		tokens = append(tokens, rest)
		if len(tokens)%2 == 1 {
			tokens = append(tokens, "")
		}
		forged := url.Values{}
		for i := 0; i < len(tokens); i += 2 {
			forged.Add(tokens[i], tokens[i+1])
		}
		if string(twiliosig.SignedData("", forged)) != signed {
			return // not the same signed bytes: Twilio's signature does not cover it
		}
		r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader(forged.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(SignatureHeader, sig)
		ev, err := ParseEvent(r, testConfig())
		if err != nil {
			if errors.Is(err, ErrWebhookTooLarge) && strings.Count(forged.Encode(), "&") >= maxFormFields {
				return // more fields than any delivery has, refused by their count
			}
			if !errors.Is(err, ErrWebhookMalformed) {
				t.Fatalf("a re-cut form refused with %v, want ErrWebhookMalformed", err)
			}
			return
		}
		type decided struct {
			UUID, Type, Account, Service, Factor, Challenge, Status string
			Date                                                    time.Time
		}
		decision := func(e *Event) decided {
			return decided{e.UUID, string(e.Type), e.AccountSID, e.ServiceSID, e.FactorSID, e.ChallengeSID, string(e.ChallengeStatus), e.DateCreated}
		}
		if got, want := decision(ev), decision(orig); got != want {
			t.Fatalf("the form %q reads as\n%+v\nnot as sent:\n%+v", forged.Encode(), got, want)
		}
	})
}

// untouchable is a body that fails the test if anything reads it.
type untouchable struct {
	t    *testing.T
	name string
}

func (u untouchable) Read([]byte) (int, error) {
	u.t.Errorf("%s: the body was read", u.name)
	return 0, io.EOF
}

// TestSignatureRefusedBeforeTheBodyIsRead: a request that cannot be signed
// is refused without reading its body, which a flood could send at any
// pace: no X-Twilio-Signature, a header that is not the base64 of a 20-byte
// HMAC-SHA1, or a wrong signature over a URL with bodySHA256, which Twilio
// signs alone.
func TestSignatureRefusedBeforeTheBodyIsRead(t *testing.T) {
	t.Parallel()
	jsonURL, _ := signWebhookJSON(testToken, hookURL, []byte(`{"uuid":"u"}`))
	for _, tc := range []struct{ name, target, sig, says string }{
		{"no signature", hookURL, "", "no X-Twilio-Signature header"},
		{"too short", hookURL, "AAAA", "is not a signature"},
		{"not base64", hookURL, "!!!!!!!!!!!!!!!!!!!!!!!!!!!=", "is not a signature"},
		{"base64 of 32 bytes", hookURL, base64.StdEncoding.EncodeToString(make([]byte, 32)), "is not a signature"},
		{"unpadded", hookURL, strings.TrimSuffix(wrongSignature, "="), "is not a signature"},
		{"wrong, for a URL with bodySHA256", jsonURL, wrongSignature, "matches none"},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.target, nil)
		r.Body = io.NopCloser(untouchable{t, tc.name})
		r.ContentLength = 1000
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.sig != "" {
			r.Header.Set(SignatureHeader, tc.sig)
		}
		_, err := ParseEvent(r, testConfig())
		if !errors.Is(err, ErrWebhookSignature) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want ErrWebhookSignature saying %q", tc.name, err, tc.says)
		}
	}
}

// paddedForm is eventForm with filler fields up to n fields.
func paddedForm(n int) url.Values {
	f := eventForm()
	for i := 0; len(f) < n; i++ {
		f.Set(fmt.Sprintf("x_pad%02d", i), "p")
	}
	return f
}

// TestFormFieldsAreCapped: a form of more than 64 fields, four times a
// Verify event's, is refused as too large (413) before its signature is
// computed, signed or not; 64 pass.
func TestFormFieldsAreCapped(t *testing.T) {
	t.Parallel()
	if _, err := ParseEvent(formRequest(hookURL, paddedForm(64), testToken), testConfig()); err != nil {
		t.Errorf("64 fields: %v", err)
	}
	for _, token := range []string{testToken, "another-token"} {
		_, err := ParseEvent(formRequest(hookURL, paddedForm(65), token), testConfig())
		if !errors.Is(err, ErrWebhookTooLarge) || !strings.Contains(err.Error(), "a form of 65 fields, more than the 64") {
			t.Errorf("65 fields signed with %s: %v, want ErrWebhookTooLarge", token, err)
		}
	}
	rec := httptest.NewRecorder()
	NewWebhookHandler(testConfig(), func(context.Context, *Event) error { return nil }).ServeHTTP(rec, formRequest(hookURL, paddedForm(65), testToken))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("65 fields through the handler: HTTP %d, want 413", rec.Code)
	}
}

// TestRefusingABogusFormIsCheap: what a refused flood costs. A 64 KiB form
// of thousands of small fields is refused from its count of fields, before
// it is parsed; one of 64 fields of 1 KiB is parsed once and its signed
// bytes glued once, for every URL variant and token, instead of once per
// variant.
func TestRefusingABogusFormIsCheap(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector's allocations are not ParseEvent's")
	}
	cfg := WebhookConfig{AuthTokens: Secrets(testToken, "another-token"), MaxBodyBytes: 64 << 10}
	for _, tc := range []struct {
		name       string
		body       string
		want       error
		maxAllocs  float64
		maxPerByte float64 // bytes allocated per byte of body
	}{
		{"6,000 fields", bogusForm(64<<10, 10), ErrWebhookTooLarge, 40, 3},
		{"64 fields of 1 KiB", bogusForm(64<<10, 1<<10), ErrWebhookSignature, 250, 5},
	} {
		body := []byte(tc.body)
		r := httptest.NewRequest(http.MethodPost, hookURL, nil)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(SignatureHeader, wrongSignature)
		r.ContentLength = int64(len(body))
		var err error
		parse := func() {
			r.Body = io.NopCloser(bytes.NewReader(body))
			_, err = ParseEvent(r, cfg)
		}
		// The least of three rounds: other goroutines of the process
		// allocate too, and can only add.
		allocs, perByte := math.Inf(1), math.Inf(1)
		for range 3 {
			allocs = min(allocs, testing.AllocsPerRun(20, parse))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const runs = 20
			for range runs {
				parse()
			}
			runtime.ReadMemStats(&after)
			perByte = min(perByte, float64(after.TotalAlloc-before.TotalAlloc)/runs/float64(len(body)))
		}
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if allocs > tc.maxAllocs || perByte > tc.maxPerByte {
			t.Errorf("%s: %.0f allocations and %.1f bytes allocated per byte of body; want at most %.0f and %.1f",
				tc.name, allocs, perByte, tc.maxAllocs, tc.maxPerByte)
		}
	}
}
