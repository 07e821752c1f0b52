package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestLargestEventsAndTheDefaultBodyCap: the largest event verifytest's fake
// sends, every limit filled (a 64-character identity and factor name, a
// 256-character message, 20 fields of 36 and 128 characters, hidden details
// and metadata of 1,024 characters as JSON), as DefaultWebhookMaxBodyBytes
// documents it. ASCII text fits as a form, even quotes (escaped in JSON,
// then percent-encoded), and any text fits as JSON; only a form with every
// limit filled with non-ASCII text (a character up to 12 bytes,
// percent-encoded) is over the cap and refused with 413. MaxBodyBytes 96 KiB
// takes them all.
func TestLargestEventsAndTheDefaultBodyCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		char        string
		json        bool
		size        int // KiB of the body, rounded down
		fitsDefault bool
	}{
		{"a", false, 7, true},
		{"a", true, 6, true},
		{`"`, false, 28, true},
		{`"`, true, 10, true},
		{"語", true, 17, true},
		{"😀", true, 23, true},
		{"語", false, 51, false},
		{"😀", false, 67, false},
	} {
		name := fmt.Sprintf("%q as JSON %v", tc.char, tc.json)
		for maxBody, want := range map[int64]bool{0: tc.fitsDefault, 96 << 10: true} {
			size, status := deliverLargestEvent(t, tc.char, tc.json, maxBody)
			if size>>10 != tc.size {
				t.Errorf("%s: %d bytes, want %d KiB", name, size, tc.size)
			}
			if wantStatus := map[bool]int{true: 204, false: 413}[want]; status != wantStatus {
				t.Errorf("%s, MaxBodyBytes %d: %d bytes answered %d, want %d", name, maxBody, size, status, wantStatus)
			}
		}
	}
}

// deliverLargestEvent has the fake send its largest challenge.approved,
// every text made of char, to a NewWebhookHandler capped at maxBody, and
// returns the body's size and the handler's answer.
func deliverLargestEvent(t *testing.T, char string, asJSON bool, maxBody int64) (size, status int) {
	t.Helper()
	var opts []verifytest.Option
	if asJSON {
		opts = append(opts, verifytest.WithJSONDeliveries())
	}
	srv := verifytest.NewServer(opts...)
	defer srv.Close()
	var got atomic.Int64
	h := verify.NewWebhookHandler(verify.WebhookConfig{AuthTokens: verify.Secrets(srv.AuthToken()), MaxBodyBytes: maxBody},
		func(context.Context, *verify.Event) error { return nil })
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.ContentLength)
		h.ServeHTTP(w, r)
	}))
	defer rc.Close()
	if _, err := srv.WebhookURL(rc.URL+"/hooks/verify", verify.EventChallengeApproved); err != nil {
		t.Fatal(err)
	}
	ctx, c, svc := context.Background(), srv.Client(), srv.ServiceSID()
	rep := func(n int) string { return strings.Repeat(char, n) }
	quoted, err := json.Marshal(char)
	if err != nil {
		t.Fatal(err)
	}
	mapValue := rep((verify.MaxJSONMapLength - len(`{"k":""}`)) / (utf8.RuneCount(quoted) - 2)) // the longest {"k": …}
	identity := strings.Repeat("a", 64)
	f, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: rep(64)})
	if err != nil {
		t.Fatal(err)
	}
	totp, err := srv.TOTPFactor(svc, identity, f.SID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Factors.Verify(ctx, svc, identity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(totp.Code())}); err != nil {
		t.Fatal(err)
	}
	fields := make([]verify.Field, verify.MaxFields)
	for i := range fields {
		fields[i] = verify.Field{Label: rep(verify.MaxFieldLabelLength), Value: rep(verify.MaxFieldValueLength)}
	}
	ch, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: f.SID,
		Details:       &verify.Details{Message: rep(verify.MaxMessageLength), Fields: fields},
		HiddenDetails: verify.NewSecretMap(map[string]string{"k": mapValue})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Challenges.Update(ctx, svc, identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(totp.Code()),
		Metadata: verify.StringMap{"k": mapValue}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitForDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	d := srv.Deliveries()
	if len(d) != 1 {
		t.Fatalf("%d deliveries, want 1: %+v", len(d), d)
	}
	return int(got.Load()), d[0].StatusCode
}
