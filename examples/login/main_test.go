package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const identity = "user-0001-login"

func setup(t *testing.T) (*verifytest.Server, *httptest.Server) {
	fake, web, _ := setupWithLog(t)
	return fake, web
}

func setupWithLog(t *testing.T) (*verifytest.Server, *httptest.Server, *syncBuffer) {
	fake := verifytest.NewServer()
	client := fake.Client()
	logs := &syncBuffer{}
	a := &app{verify: client, serviceSID: fake.ServiceSID(), pushTimeout: 5 * time.Second,
		waitOptions: &verify.WaitOptions{Interval: 10 * time.Millisecond}, log: log.New(logs, "", 0)}
	web := httptest.NewServer(a.routes())
	t.Cleanup(func() {
		web.Close()
		client.CloseIdleConnections()
		fake.Close()
	})
	return fake, web, logs
}

func post(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestPushLoginApprovedAndDenied(t *testing.T) {
	fake, web := setup(t)
	dev, err := fake.NewPushDevice(fake.ServiceSID(), identity)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		answer     func(context.Context, string) (*verify.Challenge, error)
		wantStatus int
		wantBody   string
	}{
		{dev.Approve, 200, "welcome"},
		{dev.Deny, 401, "second factor denied"},
	} {
		// The phone answers the newest pending challenge as soon as it appears.
		done := make(chan struct{})
		go func() {
			defer close(done)
			client := fake.Client()
			defer client.CloseIdleConnections()
			for i := 0; i < 200; i++ {
				for ch, err := range client.Challenges.List(context.Background(), fake.ServiceSID(), identity,
					&verify.ListChallengesParams{Status: verify.StatusPending}) {
					if err == nil {
						if _, err := tc.answer(context.Background(), ch.SID); err != nil {
							t.Errorf("device: %v", err)
						}
						return
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Errorf("no pending challenge appeared")
		}()
		status, body := post(t, web.URL+"/login/push", url.Values{"identity": {identity}, "factor": {dev.FactorSID}})
		<-done
		if status != tc.wantStatus || body != tc.wantBody {
			t.Errorf("push login: %d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
		}
	}
}

func TestTOTPLogin(t *testing.T) {
	fake, web := setup(t)
	f, err := fake.NewTOTPFactor(fake.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body := post(t, web.URL+"/login/totp", url.Values{"identity": {identity}, "factor": {f.SID}, "code": {f.Code()}})
	if status != 200 || body != "welcome" {
		t.Errorf("right code: %d %q", status, body)
	}
	status, body = post(t, web.URL+"/login/totp", url.Values{"identity": {identity}, "factor": {f.SID}, "code": {"00000"}})
	if status != 401 || body != "second factor pending" {
		t.Errorf("wrong code: %d %q", status, body)
	}
	status, body = post(t, web.URL+"/login/totp", url.Values{"identity": {"../etc"}, "factor": {f.SID}, "code": {"123456"}})
	if status != 400 || !strings.Contains(body, "Identity") {
		t.Errorf("bad identity: %d %q", status, body)
	}
}

// TestUnexpectedErrorsAreLoggedOnce: an error the user cannot act on is a
// 503 for them and one log line for us, with a single "verify:" prefix.
func TestUnexpectedErrorsAreLoggedOnce(t *testing.T) {
	fake, web, logs := setupWithLog(t)
	f, err := fake.NewTOTPFactor(fake.ServiceSID(), identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(1, 500, 0)
	status, body := post(t, web.URL+"/login/totp", url.Values{"identity": {identity}, "factor": {f.SID}, "code": {f.Code()}})
	if status != 503 || body != "second factor unavailable" {
		t.Errorf("Verify failing: %d %q, want 503", status, body)
	}
	got := logs.String()
	if !strings.HasPrefix(got, "/login/totp: verify: ") || strings.Count(got, "verify:") != 1 || strings.Count(got, "\n") != 1 {
		t.Errorf("log = %q, want one line starting \"/login/totp: verify: \" and no doubled prefix", got)
	}
}

// syncBuffer collects log lines written by handler goroutines.
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
