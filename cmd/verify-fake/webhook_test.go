package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
)

// TestWebhookFlagDeliversVerifiedEvents runs the command with -webhook
// pointing at a verify.NewWebhookHandler, configured with the printed auth
// token and the URL as registered; the enrollment's factor events and a
// push approval arrive there, verified.
func TestWebhookFlagDeliversVerifiedEvents(t *testing.T) {
	ready := make(chan struct{}) // closed once the banner, with the auth token, is read
	var token string             // set before ready is closed
	events := make(chan *verify.Event, 64)
	var (
		once sync.Once
		hook http.Handler
	)
	receiver := httptest.NewUnstartedServer(nil)
	hookURL := "http://" + receiver.Listener.Addr().String() + "/hooks/verify?from=verify-fake"
	receiver.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // read first, so that a fake hanging up ends r.Context()
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-ready:
		case <-r.Context().Done():
			return
		}
		once.Do(func() {
			hook = verify.NewWebhookHandler(verify.WebhookConfig{AuthTokens: verify.Secrets(token), PublicURL: hookURL},
				func(ctx context.Context, ev *verify.Event) error {
					select {
					case events <- ev:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				})
		})
		hook.ServeHTTP(w, r)
	})
	receiver.Start()
	t.Cleanup(receiver.Close) // after the command's cleanup, which stops its deliveries

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx := context.Background()
	text := startFake(t, config{addr: addr, identity: "user-0001-hooks", answer: "approve", webhook: hookURL})
	field := func(name string) string { return bannerField(t, text, name) }
	if m := regexp.MustCompile(`webhook\s+(YW[0-9a-f]{32})\s+(\S+)`).FindStringSubmatch(text); m == nil || m[2] != hookURL {
		t.Fatalf("webhook not printed with its URL %s:\n%s", hookURL, text)
	}
	token = field("auth token")
	close(ready)

	client, err := verify.NewClient(verify.WithCredentials(field("account SID"), token), verify.WithBaseURL("http://"+addr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()
	service, identity, pushFactor, totpFactor := field("service SID"), field("identity"), field("push factor"), field("TOTP factor")
	ch, err := client.Challenges.Create(ctx, service, identity, &verify.CreateChallengeParams{
		FactorSID: pushFactor, Details: &verify.Details{Message: "Log in?"}})
	if err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{} // "type factor" of each event before the approval
	guard := time.NewTimer(30 * time.Second)
	defer guard.Stop()
	for {
		var ev *verify.Event
		select {
		case ev = <-events:
		case <-guard.C:
			t.Fatalf("no challenge.approved event for %s; got %v", ch.SID, seen)
		}
		if ev.AccountSID != field("account SID") || ev.ServiceSID != service || ev.EntityIdentity != identity {
			t.Errorf("event %s for another account, service or entity: %+v", ev.Type, ev)
		}
		if ev.Type == verify.EventChallengeApproved && ev.ChallengeSID == ch.SID {
			if ev.FactorSID != pushFactor || ev.ChallengeStatus != verify.StatusApproved || ev.ChallengeDetails.Message != "Log in?" {
				t.Errorf("approval event %+v", ev)
			}
			break
		}
		seen[string(ev.Type)+" "+ev.FactorSID] = true
	}
	for _, f := range []string{totpFactor, pushFactor} {
		for _, typ := range []verify.EventType{verify.EventFactorCreated, verify.EventFactorVerified} {
			if !seen[string(typ)+" "+f] {
				t.Errorf("no %s event for %s before the approval; got %v", typ, f, seen)
			}
		}
	}
}

// TestWebhookFlagRefusesABadURL: a URL the Webhooks API would refuse ends
// the command with an error naming the flag.
func TestWebhookFlagRefusesABadURL(t *testing.T) {
	err := run(context.Background(), io.Discard, config{addr: "127.0.0.1:0", identity: "user-0001-demo", answer: "none",
		webhook: "http://example.com/hooks"})
	if err == nil || !strings.Contains(err.Error(), "-webhook") || !strings.Contains(err.Error(), "WebhookUrl") {
		t.Errorf("run with a plain-http public URL: %v, want a -webhook error about WebhookUrl", err)
	}
}
