package verifytest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verify-go/verifytest"
)

// TestWithDeliveryLogger: each attempt is one info line that says whether
// the receiver took the event, refused it (4xx, final) or failed (retried),
// with the webhook, URL, event and status; never the signature or token.
func TestWithDeliveryLogger(t *testing.T) {
	var logs syncLog
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	srv := verifytest.NewServer(verifytest.WithDeliveryLogger(logger),
		verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{Attempts: 2, Backoff: time.Millisecond}))
	defer srv.Close()
	rc := newReceiver(t, srv, "/hooks/verify")
	rc.front = func(n int, w http.ResponseWriter, r *http.Request) int {
		return map[int]int{1: http.StatusInternalServerError, 3: http.StatusForbidden}[n] // 2: the handler's 204
	}
	hook, err := srv.WebhookURL(rc.hookURL)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := srv.NewPushDevice(srv.ServiceSID(), "user-0001-logs") // factor.created, then factor.verified
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitForDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	d := srv.Deliveries()
	if len(d) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(d), d)
	}
	line := func(msg string, rec verifytest.Delivery, outcome string) string {
		return fmt.Sprintf("level=INFO msg=%q webhook=%s url=%s type=%s uuid=%s factor_sid=%s attempt=%d %s\n",
			msg, hook, rc.hookURL, rec.Type, rec.EventUUID, dev.FactorSID, rec.Attempt, outcome)
	}
	want := line("webhook delivery failed", d[0], "status=500") + line("webhook delivered", d[1], "status=204") +
		line("webhook refused", d[2], "status=403")
	if got := logs.String(); got != want {
		t.Errorf("delivery log:\n%s\nwant\n%s", got, want)
	}
	requests, _ := rc.got()
	for _, secret := range []string{srv.AuthToken(), requests[0].signature} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// syncLog collects what the deliveries' goroutines log.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
