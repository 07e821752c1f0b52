package verify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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

func FuzzDecodeChallenge(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		var ch Challenge
		err := readResponse(response(200, "application/json", body), "GET", &ch)
		if err != nil && !errors.Is(err, ErrInvalidResponse) {
			t.Fatalf("a complete body %q gave %v, want ErrInvalidResponse", body, err)
		}
		var anyValue any
		if refErr := json.NewDecoder(strings.NewReader(body)).Decode(&anyValue); err == nil && refErr != nil {
			t.Fatalf("accepted %q, which does not start with a JSON value", body)
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		var p listBody[Challenge]
		if err := readResponse(response(200, "application/json", body), "GET", &p); err != nil {
			return
		}
		for _, ch := range p.items() {
			_ = ch.Status.Known()
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
			HiddenDetails: map[string]string{hiddenKey: hiddenValue},
			AuthPayload:   code,
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
// client sends must go to its own scheme and host.
func FuzzNextPageURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, next string) {
		mock := httpmock.NewMockTransport()
		var hosts []string
		mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			hosts = append(hosts, strings.ToLower(r.URL.Scheme+"://"+r.URL.Hostname()+":"+effectivePort(r.URL)))
			return httpmock.NewStringResponse(200, `{"challenges":[],"meta":{}}`), nil
		})
		c, err := NewClient(WithCredentials(testAccount, testToken), WithHTTPClient(&http.Client{Transport: mock}), WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		page := &Page[Challenge]{client: c, Meta: PageMeta{NextPageURL: next}}
		_, _ = page.Next(context.Background())
		for _, h := range hosts {
			if h != "https://verify.twilio.com:443" {
				t.Fatalf("next_page_url %q sent a request to %s", next, h)
			}
		}
	})
}
