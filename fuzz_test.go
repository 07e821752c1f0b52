package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-querystring/query"
	"github.com/jarcoal/httpmock"
)

// Seeds live in testdata/fuzz/<target>; CI also runs each target briefly.

func response(status int, contentType, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {contentType}, "Retry-After": {"3"}},
		Body:       io.NopCloser(strings.NewReader(body)),
	}
}

// decodeFuzzed decodes body, a whole 200 answer, into a T: the only error
// allowed is ErrInvalidResponse, and a body that does not start with a JSON
// value must not decode. It reports whether the body decoded.
func decodeFuzzed[T any](t *testing.T, body string) (*T, bool) {
	t.Helper()
	var v T
	err := readResponse(response(200, "application/json", body), "GET", &v)
	if err != nil && !errors.Is(err, ErrInvalidResponse) {
		t.Fatalf("a complete body %q gave %v, want ErrInvalidResponse", body, err)
	}
	if err == nil && !startsWithJSONValue(body) {
		t.Fatalf("accepted %q, which does not start with a JSON value", body)
	}
	return &v, err == nil
}

// startsWithJSONValue is the reference decodeFuzzed holds the SDK to: body
// begins with one well-formed JSON value, whatever follows it. Decoding into
// a json.RawMessage checks the syntax without building the value, and
// without refusing a number too large for a float64, which is valid JSON.
func startsWithJSONValue(body string) bool {
	var raw json.RawMessage
	return json.NewDecoder(strings.NewReader(body)).Decode(&raw) == nil
}

func FuzzDecodeChallenge(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		decodeFuzzed[Challenge](t, body)
	})
}

// FuzzDecodePage decodes a page of each list; whatever decodes keeps the
// items of the key meta names.
func FuzzDecodePage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		if p, ok := decodeFuzzed[listBody[Challenge]](t, body); ok {
			for _, ch := range p.items() {
				_ = ch.Status.Known()
			}
		}
		if p, ok := decodeFuzzed[listBody[Factor]](t, body); ok && p.Meta.Key == "factors" && len(p.items()) != len(p.Factors) {
			t.Fatalf("a page of key factors yielded %d items of %d", len(p.items()), len(p.Factors))
		}
		decodeFuzzed[listBody[Entity]](t, body)
		decodeFuzzed[listBody[Webhook]](t, body)
		if p, ok := decodeFuzzed[listBody[Service]](t, body); ok && p.Meta.Key == "services" && len(p.items()) != len(p.Services) {
			t.Fatalf("a page of key services yielded %d items of %d", len(p.items()), len(p.Services))
		}
	})
}

// assertHidden fails when secret shows in a rendering of v (fmt verbs, slog
// text and JSON) but not in the same rendering of masked, which is v with
// its secrets replaced: text that merely contains the secret by chance
// shows in both.
func assertHidden(t *testing.T, secret string, v, masked any) {
	t.Helper()
	if len(secret) < 8 {
		return
	}
	renders := []func(any) string{
		func(v any) string { return fmt.Sprintf("%v", v) },
		func(v any) string { return fmt.Sprintf("%+v", v) },
		func(v any) string { return fmt.Sprintf("%#v", v) },
		func(v any) string {
			var b strings.Builder
			slog.New(slog.NewJSONHandler(&b, nil)).Info("m", "v", v)
			return b.String()
		},
		func(v any) string {
			var b strings.Builder
			slog.New(slog.NewTextHandler(&b, nil)).Info("m", "v", v)
			return b.String()
		},
	}
	for i, render := range renders {
		if out := render(v); strings.Contains(out, secret) && !strings.Contains(render(masked), secret) {
			t.Fatalf("rendering %d shows the secret %q: %s", i, secret, out)
		}
	}
}

// decodeHidden decodes body as a T and checks that the secrets mask
// replaces in it (and returns) never show when the T is printed or logged.
func decodeHidden[T any](t *testing.T, body string, mask func(*T) []string) {
	t.Helper()
	v, ok := decodeFuzzed[T](t, body)
	if !ok {
		return
	}
	masked := *v
	for _, secret := range mask(&masked) {
		assertHidden(t, secret, v, &masked)
		assertHidden(t, secret, *v, masked)
	}
}

// FuzzDecodeFactor decodes any answer as a new factor and as a factor; a
// binding secret or URI that decodes is never printed or logged.
func FuzzDecodeFactor(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		decodeFuzzed[Factor](t, body)
		decodeHidden(t, body, func(n *NewFactor) []string {
			secrets := []string{n.Binding.Secret.Reveal(), n.Binding.URI.Reveal()}
			n.Binding.Secret, n.Binding.URI = NewSecret("x"), NewSecret("x")
			return secrets
		})
	})
}

// FuzzDecodeAccessToken decodes any answer as an access token, whose token
// is never printed or logged.
func FuzzDecodeAccessToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		decodeHidden(t, body, func(tok *AccessToken) []string {
			secret := tok.Token.Reveal()
			tok.Token = NewSecret("x")
			return []string{secret}
		})
	})
}

// FuzzDecodeWebhook decodes any answer as a webhook and as an entity;
// event types the SDK does not know decode as they are.
func FuzzDecodeWebhook(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		decodeFuzzed[Entity](t, body)
		w, ok := decodeFuzzed[Webhook](t, body)
		if !ok {
			return
		}
		var raw struct {
			EventTypes []string `json:"event_types"`
		}
		if json.Unmarshal([]byte(body), &raw) == nil && len(raw.EventTypes) == len(w.EventTypes) {
			for i, e := range raw.EventTypes {
				if string(w.EventTypes[i]) != e {
					t.Fatalf("event type %q decoded as %q", e, w.EventTypes[i])
				}
			}
		}
	})
}

func FuzzAPIError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 300 || status > 599 {
			status = 500
		}
		resp := response(status, contentType, body)
		e := newAPIError(resp, resp.Body, "POST")
		if e.Status != status || e.Message == "" || e.Error() == "" {
			t.Fatalf("APIError lost its status or message: %+v", e)
		}
		if e.RetryAfter != 3*time.Second {
			t.Fatalf("RetryAfter = %v", e.RetryAfter)
		}
		if errors.Is(e, ErrOutcomeUnknown) != (status >= 500) {
			t.Fatalf("outcome unknown mismatch for %d", status)
		}
	})
}

var (
	identityRef = regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)
	sidRef      = regexp.MustCompile(`^YC[0-9a-fA-F]{32}$`)
)

func FuzzValidateIdentity(f *testing.F) {
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateIdentity(id)
		want := len(id) >= 8 && len(id) <= 64 && identityRef.MatchString(id)
		if (err == nil) != want {
			t.Fatalf("ValidateIdentity(%q) = %v, reference says %v", id, err, want)
		}
		if err == nil && url.PathEscape(id) != id {
			t.Fatalf("accepted %q needs escaping", id)
		}
		var ve *ValidationError
		if err != nil && (!errors.As(err, &ve) || ve.Field != "Identity") {
			t.Fatalf("error %v is not a ValidationError for Identity", err)
		}
	})
}

func FuzzCheckSID(f *testing.F) {
	f.Fuzz(func(t *testing.T, sid string) {
		err := checkSID("Sid", sid, "YC")
		if (err == nil) != sidRef.MatchString(sid) {
			t.Fatalf("checkSID(%q) = %v, reference regexp disagrees", sid, err)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > 24*time.Hour && !strings.Contains(v, "GMT") {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 3600 && d != time.Duration(n)*time.Second {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}

// FuzzCreateForm encodes valid params and decodes the form back: the API
// must receive exactly what the caller passed, with each value encoded once.
func FuzzCreateForm(f *testing.F) {
	f.Fuzz(func(t *testing.T, message, label, value, hiddenKey, hiddenValue, code string) {
		p := &CreateChallengeParams{
			FactorSID:     testFactor,
			Details:       &Details{Message: message, Fields: []Field{{Label: label, Value: value}}},
			HiddenDetails: NewSecretMap(map[string]string{hiddenKey: hiddenValue}),
			AuthPayload:   NewSecret(code),
		}
		if err := p.Validate(); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("not a ValidationError: %v", err)
			}
			if len(hiddenValue) >= 16 && strings.Contains(err.Error(), hiddenValue) {
				t.Fatalf("validation error shows a hidden value: %v", err)
			}
			return
		}
		form, err := query.Values(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := url.ParseQuery(form.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if back.Get("FactorSid") != testFactor || back.Get("Details.Message") != message || back.Get("AuthPayload") != code {
			t.Fatalf("round trip lost scalars: %v", back)
		}
		var field Field
		if fs := back["Details.Fields"]; len(fs) != 1 || json.Unmarshal([]byte(fs[0]), &field) != nil || field != (Field{label, value}) {
			t.Fatalf("field round trip: %q", back["Details.Fields"])
		}
		var hidden map[string]string
		if json.Unmarshal([]byte(back.Get("HiddenDetails")), &hidden) != nil || len(hidden) != 1 || hidden[hiddenKey] != hiddenValue {
			t.Fatalf("hidden details round trip: %q", back.Get("HiddenDetails"))
		}
	})
}

// FuzzNextPageURL follows arbitrary next_page_url values: any request the
// client sends must go to its own scheme and host. One client serves every
// input (inputs run one at a time); hosts is emptied before each.
func FuzzNextPageURL(f *testing.F) {
	mock := httpmock.NewMockTransport()
	var hosts []string
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		hosts = append(hosts, strings.ToLower(r.URL.Scheme+"://"+r.URL.Hostname()+":"+effectivePort(r.URL)))
		return httpmock.NewStringResponse(200, `{"challenges":[],"meta":{}}`), nil
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithHTTPClient(&http.Client{Transport: mock}), WithMaxRetries(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, next string) {
		hosts = hosts[:0]
		page := &Page[Challenge]{client: c, Meta: PageMeta{NextPageURL: next}}
		_, _ = page.Next(context.Background())
		for _, h := range hosts {
			if h != "https://verify.twilio.com:443" {
				t.Fatalf("next_page_url %q sent a request to %s", next, h)
			}
		}
	})
}

// goldenBody reads a testdata body once per fuzz target, not once per input.
func goldenBody(f *testing.F, name string) string {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}

// sentForm runs call against a fresh contract-checked harness answering
// with answer, a golden body, and returns the form of the one request sent.
// A call whose params break a rule must fail with a *ValidationError naming
// a field, send nothing, and not repeat secret (when it is long enough to be
// told from the rule's own words); sentForm then returns nil.
func sentForm(t *testing.T, answer string, secret string, call func(*Client) error) url.Values {
	t.Helper()
	h := newHarness(t, WithMaxRetries(0))
	h.mock.RegisterNoResponder(bodyResponder(201, answer))
	err := call(h.client)
	reqs := h.requests()
	if err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field == "" || ve.Rule == "" {
			t.Fatalf("not a ValidationError: %v", err)
		}
		if len(reqs) != 0 {
			t.Fatalf("params refused with %v were sent", err)
		}
		if len(secret) >= 16 && strings.Contains(err.Error(), secret) {
			t.Fatalf("validation error shows a secret: %v", err)
		}
		return nil
	}
	if len(reqs) != 1 {
		t.Fatalf("sent %d requests, want 1", len(reqs))
	}
	return reqs[0].Form
}

// wantFormWithMetadata compares a sent form with want, reading Metadata as
// the JSON object it is: it must hold exactly metadata, encoded once.
func wantFormWithMetadata(t *testing.T, got, want url.Values, metadata map[string]string) {
	t.Helper()
	got = maps.Clone(got)
	if len(metadata) > 0 {
		var back map[string]string
		if len(got["Metadata"]) != 1 || json.Unmarshal([]byte(got.Get("Metadata")), &back) != nil || !maps.Equal(back, metadata) {
			t.Fatalf("Metadata sent as %q, want one JSON object of %v", got["Metadata"], metadata)
		}
		delete(got, "Metadata")
	}
	if got.Encode() != want.Encode() {
		t.Fatalf("form:\n got  %s\n want %s", got.Encode(), want.Encode())
	}
}

// setIf sets key when value is not the zero string.
func setIf(v url.Values, key, value string) {
	if value != "" {
		v.Set(key, value)
	}
}

// FuzzCreateTOTPForm: a TOTP factor that passes validation reaches the API
// as exactly the fields the caller set, each encoded once, and matches the
// spec; Skew is sent whenever it is set, 0 included.
func FuzzCreateTOTPForm(f *testing.F) {
	answer := goldenBody(f, "factor_create_totp.json")
	f.Fuzz(func(t *testing.T, name, secret string, timeStep, codeLength, skew int, skewSet bool, alg, metaKey, metaValue string) {
		p := &CreateTOTPFactorParams{FriendlyName: name, Secret: NewSecret(secret), TimeStep: time.Duration(timeStep) * time.Second, CodeLength: codeLength,
			Alg: TOTPAlgorithm(alg), Metadata: map[string]string{metaKey: metaValue}}
		if skewSet {
			p.Skew = &skew
		}
		form := sentForm(t, answer, secret, func(c *Client) error {
			_, err := c.Factors.CreateTOTP(context.Background(), testService, testIdentity, p)
			return err
		})
		if form == nil {
			return
		}
		want := url.Values{"FactorType": {"totp"}, "FriendlyName": {name}}
		setIf(want, "Binding.Secret", secret)
		setIf(want, "Config.Alg", alg)
		if timeStep != 0 {
			want.Set("Config.TimeStep", strconv.Itoa(timeStep))
		}
		if codeLength != 0 {
			want.Set("Config.CodeLength", strconv.Itoa(codeLength))
		}
		if skewSet {
			want.Set("Config.Skew", strconv.Itoa(skew))
		}
		wantFormWithMetadata(t, form, want, p.Metadata)
	})
}

// FuzzCreatePushForm: a push factor that passes validation reaches the API
// as exactly the fields the caller set plus FactorType and Binding.Alg.
func FuzzCreatePushForm(f *testing.F) {
	answer := goldenBody(f, "factor_create_push.json")
	f.Fuzz(func(t *testing.T, name, appID, platform, token, sdkVersion, metaKey, metaValue string, validKey bool) {
		key := "dGVzdF9rZXk=" // the spec's example, which is not a key
		if validKey {
			key = specPublicKey
		}
		p := &CreatePushFactorParams{FriendlyName: name, PublicKey: key, AppID: appID,
			NotificationPlatform: NotificationPlatform(platform), NotificationToken: token, SDKVersion: sdkVersion,
			Metadata: map[string]string{metaKey: metaValue}}
		form := sentForm(t, answer, "", func(c *Client) error {
			_, err := c.Factors.CreatePush(context.Background(), testService, testIdentity, p)
			return err
		})
		if form == nil {
			return
		}
		if !validKey {
			t.Fatalf("a public key that is not one was sent")
		}
		want := url.Values{"FactorType": {"push"}, "FriendlyName": {name}, "Binding.Alg": {"ES256"},
			"Binding.PublicKey": {key}, "Config.AppId": {appID}, "Config.NotificationPlatform": {platform},
			"Config.SdkVersion": {sdkVersion}}
		setIf(want, "Config.NotificationToken", token)
		wantFormWithMetadata(t, form, want, p.Metadata)
	})
}

// FuzzCreateWebhookForm: a webhook that passes validation reaches the API
// with one EventTypes value per event, in order, and an absolute http or
// https URL with a host and without spaces or control characters.
func FuzzCreateWebhookForm(f *testing.F) {
	answer := goldenBody(f, "webhook.json")
	f.Fuzz(func(t *testing.T, name, rawURL, event1, event2, status, version string) {
		p := &CreateWebhookParams{FriendlyName: name, WebhookURL: rawURL, EventTypes: []EventType{EventType(event1), EventType(event2)},
			Status: WebhookStatus(status), Version: WebhookVersion(version)}
		form := sentForm(t, answer, "", func(c *Client) error {
			_, err := c.Webhooks.Create(context.Background(), testService, p)
			return err
		})
		if form == nil {
			return
		}
		u, err := url.Parse(rawURL)
		if err != nil || !(u.Scheme == "https" || u.Scheme == "http") || u.Hostname() == "" ||
			strings.IndexFunc(rawURL, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			t.Fatalf("webhook URL %q was sent", rawURL)
		}
		want := url.Values{"FriendlyName": {name}, "WebhookUrl": {rawURL}, "EventTypes": {event1, event2}}
		setIf(want, "Status", status)
		setIf(want, "Version", version)
		wantFormWithMetadata(t, form, want, nil)
	})
}

// FuzzDecodeService decodes any answer as a service: the nested settings
// read back into the params' types, and TOTP settings whose time step is
// whole seconds marshal back as the API writes them and decode unchanged.
func FuzzDecodeService(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		s, ok := decodeFuzzed[Service](t, body)
		if !ok {
			return
		}
		_ = s.Passkeys.AuthenticatorAttachment.Known() || s.Passkeys.UserVerification.Known()
		if step := s.TOTP.TimeStep; step%time.Second != 0 || step < -time.Hour || step > time.Hour {
			return // time_step beyond what a Duration holds in whole seconds
		}
		b, err := json.Marshal(s.TOTP)
		if err != nil {
			t.Fatalf("TOTPSettings %+v do not marshal: %v", s.TOTP, err)
		}
		var back TOTPSettings
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, s.TOTP) {
			t.Fatalf("TOTPSettings round trip: %s gave %+v, want %+v (%v)", b, back, s.TOTP, err)
		}
	})
}

// FuzzEncodeForm: the SDK's form encoder writes what url.Values.Encode writes.
func FuzzEncodeForm(f *testing.F) {
	f.Add("FactorSid", "YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Details.Fields", `{"label":"IP","value":"203.0.113.7"}`)
	f.Add("a b", "ä&=+%\x00\xff", "", "~-_.")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		form := url.Values{k1: {v1}}
		form.Add(k2, v2)
		form.Add(k2, v1)
		if got, want := string(encodeForm(form)), form.Encode(); got != want {
			t.Fatalf("encodeForm(%q)\n got %q\nwant %q", form, got, want)
		}
		// A fixed pair is set as form.Set would set it.
		got := string(encodeForm(form, k2, v1+v2, "FactorType", v2))
		form.Set(k2, v1+v2)
		form.Set("FactorType", v2)
		if want := form.Encode(); got != want {
			t.Fatalf("encodeForm with fixed pairs\n got %q\nwant %q", got, want)
		}
	})
}

// FuzzDecodeVerification decodes any answer as a verification and as a
// check: channels decode in lower case, and the one-line summaries never
// show the number or address verified.
func FuzzDecodeVerification(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		if v, ok := decodeFuzzed[Verification](t, body); ok {
			channels := []Channel{v.Channel}
			for _, a := range v.SendCodeAttempts {
				channels = append(channels, a.Channel)
			}
			for _, c := range channels {
				if string(c) != strings.ToLower(string(c)) {
					t.Fatalf("channel %q decoded with upper case", c)
				}
			}
			assertSummaryHides(t, v.String(), v.To, v.SID, string(v.Channel), string(v.Status))
		}
		if c, ok := decodeFuzzed[VerificationCheck](t, body); ok {
			if c.Approved() != (c.Status == VerificationApproved) {
				t.Fatalf("Approved() = %v for status %q", c.Approved(), c.Status)
			}
			assertSummaryHides(t, c.String(), c.To, c.SID, string(c.Channel), string(c.Status))
		}
	})
}

// assertSummaryHides fails when summary shows to, unless to is short or
// part of what the summary is made of.
func assertSummaryHides(t *testing.T, summary, to string, parts ...string) {
	t.Helper()
	if len(to) < 6 || strings.Contains("verification check (sends)"+strings.Join(parts, " "), to) {
		return
	}
	if strings.Contains(summary, to) {
		t.Fatalf("summary %q shows the number or address %q", summary, to)
	}
}

var (
	e164Ref  = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	vesidRef = regexp.MustCompile(`^VE[0-9a-fA-F]{32}$`)
)

// FuzzCreateVerificationForm: a verification that passes validation reaches
// the API as exactly the fields the caller set, the JSON ones each one
// object encoded once, with To in the form its channel takes.
func FuzzCreateVerificationForm(f *testing.F) {
	answer := goldenBody(f, "verification.json")
	f.Fuzz(func(t *testing.T, to, channel, locale, customCode, tagKey, tagValue, configFrom, deviceIP string) {
		p := &CreateVerificationParams{To: to, Channel: Channel(channel), Locale: locale, CustomCode: NewSecret(customCode),
			Tags: StringMap{tagKey: tagValue}, DeviceIP: deviceIP}
		if configFrom != "" {
			p.ChannelConfiguration = JSONObject{"from": configFrom, "substitutions": map[string]string{tagKey: tagValue}}
		}
		form := sentForm(t, answer, customCode, func(c *Client) error {
			_, err := c.Verifications.Create(context.Background(), testService, p)
			return err
		})
		if form == nil {
			return
		}
		if Channel(channel) == ChannelEmail && !strings.Contains(to, "@") || Channel(channel) != ChannelEmail && !e164Ref.MatchString(to) {
			t.Fatalf("To %q was sent for channel %q", to, channel)
		}
		if locale != "" && !supportedLocales[strings.ToLower(locale)] {
			t.Fatalf("Locale %q was sent", locale)
		}
		var tags map[string]string
		if len(form["Tags"]) != 1 || json.Unmarshal([]byte(form.Get("Tags")), &tags) != nil || !maps.Equal(tags, p.Tags) {
			t.Fatalf("Tags sent as %q, want one JSON object of %v", form["Tags"], p.Tags)
		}
		delete(form, "Tags")
		if configFrom != "" {
			var config struct {
				From          string            `json:"from"`
				Substitutions map[string]string `json:"substitutions"`
			}
			if len(form["ChannelConfiguration"]) != 1 || json.Unmarshal([]byte(form.Get("ChannelConfiguration")), &config) != nil ||
				config.From != configFrom || config.Substitutions[tagKey] != tagValue {
				t.Fatalf("ChannelConfiguration sent as %q", form["ChannelConfiguration"])
			}
			delete(form, "ChannelConfiguration")
		}
		want := url.Values{"To": {to}, "Channel": {channel}}
		setIf(want, "Locale", locale)
		setIf(want, "CustomCode", customCode)
		setIf(want, "DeviceIp", deviceIP)
		wantFormWithMetadata(t, form, want, nil)
	})
}

// FuzzCheckVerificationForm: a check that passes validation names the
// verification once, by To or by VerificationSid, and sends the code as
// typed.
func FuzzCheckVerificationForm(f *testing.F) {
	answer := goldenBody(f, "verification_check.json")
	f.Fuzz(func(t *testing.T, to, sid, code string) {
		form := sentForm(t, answer, code, func(c *Client) error {
			_, err := c.VerificationChecks.Create(context.Background(), testService,
				&CheckVerificationParams{To: to, VerificationSID: sid, Code: NewSecret(code)})
			return err
		})
		if form == nil {
			return
		}
		if (to == "") == (sid == "") || sid != "" && !vesidRef.MatchString(sid) {
			t.Fatalf("To %q and VerificationSid %q were sent", to, sid)
		}
		want := url.Values{}
		setIf(want, "To", to)
		setIf(want, "VerificationSid", sid)
		setIf(want, "Code", code)
		wantFormWithMetadata(t, form, want, nil)
	})
}

// FuzzServiceForm: service settings that pass validation reach the API as
// dotted names with exactly what the caller set: false and 0 when set,
// nothing when not, and the origins as one comma-separated value.
func FuzzServiceForm(f *testing.F) {
	answer := goldenBody(f, "service_update.json")
	f.Fuzz(func(t *testing.T, name, issuer, origin1, origin2 string, timeStep, skew int, skewSet, lookup, lookupSet bool) {
		p := &UpdateServiceParams{FriendlyName: name, TOTP: &TOTPSettings{Issuer: issuer, TimeStep: time.Duration(timeStep) * time.Second},
			Passkeys: &PasskeySettings{RelyingParty: PasskeyRelyingParty{Origins: []string{origin1, origin2}}}}
		if skewSet {
			p.TOTP.Skew = &skew
		}
		if lookupSet {
			p.LookupEnabled = &lookup
		}
		form := sentForm(t, answer, "", func(c *Client) error {
			_, err := c.Services.Update(context.Background(), testService, p)
			return err
		})
		if form == nil {
			return
		}
		if strings.Contains(origin1+origin2, ",") || origin1 == "" || origin2 == "" {
			t.Fatalf("origins %q and %q were sent", origin1, origin2)
		}
		want := url.Values{"Passkeys.RelyingParty.Origins": {origin1 + "," + origin2}}
		setIf(want, "FriendlyName", name)
		setIf(want, "Totp.Issuer", issuer)
		if timeStep != 0 {
			want.Set("Totp.TimeStep", strconv.Itoa(timeStep))
		}
		if skewSet {
			want.Set("Totp.Skew", strconv.Itoa(skew))
		}
		if lookupSet {
			want.Set("LookupEnabled", strconv.FormatBool(lookup))
		}
		wantFormWithMetadata(t, form, want, nil)
	})
}

// FuzzSecretJSON: a Secret decodes any JSON text to what a string would,
// and fails where a string fails.
func FuzzSecretJSON(f *testing.F) {
	for _, seed := range []string{`"GEZDGNBVGY3TQOJQ"`, `""`, `null`, `"a\"b"`, `"\u00e9t\u00e9"`, `"été"`, "\"\xff\"", "\"a\nb\"", `"a`, `1`, `"a" "b"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		wantErr := json.Unmarshal(b, &want)
		var s Secret
		err := json.Unmarshal(b, &s)
		if (err != nil) != (wantErr != nil) || err == nil && s.Reveal() != want {
			t.Fatalf("%q: Secret %q, %v; string %q, %v", b, s.Reveal(), err, want, wantErr)
		}
		if err == nil && s.IsZero() != (want == "") {
			t.Fatalf("%q: IsZero %v for %q", b, s.IsZero(), want)
		}
	})
}

// referenceJSON is v as encoding/json writes it without HTML escaping, the
// form StringMap and SecretMap values must match byte for byte.
func referenceJSON(t *testing.T, v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// FuzzJSONMap: the SDK's JSON for a HiddenDetails or Metadata map, and for
// a Details field, is what encoding/json writes, whatever the text.
func FuzzJSONMap(f *testing.F) {
	f.Add("ip", "203.0.113.7", "session", "web-42", "")
	f.Add("<&>", "\x00\b\f\n\r\t\x1f\x7f\"\\", "\u2028\u2029", "\xff\xfe é 𝄞", "\ufffd")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3 string) {
		m := map[string]string{k1: v1, k2: v2, k3: v1 + v2}
		want := referenceJSON(t, m)
		if got := string(appendJSONMap(nil, m, plainText)); got != want {
			t.Fatalf("StringMap %q:\n got %s\nwant %s", m, got, want)
		}
		if got := string(appendJSONMap(nil, NewSecretMap(m).m, Secret.Reveal)); got != want {
			t.Fatalf("SecretMap %q:\n got %s\nwant %s", m, got, want)
		}
		field := &Field{Label: k1, Value: v1}
		if got, want := string(appendFieldJSON(nil, field)), referenceJSON(t, field); got != want {
			t.Fatalf("Field %q:\n got %s\nwant %s", *field, got, want)
		}
	})
}

// FuzzSecretMapJSON: SecretMap's fast path decodes what json.Unmarshal into
// a map[string]string decodes, and fails where it fails.
func FuzzSecretMapJSON(f *testing.F) {
	for _, seed := range []string{`{"ip":"172.168.1.234"}`, ` { "a" : "b" , "c":null, "a":"d" } `, `{}`, `null`, `{"a":1}`,
		`{"a":"\u00e9"}`, `{"a":"b",}`, `{"a":"b"} x`, `{"a" "b"}`, "{\"\xff\":\"b\"}", `{"a":{"b":"c"}}`, `[]`, `{"a":"b"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want map[string]string
		wantErr := json.Unmarshal(b, &want)
		var s SecretMap
		err := json.Unmarshal(b, &s)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: SecretMap error %v, map error %v", b, err, wantErr)
		}
		if err == nil && !maps.Equal(s.Reveal(), want) && !(len(want) == 0 && s.Len() == 0) {
			t.Fatalf("%q: SecretMap %q, map %q", b, s.Reveal(), want)
		}
	})
}

// referenceConfig is FactorConfig.UnmarshalJSON without its fast path.
func referenceConfig(c *FactorConfig, b []byte) error {
	type plain FactorConfig
	w := struct {
		*plain
		TimeStep int64 `json:"time_step"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	c.TimeStep = time.Duration(w.TimeStep) * time.Second
	return nil
}

// FuzzFactorConfigJSON: FactorConfig's fast path decodes what the plain
// json.Unmarshal path decodes, into a config that already holds values.
func FuzzFactorConfigJSON(f *testing.F) {
	for _, seed := range []string{`{"alg": "sha1", "skew": 1, "code_length": 6, "time_step": 30}`,
		`{"sdk_version":"1.0","app_id":"com.example.myapp","notification_platform":"fcm","notification_token":"tok"}`,
		`{"skew":null,"time_step":-0}`, `{"skew":01}`, `{"skew":1.5}`, `{"skew":1e2}`, `{"skew":"1"}`, `{"alg":6}`,
		`{"ALG":"sha256"}`, `{"time_step":9223372036854775807}`, `{"skew":99999999999999999999}`, `{"relying_party":{"id":"x"}}`,
		`null`, `{}`, `{"alg":"sha1"}}`, `{"alg":"sh\"a"}`, `{"code_length":-3}`, `{"skew":-}`} {
		f.Add([]byte(seed))
	}
	start := FactorConfig{Alg: TOTPAlgorithmSHA512, Skew: 2, CodeLength: 8, TimeStep: time.Minute, AppID: "before"}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, got := start, start
		wantErr := referenceConfig(&want, b)
		err := json.Unmarshal(b, &got)
		if (err != nil) != (wantErr != nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v, %v\nwant %+v, %v", b, got, err, want, wantErr)
		}
	})
}
