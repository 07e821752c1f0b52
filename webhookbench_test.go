package verify

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// bogusForm is a form body of about size bytes that no token signed:
// fields of fieldSize bytes each ("f00001=vvv…&"), as a flood would send.
func bogusForm(size, fieldSize int) string {
	var b strings.Builder
	for i := 0; b.Len() < size-fieldSize; i++ {
		if i > 0 {
			b.WriteByte('&')
		}
		k := fmt.Sprintf("f%05d=", i)
		b.WriteString(k + strings.Repeat("v", max(0, fieldSize-len(k)-1)))
	}
	return b.String()
}

// BenchmarkParseEvent is what ParseEvent costs for a real event and for a
// refused flood: a bogus 64 KiB form of small fields, and one of 1 KiB
// fields, both with a well-formed signature that no token made, read with
// a 64 KiB cap (the default before 0.3.0) and with the default.
func BenchmarkParseEvent(b *testing.B) {
	form := eventForm()
	realForm := form.Encode()
	realJSON := `{"uuid":"3a1c1b1e-0000-4000-8000-000000000001","type":"challenge.approved","account_sid":"` + testAccount +
		`","service_sid":"` + testService + `","challenge_sid":"` + testChallenge + `","challenge_status":"approved","date_created":"` + testEventDate + `"}`
	jsonURL, jsonSig := signWebhookJSON(testToken, hookURL, []byte(realJSON))
	cap64 := WebhookConfig{AuthTokens: Secrets(testToken), MaxBodyBytes: 64 << 10}
	for _, bc := range []struct {
		name, target, contentType, body, sig string
		cfg                                  WebhookConfig
		ok                                   bool
	}{
		{"real event form", hookURL, "application/x-www-form-urlencoded", realForm, signWebhook(testToken, hookURL, form), testConfig(), true},
		{"real event JSON", jsonURL, "application/json", realJSON, jsonSig, testConfig(), true},
		{"bogus 64KiB form, 10-byte fields, 64KiB cap", hookURL, "application/x-www-form-urlencoded", bogusForm(64<<10, 10), wrongSignature, cap64, false},
		{"bogus 64KiB form, 1KiB fields, 64KiB cap", hookURL, "application/x-www-form-urlencoded", bogusForm(64<<10, 1<<10), wrongSignature, cap64, false},
		{"bogus 64KiB form, 10-byte fields, default cap", hookURL, "application/x-www-form-urlencoded", bogusForm(64<<10, 10), wrongSignature, testConfig(), false},
		{"bogus 16KiB form, 256-byte fields, default cap", hookURL, "application/x-www-form-urlencoded", bogusForm(16<<10, 256), wrongSignature, testConfig(), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodPost, bc.target, nil)
			r.Header.Set("Content-Type", bc.contentType)
			r.Header.Set(SignatureHeader, bc.sig)
			r.ContentLength = int64(len(bc.body))
			body := []byte(bc.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r.Body = io.NopCloser(bytes.NewReader(body))
				if _, err := ParseEvent(r, bc.cfg); (err == nil) != bc.ok {
					b.Fatal(err)
				}
			}
		})
	}
}
