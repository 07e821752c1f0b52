package verifytest_test

import (
	"bytes"
	"io"
	"net/http"
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
	spec, err := contract.Load("../testdata/verify_v2_challenges.json", "../testdata/verify_v2_enrollment.json")
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
