package verify

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
)

// redactedText stands in for a secret wherever a value would be printed.
const redactedText = "[redacted]"

// Secret holds a value that must never reach a log, an error or printed
// output: an auth token, a TOTP seed, an access token, a code. Every way Go
// prints or marshals a value (fmt with any verb, log/slog with any handler,
// encoding/json, encoding.TextMarshaler) shows "[redacted]" instead, also
// when the Secret sits in a field, slice or map of your own types, exported
// or not. Reveal returns the value itself.
//
// The zero Secret is empty and prints as the empty string. Compare secrets
// with Reveal, not ==, which compares identity.
type Secret struct {
	v *string // behind a pointer, so printing an unexported field shows an address, not the value
}

// NewSecret wraps s; an empty s gives the zero (empty) Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

// String is "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return redactedText
}

// GoString is what %#v shows: the type and "[redacted]".
func (s Secret) GoString() string { return "verify.Secret(" + quoteRedacted(s) + ")" }

// Format prints String whatever the verb; %q quotes it and %#v adds the type.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, s.GoString())
	case verb == 'q':
		fmt.Fprint(f, quoteRedacted(s))
	default:
		fmt.Fprint(f, s.String())
	}
}

// LogValue gives log/slog "[redacted]", whatever the handler.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes "[redacted]" (or "" when empty), never the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(quoteRedacted(s)), nil }

// MarshalText writes "[redacted]" (or nothing when empty), never the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalJSON reads a JSON string (or null) into the secret, as the API
// sends a TOTP seed or an access token.
func (s *Secret) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = Secret{}
		return nil
	}
	if v, ok := plainJSONString(b); ok {
		*s = NewSecret(v)
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("verify: a secret must be a JSON string: %w", err)
	}
	*s = NewSecret(v)
	return nil
}

// UnmarshalText reads text into the secret.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = NewSecret(string(b))
	return nil
}

// EncodeValues sends the value itself as the form value key; the SDK's
// form encoder (go-querystring) calls it. An empty secret is not sent.
func (s Secret) EncodeValues(key string, v *url.Values) error {
	if !s.IsZero() {
		v.Set(key, *s.v)
	}
	return nil
}

func quoteRedacted(s Secret) string {
	if s.IsZero() {
		return `""`
	}
	return `"` + redactedText + `"`
}

// SecretMap is a JSON object of string values whose values are secrets,
// such as a challenge's HiddenDetails: its keys print, its values show as
// "[redacted]" wherever Secret's would. Reveal returns the values.
type SecretMap struct {
	m map[string]Secret // each value a Secret, so raw printing shows addresses
}

// NewSecretMap holds a copy of m; an empty m gives the zero SecretMap.
func NewSecretMap(m map[string]string) SecretMap {
	if len(m) == 0 {
		return SecretMap{}
	}
	out := make(map[string]Secret, len(m))
	for k, v := range m {
		out[k] = Secret{v: &v}
	}
	return SecretMap{m: out}
}

// Reveal returns a new map of the keys and their values, for the one place
// that needs them; nil when empty.
func (s SecretMap) Reveal() map[string]string {
	if len(s.m) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.m))
	for k, v := range s.m {
		out[k] = v.Reveal()
	}
	return out
}

// Len is the number of entries.
func (s SecretMap) Len() int { return len(s.m) }

// IsZero reports whether the map is empty.
func (s SecretMap) IsZero() bool { return len(s.m) == 0 }

// keys returns the keys in order.
func (s SecretMap) keys() []string {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String shows the keys in order, each value "[redacted]": map[ip:[redacted]].
func (s SecretMap) String() string {
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range s.keys() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteString(":" + redactedText)
	}
	b.WriteByte(']')
	return b.String()
}

// Format prints String whatever the verb.
func (s SecretMap) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, "verify.SecretMap("+s.String()+")")
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue gives log/slog a group of the keys, each value "[redacted]".
func (s SecretMap) LogValue() slog.Value {
	keys := s.keys()
	attrs := make([]slog.Attr, len(keys))
	for i, k := range keys {
		attrs[i] = slog.String(k, redactedText)
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the keys with every value "[redacted]".
func (s SecretMap) MarshalJSON() ([]byte, error) {
	if s.m == nil {
		return []byte("null"), nil
	}
	return json.Marshal(s.m) // each value a Secret, which marshals redacted
}

// UnmarshalJSON reads a JSON object of strings (or null) into the map.
func (s *SecretMap) UnmarshalJSON(b []byte) error {
	var fast map[string]Secret
	if scanFlatObject(b, func(key, value []byte, kind byte) bool {
		if kind != flatString && kind != flatNull {
			return false
		}
		if fast == nil {
			fast = make(map[string]Secret)
		}
		fast[string(key)] = NewSecret(string(value)) // null: the empty secret, as json gives ""
		return true
	}) {
		*s = SecretMap{m: fast}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("verify: expected a JSON object of strings: %w", err)
	}
	*s = NewSecretMap(m)
	return nil
}

// EncodeValues sends the whole map as one form value key holding its
// compact JSON, encoded once; the SDK's form encoder calls it.
func (s SecretMap) EncodeValues(key string, v *url.Values) error {
	setJSONMap(v, key, s.m, Secret.Reveal)
	return nil
}
