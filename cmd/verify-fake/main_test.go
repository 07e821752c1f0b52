package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" { // a child started by TestStopsCleanlyOnSignals
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestFakeServesAndAnswersPush starts the command on a free port, reads the
// printed credentials, and sees a push challenge approved by the phone.
func TestFakeServesAndAnswersPush(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	ctx := context.Background()
	text := startFake(t, config{addr: addr, identity: "user-0001-demo", answer: "approve", delay: 100 * time.Millisecond})
	field := func(name string) string { return bannerField(t, text, name) }
	export := "export TWILIO_ACCOUNT_SID=" + field("account SID") + " TWILIO_AUTH_TOKEN=" + field("auth token") +
		" VERIFY_SERVICE_SID=" + field("service SID") + " VERIFY_IDENTITY=" + field("identity") +
		" VERIFY_PUSH_FACTOR_SID=" + field("push factor") + " VERIFY_TOTP_FACTOR_SID=" + field("TOTP factor") +
		" VERIFY_BASE_URL=http://" + addr + "\n" +
		"  go run -C examples/login . -base-url http://" + addr + " -password demo -phone " + field("SMS number") + "\n" +
		"and, after the same export:\n" +
		"  go run ./examples/enroll "
	if !strings.Contains(text, export) {
		t.Errorf("no environment for the examples, want\n%s\nin:\n%s", export, text)
	}
	client, err := verify.NewClient(verify.WithCredentials(field("account SID"), field("auth token")),
		verify.WithBaseURL("http://"+addr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()
	service, identity := field("service SID"), field("identity")
	ch, err := client.Challenges.Create(ctx, service, identity, &verify.CreateChallengeParams{
		FactorSID: field("push factor"), Details: &verify.Details{Message: "hi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.Challenges.Wait(ctx, service, identity, ch.SID, &verify.WaitOptions{Interval: 20 * time.Millisecond})
	if err != nil || !got.Status.IsApproved() {
		t.Fatalf("push not approved by the simulated phone: %v %v", got, err)
	}
	ch, err = client.Challenges.Create(ctx, service, identity, &verify.CreateChallengeParams{
		FactorSID: field("TOTP factor"), AuthPayload: verify.NewSecret(field("code now")),
	})
	if err != nil || !ch.Status.IsApproved() { // the fake takes the previous step's code too
		t.Fatalf("TOTP with the printed code: %v %v, want approved", ch, err)
	}
}

// startFake runs the command with cfg until the test ends, and returns its
// banner once written in full.
func startFake(t *testing.T, cfg config) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &bannerWriter{seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-out.seen:
	case err := <-done:
		done <- nil // run has returned: nothing for the cleanup to wait for
		t.Fatalf("run ended before its banner: %v\n%s", err, out.String())
	}
	return out.String()
}

// bannerField is the value printed after name in the banner.
func bannerField(t *testing.T, text, name string) string {
	t.Helper()
	m := regexp.MustCompile(name + `\s+(\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%q not printed:\n%s", name, text)
	}
	return m[1]
}

// bannerWriter collects the command's output and closes seen once the
// banner has been written in full.
type bannerWriter struct {
	syncBuffer
	seen chan struct{}
	once sync.Once
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if strings.Contains(w.String(), "examples/login against this fake") {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
