package verify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

func ExampleNewWebhookHandler() {
	const hookURL = "https://example.com/hooks/verify"
	hub := verify.NewEventHub()
	handler := verify.NewWebhookHandler(verify.WebhookConfig{
		AuthTokens: verify.Secrets("your_auth_token"),
		PublicURL:  hookURL, // as registered at Twilio
	}, func(ctx context.Context, ev *verify.Event) error {
		fmt.Println("handled", ev.Type, ev.ChallengeSID)
		return hub.Publish(ctx, ev)
	})

	// What Twilio sends, signed here by verifytest.SignWebhook; delivered twice, as a retry would.
	form := url.Values{
		"uuid":             {"9b2c0a8e-0000-4000-8000-000000000001"},
		"type":             {"challenge.approved"},
		"challenge_sid":    {"YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"challenge_status": {"approved"},
		"date_created":     {time.Now().UTC().Format(time.RFC3339)},
	}
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(verify.SignatureHeader, verifytest.SignWebhook("your_auth_token", hookURL, form))
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// handled challenge.approved YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	// 204
	// 200
}
