package verifytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	verify "github.com/verifykit/verify-go"
)

// deviceHeader marks a request as sent by a simulated phone; its value is
// the server's own random token, so no other client sends it by chance.
const deviceHeader = "Verifytest-Device"

// deviceHTTP is how Devices reach the server: their own transport (never
// http.DefaultTransport, which httpmock.Activate replaces) and a mark on
// every request so that faults injected for the code under test skip them.
type deviceHTTP struct {
	token     string
	transport *http.Transport
	client    *http.Client
}

func newDeviceHTTP() *deviceHTTP {
	d := &deviceHTTP{
		token:     randomHex(16),
		transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
	}
	d.client = &http.Client{Transport: markDevice{token: d.token, next: d.transport}, Timeout: 10 * time.Second}
	return d
}

// sent reports whether r came from a Device of this server.
func (d *deviceHTTP) sent(r *http.Request) bool {
	return r.Header.Get(deviceHeader) == d.token
}

// markDevice adds the device mark to a copy of each request.
type markDevice struct {
	token string
	next  http.RoundTripper
}

func (m markDevice) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(deviceHeader, m.token)
	return m.next.RoundTrip(req)
}

// entityPath is the device's entity path on the server.
func (d *Device) entityPath() string {
	return "/v2/Services/" + url.PathEscape(d.ServiceSID) + "/Entities/" + url.PathEscape(d.Identity)
}

// send makes one request as the mobile SDK does, with Basic auth
// token:<secret> (an access token or the factor's JWT), and decodes the JSON
// answer into out. A non-2xx answer is a *verify.APIError, so errors.Is
// works with the SDK's sentinels.
func (d *Device) send(ctx context.Context, method, path string, form url.Values, secret string, out any) (http.Header, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, d.srv.URL+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(tokenUser, secret)
	resp, err := d.srv.devices.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		apiErr := &verify.APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("Twilio-Request-Id")}
		var e struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
		}
		if json.Unmarshal(raw, &e) == nil {
			apiErr.Code, apiErr.Message, apiErr.MoreInfo = e.Code, e.Message, e.MoreInfo
		}
		return nil, apiErr
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("verifytest: device decoding the answer to %s %s: %w", method, path, err)
	}
	return resp.Header, nil
}
