package verifytest

import (
	"net/http"
	"time"
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
