package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// SignatureHeader is the request header Twilio puts a webhook's signature in.
const SignatureHeader = "X-Twilio-Signature"

// bodyHashParam is the query parameter Twilio adds to the URL of a delivery
// with a JSON body: the hex SHA-256 of the raw body.
const bodyHashParam = "bodySHA256"

// SignWebhook computes the X-Twilio-Signature of a delivery to rawURL with a
// form body, as Twilio does: base64(HMAC-SHA1(authToken, rawURL followed by
// each form key and value, keys sorted, a repeated key's values sorted)). It
// is for tests and fakes that play Twilio; receivers use ParseEvent.
func SignWebhook(authToken, rawURL string, form url.Values) string {
	return base64.StdEncoding.EncodeToString(webhookMAC(authToken, signedData(rawURL, form)))
}

// SignWebhookJSON signs a delivery with a JSON body the way Twilio does: it
// adds bodySHA256 (the body's hex SHA-256) to rawURL's query and signs that
// URL alone. It returns the URL to deliver to and the signature, for tests
// and fakes that play Twilio.
func SignWebhookJSON(authToken, rawURL string, body []byte) (deliveryURL, signature string) {
	sum := sha256.Sum256(body)
	deliveryURL = appendQuery(rawURL, bodyHashParam+"="+hex.EncodeToString(sum[:]))
	return deliveryURL, SignWebhook(authToken, deliveryURL, nil)
}

// signedData is the text Twilio signs: the URL, then every key and value of
// the form body with no separators, keys in byte order and the values of a
// repeated key in byte order, each value counted.
func signedData(rawURL string, form url.Values) []byte {
	keys := make([]string, 0, len(form))
	n := len(rawURL)
	for k, vs := range form {
		keys = append(keys, k)
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	sort.Strings(keys)
	b := make([]byte, 0, n)
	b = append(b, rawURL...)
	var vs []string
	for _, k := range keys {
		vs = append(vs[:0], form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, v...)
		}
	}
	return b
}

func webhookMAC(token string, data []byte) []byte {
	m := hmac.New(sha1.New, []byte(token))
	m.Write(data)
	return m.Sum(nil)
}

// checkSignature reports whether signature is what one of tokens gives for
// rawURL, or for rawURL with its scheme's default port added or removed, and
// form. Every comparison runs in constant time.
func checkSignature(tokens []Secret, signature, rawURL string, form url.Values) bool {
	got := []byte(signature)
	ok := false
	for _, u := range urlVariants(rawURL) {
		data := signedData(u, form)
		for _, tok := range tokens {
			want := base64.StdEncoding.EncodeToString(webhookMAC(tok.Reveal(), data))
			if hmac.Equal(got, []byte(want)) {
				ok = true
			}
		}
	}
	return ok
}

// checkBodyHash reports whether hexSum, from the URL's bodySHA256, is the
// SHA-256 of body, comparing in constant time.
func checkBodyHash(hexSum string, body []byte) bool {
	sum := sha256.Sum256(body)
	return hmac.Equal([]byte(strings.ToLower(hexSum)), []byte(hex.EncodeToString(sum[:])))
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

// appendQuery adds param (already encoded) to rawURL's query, before any fragment.
func appendQuery(rawURL, param string) string {
	frag := ""
	if i := strings.IndexByte(rawURL, '#'); i >= 0 {
		rawURL, frag = rawURL[:i], rawURL[i:]
	}
	switch {
	case !strings.Contains(rawURL, "?"):
		rawURL += "?"
	case !strings.HasSuffix(rawURL, "?") && !strings.HasSuffix(rawURL, "&"):
		rawURL += "&"
	}
	return rawURL + param + frag
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
			return appendQuery(publicURL, seg)
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
