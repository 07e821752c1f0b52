package verify

import (
	"bytes"
	"encoding/json"
	"net/url"
)

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
	for _, f := range d.Fields {
		s, err := compactJSON(f)
		if err != nil {
			return err
		}
		v.Add(key+".Fields", s)
	}
	return nil
}

// compactJSON marshals v without HTML escaping, so lengths match what the API counts.
func compactJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}
