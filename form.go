package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/go-querystring/query"
)

// formValues encodes a params struct with its url tags and, for a params
// type that has them, the fields formExtras adds.
func formValues(params any) (url.Values, error) {
	v, err := query.Values(params)
	if err != nil {
		return nil, fmt.Errorf("verify: encoding parameters: %w", err)
	}
	if extra, ok := params.(formExtras); ok {
		extra.addForm(v)
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
// -_.~ as they are, a space as +, every other byte as %XX. Runs of bytes
// that stay as they are are copied at once.
func appendQueryEscape(b []byte, s string) []byte {
	const upperhex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if queryUnescaped[c] {
			continue
		}
		b = append(b, s[start:i]...)
		if c == ' ' {
			b = append(b, '+')
		} else {
			b = append(b, '%', upperhex[c>>4], upperhex[c&15])
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

// queryUnescaped marks the bytes url.QueryEscape leaves as they are.
var queryUnescaped = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

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
	setJSONMap(v, key, m, plainText)
	return nil
}

// plainText is a StringMap value's text, for the JSON map helpers.
func plainText(s string) string { return s }

// setJSONMap sets key to the compact JSON of m, whose values are text(v);
// an empty m sets nothing.
func setJSONMap[V any](v *url.Values, key string, m map[string]V, text func(V) string) {
	if len(m) == 0 {
		return
	}
	bp := formBuffers.Get().(*[]byte)
	*bp = appendJSONMap((*bp)[:0], m, text)
	v.Set(key, string(*bp))
	formBuffers.Put(bp)
}

// appendJSONMap appends m, its values text(v), as compact JSON: what
// encoding/json (without HTML escaping) writes for a map[string]string,
// keys sorted. encoding/json needs the map as a map[string]string, which a
// SecretMap would have to copy out first, and allocates as it sorts.
func appendJSONMap[V any](b []byte, m map[string]V, text func(V) string) []byte {
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, text(m[k]))
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it without HTML escaping: quote, backslash and control characters,
// U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// EncodeValues sets key.Message and one key.Fields value per field, each a
// compact JSON object; go-querystring calls it. Date is never sent.
func (d *Details) EncodeValues(key string, v *url.Values) error {
	if d == nil {
		return nil
	}
	messageKey, fieldsKey := "Details.Message", "Details.Fields" // the key CreateChallengeParams gives, spelled out
	if key != "Details" {
		messageKey, fieldsKey = key+".Message", key+".Fields"
	}
	if d.Message != "" {
		v.Set(messageKey, d.Message)
	}
	if len(d.Fields) == 0 {
		return nil
	}
	fields := make([]string, 0, len((*v)[fieldsKey])+len(d.Fields)) // one slice for every field
	fields = append(fields, (*v)[fieldsKey]...)
	bp := formBuffers.Get().(*[]byte)
	for i := range d.Fields {
		*bp = appendFieldJSON((*bp)[:0], &d.Fields[i])
		fields = append(fields, string(*bp))
	}
	formBuffers.Put(bp)
	(*v)[fieldsKey] = fields
	return nil
}

// appendFieldJSON appends f as compact JSON, what encoding/json (without
// HTML escaping) writes for a Field, without its reflection.
func appendFieldJSON(b []byte, f *Field) []byte {
	b = append(b, `{"label":`...)
	b = appendJSONString(b, f.Label)
	b = append(b, `,"value":`...)
	b = appendJSONString(b, f.Value)
	return append(b, '}')
}

// setJSON sets key to value's compact JSON, encoded once.
func setJSON(v *url.Values, key string, value any) error {
	s, err := compactJSON(value)
	if err != nil {
		return err
	}
	v.Set(key, s)
	return nil
}

// compactJSON is v as compact JSON text, without HTML escaping, so what is
// measured and sent is the text the caller wrote.
func compactJSON(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
