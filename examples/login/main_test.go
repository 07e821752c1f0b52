package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const identity = "user-0001-login"

func setup(t *testing.T) (*verifytest.Server, *httptest.Server) {
	fake := verifytest.NewServer()
	client := fake.Client()
	a := &app{verify: client, serviceSID: fake.ServiceSID(), pushTimeout: 5 * time.Second,
		waitOptions: &verify.WaitOptions{Interval: 10 * time.Millisecond}}
	web := httptest.NewServer(a.routes())
	t.Cleanup(func() {
		web.Close()
		client.CloseIdleConnections()
		fake.Close()
	})
	return fake, web
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
