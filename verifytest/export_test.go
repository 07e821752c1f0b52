package verifytest

import "net/http"

// WrapDeviceTransport puts wrap around the transport the server's Devices
// use, so that tests can check their traffic against the API contract too.
func WrapDeviceTransport(s *Server, wrap func(http.RoundTripper) http.RoundTripper) {
	s.devices.client.Transport = wrap(s.devices.client.Transport)
}
