package main

import (
	"net"
	"net/http"
	"strings"
)

// clientIP is the address the request came from: the connection's, or,
// when the app trusts a proxy's header (-trust-proxy-header), the last
// address in that header, the one the proxy itself added. Only trust a
// header that the proxy in front always sets or appends to: a client can
// send any header, and without a proxy that overwrites it, the address
// it claims would pick the limits it is counted against.
func (a *app) clientIP(r *http.Request) string {
	if a.addrHeader != "" {
		values := r.Header.Values(a.addrHeader)
		if len(values) > 0 {
			list := strings.Split(values[len(values)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(list[len(list)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// addrKey is the client address limits count by: an IPv4 address, or the
// /64 network of an IPv6 address, since one client usually has a whole
// /64 to pick addresses from.
func (a *app) addrKey(r *http.Request) string {
	ip := net.ParseIP(a.clientIP(r))
	if ip == nil || ip.To4() != nil {
		return a.clientIP(r)
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
