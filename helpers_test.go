package verify

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"go.uber.org/goleak"

	"github.com/verifykit/verify-go/internal/contract"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Fixed values used across tests; the SIDs match the spec's examples.
const (
	testAccount   = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testToken     = "tok3n-s3cret-value-0123456789abcd"
	testService   = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testIdentity  = "ff483d1ff591898a9942916050d2ca3f"
	testFactor    = "YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testChallenge = "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	apiBase       = "https://verify.twilio.com"
	listPath      = "/v2/Services/" + testService + "/Entities/" + testIdentity + "/Challenges"
	oneURL        = apiBase + listPath + "/" + testChallenge
	listURL       = apiBase + listPath
	notifyURL     = oneURL + "/Notifications"
)

// sent is one request as the transport saw it.
type sent struct {
	Method string
	URL    *url.URL
	Header http.Header
	Form   url.Values // parsed body for POSTs
	Body   []byte     // the body as sent
}

// harness is a Client wired to an httpmock transport through a checker that
// validates every request against the OpenAPI spec and records it.
type harness struct {
	t      *testing.T
	mock   *httpmock.MockTransport
	client *Client
	mu     sync.Mutex
	reqs   []sent
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	h := &harness{t: t, mock: httpmock.NewMockTransport()}
	base := []Option{
		WithCredentials(testAccount, testToken),
		WithHTTPClient(&http.Client{Transport: h}),
		WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	h.client = c
	return h
}

// specPaths are the OpenAPI contracts every request is checked against.
var specPaths = []string{
	filepath.Join("testdata", "verify_v2_challenges.json"),
	filepath.Join("testdata", "verify_v2_enrollment.json"),
	filepath.Join("testdata", "verify_v2_services.json"),
	filepath.Join("testdata", "verify_v2_verifications.json"),
	filepath.Join("testdata", "verify_v2_passkeys.json"),
}

// RoundTrip checks the request against the spec, records it, and answers
// through httpmock. Like many wrapping transports, it reports nothing to
// httptrace: the SDK must judge POST retries from errors alone here.
func (h *harness) RoundTrip(req *http.Request) (*http.Response, error) {
	spec, err := contract.Load(specPaths...)
	if err != nil {
		h.t.Fatalf("loading spec: %v", err)
	}
	if err := spec.CheckRequest(req); err != nil {
		h.t.Errorf("request breaks the contract: %v", err)
	}
	s := sent{Method: req.Method, URL: req.URL, Header: req.Header.Clone()}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		s.Form, _ = url.ParseQuery(string(b))
		s.Body = b
		req.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	h.mu.Lock()
	h.reqs = append(h.reqs, s)
	h.mu.Unlock()
	return h.mock.RoundTrip(req)
}

// requests returns what was sent so far.
func (h *harness) requests() []sent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]sent(nil), h.reqs...)
}

// only asserts exactly one request was sent and returns it.
func (h *harness) only() sent {
	h.t.Helper()
	reqs := h.requests()
	if len(reqs) != 1 {
		h.t.Fatalf("sent %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// golden reads a body from testdata.
func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonResponder answers status with a testdata body and Twilio's headers.
func jsonResponder(t *testing.T, status int, file string) httpmock.Responder {
	return bodyResponder(status, golden(t, file))
}

func bodyResponder(status int, body string) httpmock.Responder {
	return httpmock.NewStringResponder(status, body).HeaderSet(http.Header{
		"Content-Type":      {"application/json"},
		"Twilio-Request-Id": {"RQ00000000000000000000000000000000"},
	})
}

// twilioError answers with Twilio's error JSON.
func twilioError(status, code int, msg string) httpmock.Responder {
	return bodyResponder(status, `{"code":`+strconv.Itoa(code)+`,"message":"`+msg+
		`","more_info":"https://www.twilio.com/docs/errors/`+strconv.Itoa(code)+`","status":`+strconv.Itoa(status)+`}`)
}

func wantMethodPath(t *testing.T, s sent, method, path string) {
	t.Helper()
	if s.Method != method || s.URL.Path != path {
		t.Errorf("sent %s %s, want %s %s", s.Method, s.URL.Path, method, path)
	}
}

// wantForm asserts the whole form body, key by key, in order of values.
func wantForm(t *testing.T, got, want url.Values) {
	t.Helper()
	if got.Encode() != want.Encode() {
		t.Errorf("form:\n got  %s\n want %s", got.Encode(), want.Encode())
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func httpmock502() httpmock.Responder {
	return httpmock.NewStringResponder(502, "<html><body>Bad gateway</body></html>").
		HeaderSet(http.Header{"Content-Type": {"text/html"}})
}
