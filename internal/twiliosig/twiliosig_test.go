package twiliosig

import (
	"net/url"
	"testing"
)

func TestSignJSONAddsBodySHA256(t *testing.T) {
	t.Parallel()
	body := []byte(`{"uuid":"u-1","type":"factor.verified"}`)
	// sha256 of body, from: printf '%s' '{"uuid":"u-1","type":"factor.verified"}' | sha256sum
	const sum = "22629b330c46cb18c52753ed13d5306c9f52a79d9fd92a676fd435d6b229d603"
	got, sig := SignJSON("token", "https://example.com/h?a=1#frag", body)
	if want := "https://example.com/h?a=1&bodySHA256=" + sum + "#frag"; got != want || sig != Sign("token", got, nil) {
		t.Fatalf("SignJSON = %q, %q; want %q signed alone", got, sig, want)
	}
	for in, want := range map[string]string{
		"https://example.com/h": "https://example.com/h?p=1", "https://example.com/h?": "https://example.com/h?p=1",
		"https://example.com/h?a&": "https://example.com/h?a&p=1", "https://example.com/h#f": "https://example.com/h?p=1#f",
	} {
		if got := AppendQuery(in, "p=1"); got != want {
			t.Errorf("AppendQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignedData: the URL, then each key and value glued, keys sorted and
// a repeated key's values sorted; the signature as openssl computes it.
func TestSignedData(t *testing.T) {
	t.Parallel()
	form := url.Values{"b": {"2"}, "a": {"z", "y"}, "c": {""}}
	if got, want := string(SignedData("https://x/h", form)), "https://x/hayazb2c"; got != want {
		t.Errorf("SignedData = %q, want %q", got, want)
	}
	// from: printf '%s' 'https://x/h' | openssl dgst -sha1 -hmac key -binary | base64
	if got := Sign("key", "https://x/h", nil); got != "UryvuoLMZIpFT/rEYVqGwTBaezU=" {
		t.Errorf("Sign = %q", got)
	}
}

// TestDecode: a signature is the standard base64 of 20 bytes, padded;
// Decode gives back the MAC that Sign encoded, and nothing for the rest.
func TestDecode(t *testing.T) {
	t.Parallel()
	form := url.Values{"b": {"2"}, "a": {"z", "y"}}
	sig := Sign("key", "https://x/h", form)
	mac, ok := Decode(sig)
	if !ok || string(mac) != string(MAC("key", "https://x/h", FormData(form))) {
		t.Errorf("Decode(%q) = %x, %v; want the MAC of the URL and the form's data", sig, mac, ok)
	}
	for _, bad := range []string{"", "AAAA", sig[:27], sig + "=", "!" + sig[1:], "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAA=="} {
		if _, ok := Decode(bad); ok {
			t.Errorf("Decode(%q) took it for a signature", bad)
		}
	}
}
