package verifytest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/internal/contract"
	"github.com/verifykit/verify-go/verifytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const identity = "user-0001-abcd"

// checked is a transport that holds every request the client sends and
// every response the fake returns to the OpenAPI contract.
type checked struct {
	t    *testing.T
	spec *contract.Spec
	next http.RoundTripper
}

func (c *checked) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := c.spec.CheckRequest(req); err != nil {
		c.t.Errorf("request: %v", err)
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if readErr != nil {
		return resp, nil // let the client see a short body as it would
	}
	if resp.StatusCode < 300 {
		if err := c.spec.CheckResponse(req, resp.StatusCode, resp.Header, body); err != nil {
			c.t.Errorf("response: %v", err)
		}
	} else if !bytes.Contains(body, []byte(`"code"`)) || resp.Header.Get("Twilio-Request-Id") == "" {
		c.t.Errorf("error response without Twilio error JSON or request id: %d %s", resp.StatusCode, body)
	}
	return resp, nil
}

// newFake starts a fake and a contract-checked client for it; the fake's
// simulated phones are contract-checked as well.
func newFake(t *testing.T, srvOpts []verifytest.Option, opts ...verify.Option) (*verifytest.Server, *verify.Client) {
	t.Helper()
	spec, err := contract.Load("../testdata/verify_v2_challenges.json", "../testdata/verify_v2_enrollment.json",
		"../testdata/verify_v2_services.json", "../testdata/verify_v2_verifications.json", "../testdata/verify_v2_passkeys.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := verifytest.NewServer(srvOpts...)
	verifytest.WrapDeviceTransport(srv, func(next http.RoundTripper) http.RoundTripper {
		return &checked{t: t, spec: spec, next: next}
	})
	tr := &http.Transport{}
	client := srv.Client(append([]verify.Option{verify.WithHTTPClient(&http.Client{Transport: &checked{t: t, spec: spec, next: tr}})}, opts...)...)
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return srv, client
}

// newPush enrolls a phone for identity on the default service and sends
// it a push challenge.
func newPush(t *testing.T, srv *verifytest.Server, c *verify.Client) (*verifytest.Device, *verify.Challenge) {
	t.Helper()
	dev, err := srv.NewPushDevice(srv.ServiceSID(), identity)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{
		FactorSID: dev.FactorSID, Details: &verify.Details{Message: "Log in?"}})
	if err != nil {
		t.Fatal(err)
	}
	return dev, ch
}

// raw sends one request outside the SDK, with the given Basic credentials,
// and returns the status and the decoded JSON body (nil when empty). An
// error answer must be Twilio's error JSON with a request id.
func raw(t *testing.T, srv *verifytest.Server, method, path string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, data)
		}
	}
	if resp.StatusCode >= 300 && (out["code"] == nil || resp.Header.Get("Twilio-Request-Id") == "") {
		t.Errorf("%s %s: error %d without Twilio error JSON or request id: %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// wantAPIError fails unless err is an *APIError with this status and code.
func wantAPIError(t *testing.T, what string, err error, status, code int) {
	t.Helper()
	var apiErr *verify.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != status || apiErr.Code != code {
		t.Fatalf("%s: %v, want HTTP %d code %d", what, err, status, code)
	}
	if apiErr.RequestID == "" {
		t.Errorf("%s: no request id in %v", what, err)
	}
}

// code is a Twilio error code in a raw error body.
func code(body map[string]any) int {
	n, _ := body["code"].(float64)
	return int(n)
}

// servicePath is a service's API path on the fake.
func servicePath(service string) string { return "/v2/Services/" + service }
