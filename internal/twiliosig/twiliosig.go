// Package twiliosig is Twilio's webhook signature, X-Twilio-Signature, in
// one place: the verify package checks it, verifytest signs with it.
//
// The signature is base64(HMAC-SHA1(auth token, data)), where data is the
// URL followed by each form key and value with no separator, keys in byte
// order and a repeated key's values in byte order, every value counted. A
// JSON body is signed through the URL alone, with bodySHA256 (the body's
// hex SHA-256) added to its query.
package twiliosig

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// BodyHashParam is the query parameter Twilio adds to the URL of a
// delivery with a JSON body: the hex SHA-256 of the raw body.
const BodyHashParam = "bodySHA256"

// Size is the length of a signature's HMAC-SHA1, before base64.
const Size = sha1.Size

// SignedData is the text Twilio signs for a delivery of form to rawURL:
// rawURL followed by FormData(form).
func SignedData(rawURL string, form url.Values) []byte {
	return appendFormData([]byte(rawURL), form)
}

// FormData is what Twilio signs of form after the URL: each key and value
// glued, keys in byte order and a repeated key's values in byte order. A
// receiver computes it once for every URL it checks.
func FormData(form url.Values) []byte {
	return appendFormData(nil, form)
}

func appendFormData(b []byte, form url.Values) []byte {
	keys := make([]string, 0, len(form))
	n := len(b)
	for k, vs := range form {
		keys = append(keys, k)
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	sort.Strings(keys)
	b = slices.Grow(b, n-len(b))
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

// MAC is the HMAC-SHA1 under token of rawURL followed by data (FormData
// of a form, nil for a JSON delivery): the Size bytes a signature encodes.
func MAC(token, rawURL string, data []byte) []byte {
	m := hmac.New(sha1.New, []byte(token))
	_, _ = io.WriteString(m, rawURL)
	m.Write(data)
	return m.Sum(nil)
}

// Decode is the MAC a signature header carries, and whether it is one:
// standard base64 of Size bytes. Anything else cannot verify.
func Decode(signature string) (mac []byte, ok bool) {
	if len(signature) != base64.StdEncoding.EncodedLen(Size) {
		return nil, false
	}
	mac, err := base64.StdEncoding.DecodeString(signature)
	return mac, err == nil && len(mac) == Size
}

// SignData is the signature of data under token.
func SignData(token string, data []byte) string {
	return base64.StdEncoding.EncodeToString(MAC(token, "", data))
}

// Sign is the signature of a delivery of form to rawURL under token.
func Sign(token, rawURL string, form url.Values) string {
	return SignData(token, SignedData(rawURL, form))
}

// SignJSON adds bodySHA256 for body to rawURL's query, before any
// fragment, and signs that URL alone: the URL to deliver to, and its
// signature.
func SignJSON(token, rawURL string, body []byte) (deliveryURL, signature string) {
	deliveryURL = AppendQuery(rawURL, BodyHashParam+"="+BodyHash(body))
	return deliveryURL, Sign(token, deliveryURL, nil)
}

// BodyHash is the hex SHA-256 of body, as bodySHA256 carries it.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// AppendQuery adds param (already encoded) to rawURL's query, before any
// fragment.
func AppendQuery(rawURL, param string) string {
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
