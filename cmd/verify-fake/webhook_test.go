package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
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
	logs := newLogWatch()
	text := startFake(t, config{addr: addr, identity: "user-0001-hooks", answer: "approve", webhook: hookURL, log: logs.logger()})
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
	// Each delivery is logged, the approval's too.
	logs.wait(t, `level=INFO msg="webhook delivered" webhook=YW[0-9a-f]{32} url="?`+regexp.QuoteMeta(hookURL)+
		`"? type=challenge.approved uuid=\S+ challenge_sid=`+ch.SID+` attempt=1 status=204\n`)
	if strings.Contains(logs.String(), token) {
		t.Errorf("the delivery log holds the auth token:\n%s", logs)
	}
}

// TestWebhookFlagLogsRefusedDeliveries: a receiver checking with another
// auth token refuses every delivery with 403, and each refusal is a
// "webhook refused" line on the log: the fake's side of a wrong token.
func TestWebhookFlagLogsRefusedDeliveries(t *testing.T) {
	receiver := httptest.NewServer(verify.NewWebhookHandler(verify.WebhookConfig{AuthTokens: verify.Secrets("not-the-fake's-token")},
		func(context.Context, *verify.Event) error { t.Error("an event got through another token"); return nil }))
	t.Cleanup(receiver.Close)
	hookURL := receiver.URL + "/hooks/verify"
	logs := newLogWatch()
	startFake(t, config{addr: "127.0.0.1:0", identity: "user-0001-hooks", answer: "none", webhook: hookURL, log: logs.logger()})
	logs.wait(t, `level=INFO msg="webhook refused" webhook=YW[0-9a-f]{32} url="?`+regexp.QuoteMeta(hookURL)+
		`"? type=factor.created uuid=\S+ factor_sid=YF[0-9a-f]{32} attempt=1 status=403\n`)
}

// logWatch is a log the tests wait on: each write wakes wait.
type logWatch struct {
	syncBuffer
	wrote chan struct{} // gets a value after writes, at most one pending
}

func newLogWatch() *logWatch { return &logWatch{wrote: make(chan struct{}, 1)} }

// logger writes text records to the watch.
func (w *logWatch) logger() *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func (w *logWatch) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// wait returns once a line matches pattern, or fails the test after 30 s.
func (w *logWatch) wait(t *testing.T, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	guard := time.NewTimer(30 * time.Second)
	defer guard.Stop()
	for !re.MatchString(w.String()) {
		select {
		case <-w.wrote:
		case <-guard.C:
			t.Fatalf("no log line matching %s in:\n%s", pattern, w.String())
		}
	}
}

// TestWebhookFlagRefusesABadURL: a URL the Webhooks API would refuse ends
// the command with an error naming the flag.
func TestWebhookFlagRefusesABadURL(t *testing.T) {
	err := run(context.Background(), io.Discard, config{addr: "127.0.0.1:0", identity: "user-0001-demo", answer: "none",
		webhook: "ftp://example.com/hooks"})
	if err == nil || !strings.Contains(err.Error(), "-webhook") || !strings.Contains(err.Error(), "WebhookUrl") {
		t.Errorf("run with an ftp URL: %v, want a -webhook error about WebhookUrl", err)
	}
}
