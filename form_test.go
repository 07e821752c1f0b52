package verify

import (
	"net/url"
	"strings"
	"testing"
)

// The SDK writes form bodies with its own encoder (encodeForm); it must
// write exactly what url.Values.Encode writes.

func TestEncodeFormIsValuesEncode(t *testing.T) {
	var every strings.Builder
	for c := 0; c < 256; c++ {
		every.WriteByte(byte(c))
	}
	for _, form := range []url.Values{
		nil,
		{},
		{"FactorSid": {"YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
		{"every byte": {every.String()}, every.String(): {"key"}, "": {""}},
		{"Details.Fields": {`{"label":"IP","value":"203.0.113.7"}`, `{"label":"Où","value":"Lyon, FR"}`},
			"Details.Message": {"Log in to Example Corp?"}, "HiddenDetails": {`{"session":"web-42"}`},
			"AuthPayload": {"eyJhbGciOiJFUzI1NiJ9.payload.c2ln+/="}, "Metadata": {"ä € 𝄞 \u2028"}},
	} {
		if got, want := string(encodeForm(form)), form.Encode(); got != want {
			t.Errorf("encodeForm(%q)\n got %q\nwant %q", form, got, want)
		}
	}
	// More keys than the encoder's small array holds.
	many := url.Values{}
	for i := 0; i < 40; i++ {
		many.Add(strings.Repeat("k", 40-i), strings.Repeat("v ", i))
	}
	if got, want := string(encodeForm(many)), many.Encode(); got != want {
		t.Errorf("encodeForm of 40 keys\n got %q\nwant %q", got, want)
	}
}

// TestEncodeFormSetsTheFixedValues: the fixed pairs land where form.Set
// would put them, replacing a value the params already had.
func TestEncodeFormSetsTheFixedValues(t *testing.T) {
	form := url.Values{"FriendlyName": {"Ada's phone"}, "FactorType": {"push", "sms"}}
	fixed := []string{"FactorType", "totp", "Binding.Alg", "ES256", "Identity", "a b"}
	want := url.Values{}
	for k, v := range form {
		want[k] = v
	}
	for i := 0; i < len(fixed); i += 2 {
		want.Set(fixed[i], fixed[i+1])
	}
	if got := string(encodeForm(form, fixed...)); got != want.Encode() {
		t.Errorf("got %q\nwant %q", got, want.Encode())
	}
	if form.Get("FactorType") != "push" {
		t.Errorf("encodeForm changed the form: %q", form)
	}
}

// TestJSONMapOfManyKeys: more keys than the encoder sorts in place.
func TestJSONMapOfManyKeys(t *testing.T) {
	m := StringMap{}
	for i := 0; i < 40; i++ {
		m[strings.Repeat("k", 40-i)] = strings.Repeat("é", i)
	}
	v := url.Values{}
	if err := m.EncodeValues("Metadata", &v); err != nil {
		t.Fatal(err)
	}
	if got, want := v.Get("Metadata"), referenceJSON(t, map[string]string(m)); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// createForm is the form of the bench module's Create.
var createForm = url.Values{"FactorSid": {"YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "Details.Message": {"Log in to Example Corp?"},
	"Details.Fields": {`{"label":"Location","value":"Lyon, FR"}`, `{"label":"IP","value":"203.0.113.7"}`},
	"HiddenDetails":  {`{"session":"web-42"}`}}

// BenchmarkEncodeForm and BenchmarkValuesEncode compare the SDK's form
// encoder with url.Values.Encode on a Create's form.
func BenchmarkEncodeForm(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = encodeForm(createForm)
	}
}

func BenchmarkValuesEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = []byte(createForm.Encode())
	}
}

// BenchmarkCreateForm is the whole form of the bench module's Create:
// go-querystring over the params, then the encoder.
func BenchmarkCreateForm(b *testing.B) {
	p := &CreateChallengeParams{FactorSID: testFactor,
		Details: &Details{Message: "Log in to Example Corp?",
			Fields: []Field{{Label: "Location", Value: "Lyon, FR"}, {Label: "IP", Value: "203.0.113.7"}}},
		HiddenDetails: NewSecretMap(map[string]string{"session": "web-42"})}
	b.ReportAllocs()
	for b.Loop() {
		form, err := formValues(p)
		if err != nil {
			b.Fatal(err)
		}
		_ = encodeForm(form)
	}
}
