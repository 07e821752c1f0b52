package verify

import (
	"crypto/hmac"
	"net/http"
	"net/url"
	"strings"

	"github.com/verifykit/verify-go/internal/twiliosig"
)

// SignatureHeader is the request header Twilio puts a webhook's signature in.
const SignatureHeader = "X-Twilio-Signature"

// bodyHashParam is the query parameter Twilio adds to the URL of a delivery
// with a JSON body: the hex SHA-256 of the raw body.
const bodyHashParam = twiliosig.BodyHashParam

// checkSignature reports whether mac, the decoded signature, is what one of
// tokens gives for rawURL, or for rawURL with its scheme's default port
// added or removed, followed by data: a form's twiliosig.FormData, computed
// once for every URL checked, or nil for a JSON delivery. Every comparison
// runs in constant time.
func checkSignature(tokens []Secret, mac []byte, rawURL string, data []byte) bool {
	ok := false
	for _, u := range urlVariants(rawURL) {
		for _, tok := range tokens {
			if hmac.Equal(mac, twiliosig.MAC(tok.Reveal(), u, data)) {
				ok = true
			}
		}
	}
	return ok
}

// checkBodyHash reports whether hexSum, from the URL's bodySHA256, is the
// SHA-256 of body, comparing in constant time.
func checkBodyHash(hexSum string, body []byte) bool {
	return hmac.Equal([]byte(strings.ToLower(hexSum)), []byte(twiliosig.BodyHash(body)))
}

// defaultPorts are the ports a URL may carry or leave out to the same effect.
var defaultPorts = map[string]string{"https": "443", "http": "80"}

// urlVariants is rawURL as it is, then with its scheme's default port added
// when it has no port, or removed when it has that port. Twilio has signed
// both forms over the years. Other ports, and anything unparsable, stay as
// they are. The text is edited in place so that the path and query keep
// their exact encoding.
func urlVariants(rawURL string) []string {
	out := []string{rawURL}
	sep := strings.Index(rawURL, "://")
	if sep <= 0 {
		return out
	}
	def, ok := defaultPorts[strings.ToLower(rawURL[:sep])]
	if !ok {
		return out
	}
	start := sep + len("://")
	end := len(rawURL)
	if i := strings.IndexAny(rawURL[start:], "/?#"); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndex(rawURL[start:end], "@"); at >= 0 {
		start += at + 1 // skip userinfo
	}
	host := rawURL[start:end]
	colon := strings.LastIndex(host, ":")
	switch {
	case host == "":
	case colon < 0 || colon < strings.LastIndex(host, "]"): // no port (an IPv6 literal has colons inside [])
		out = append(out, rawURL[:end]+":"+def+rawURL[end:])
	case host[colon+1:] == def:
		out = append(out, rawURL[:start+colon]+rawURL[end:])
	}
	return out
}

// rawQueryParam returns the first key=value segment of rawQuery whose key is
// key, exactly as it was encoded, and its decoded value.
func rawQueryParam(rawQuery, key string) (segment, value string, ok bool) {
	for rawQuery != "" {
		var seg string
		seg, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(seg, "=")
		if k != key {
			continue
		}
		dec, err := url.QueryUnescape(v)
		if err != nil {
			return "", "", false
		}
		return seg, dec, true
	}
	return "", "", false
}

// signedURL is the URL Twilio signed for r: PublicURL when set, with the
// bodySHA256 Twilio added on delivery taken from r; otherwise the URL
// rebuilt from r, with X-Forwarded-Proto and X-Forwarded-Host honoured only
// when trustForwarded is set.
func signedURL(r *http.Request, publicURL string, trustForwarded bool) string {
	if publicURL != "" { // WebhookConfig.check refuses one with a bodySHA256 of its own
		if seg, _, ok := rawQueryParam(r.URL.RawQuery, bodyHashParam); ok {
			return twiliosig.AppendQuery(publicURL, seg)
		}
		return publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if trustForwarded {
		if p := firstHeaderValue(r.Header.Get("X-Forwarded-Proto")); p != "" {
			scheme = strings.ToLower(p)
		}
		if h := firstHeaderValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	uri := r.RequestURI
	if uri == "" || !strings.HasPrefix(uri, "/") {
		uri = r.URL.RequestURI()
	}
	return scheme + "://" + host + uri
}

// queryOf is the raw query of rawURL, without any fragment.
func queryOf(rawURL string) string {
	rawURL, _, _ = strings.Cut(rawURL, "#")
	_, q, _ := strings.Cut(rawURL, "?")
	return q
}

// firstHeaderValue is the first of a comma-separated header's values, as
// the proxy nearest the client wrote it.
func firstHeaderValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}
