package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
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

// encodeForm encodes params with their url tags and, for a params type
// that has them, the fields formExtras adds.
func encodeForm(params any) (url.Values, error) {
	form, err := formValues(params)
	if err != nil {
		return nil, err
	}
	if extra, ok := params.(formExtras); ok {
		extra.addForm(form)
	}
	return form, nil
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
	return setJSON(v, key, map[string]string(m))
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
