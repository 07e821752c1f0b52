package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"

	"github.com/google/go-querystring/query"
)

// formValues encodes a params struct with its url tags.
func formValues(params any) (url.Values, error) {
	v, err := query.Values(params)
	if err != nil {
		return nil, fmt.Errorf("verify: encoding parameters: %w", err)
	}
	return v, nil
}

// encodeForm is form.Encode() with the fixed values set, given as key,
// value pairs (such as FactorType for a factor) as form.Set would set them:
// the same bytes, keys sorted and every key and value query-escaped, built
// in a pooled buffer and copied out once. url.Values.Encode allocates for
// every value it escapes, for its sorted keys and as its builder grows, a
// dozen times for a challenge; this is one allocation, the result.
func encodeForm(form url.Values, fixed ...string) []byte {
	bp := formBuffers.Get().(*[]byte)
	b := appendForm((*bp)[:0], form, fixed)
	out := bytes.Clone(b)
	if cap(b) <= 64<<10 { // a rare huge form is not kept
		*bp = b
		formBuffers.Put(bp)
	}
	return out
}

var formBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendForm appends encodeForm(form, fixed...) to b.
func appendForm(b []byte, form url.Values, fixed []string) []byte {
	var small [16]string // the keys of any params struct fit, so sorting them allocates nothing
	keys := small[:0]
	for k := range form {
		if _, ok := fixedValue(fixed, k); !ok {
			keys = append(keys, k)
		}
	}
	for i := 0; i+1 < len(fixed); i += 2 {
		if !slices.Contains(keys, fixed[i]) {
			keys = append(keys, fixed[i])
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v, ok := fixedValue(fixed, k); ok {
			b = appendPair(b, k, v)
			continue
		}
		for _, v := range form[k] {
			b = appendPair(b, k, v)
		}
	}
	return b
}

// fixedValue is the value of key among the pairs, the last one if repeated.
func fixedValue(pairs []string, key string) (value string, ok bool) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] == key {
			value, ok = pairs[i+1], true
		}
	}
	return value, ok
}

// appendPair appends key=value, both query-escaped, after an & unless b is empty.
func appendPair(b []byte, key, value string) []byte {
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = appendQueryEscape(b, key)
	b = append(b, '=')
	return appendQueryEscape(b, value)
}

// appendQueryEscape appends url.QueryEscape(s) to b: letters, digits and
// -_.~ as they are, a space as +, every other byte as %XX.
func appendQueryEscape(b []byte, s string) []byte {
	const upperhex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return b
}

// formExtras is a params type with fields go-querystring cannot encode as
// the API wants, such as durations sent in whole seconds.
type formExtras interface {
	addForm(url.Values)
}

// StringMap is a JSON object of string values, such as HiddenDetails or
// Metadata. It is sent as one form value holding the whole object, encoded
// once; a map[string]string literal can be assigned to it directly.
type StringMap map[string]string

// EncodeValues sets key to the map's compact JSON; go-querystring calls it.
func (m StringMap) EncodeValues(key string, v *url.Values) error {
	if len(m) == 0 {
		return nil
	}
	s, err := compactJSON(map[string]string(m))
	if err != nil {
		return err
	}
	v.Set(key, s)
	return nil
}

// EncodeValues sets key.Message and one key.Fields value per field, each a
// compact JSON object; go-querystring calls it. Date is never sent.
func (d *Details) EncodeValues(key string, v *url.Values) error {
	if d == nil {
		return nil
	}
	if d.Message != "" {
		v.Set(key+".Message", d.Message)
	}
	fieldsKey := key + ".Fields"
	for i := range d.Fields {
		s, err := compactJSON(&d.Fields[i])
		if err != nil {
			return err
		}
		(*v)[fieldsKey] = append((*v)[fieldsKey], s)
	}
	return nil
}

// jsonBuffer is a reusable encoder without HTML escaping, so what is
// measured and sent is the text the caller wrote.
type jsonBuffer struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonBuffers = sync.Pool{New: func() any {
	b := &jsonBuffer{}
	b.enc = json.NewEncoder(&b.buf)
	b.enc.SetEscapeHTML(false)
	return b
}}

// withJSON encodes v compactly and hands the bytes to use, which must not keep them.
func withJSON(v any, use func([]byte)) error {
	b := jsonBuffers.Get().(*jsonBuffer)
	defer jsonBuffers.Put(b)
	b.buf.Reset()
	if err := b.enc.Encode(v); err != nil {
		return err
	}
	use(bytes.TrimSuffix(b.buf.Bytes(), []byte("\n")))
	return nil
}

// compactJSON is v as compact JSON text.
func compactJSON(v any) (s string, err error) {
	err = withJSON(v, func(b []byte) { s = string(b) })
	return s, err
}
