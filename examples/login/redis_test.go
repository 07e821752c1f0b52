package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/internal/redisserver"
)

// TestRedisFlag: -redis, else REDIS_URL, else none; the URL is never the
// flag's default, so -help shows no password; a URL that is not Redis's
// is refused without being quoted.
func TestRedisFlag(t *testing.T) {
	env := map[string]string{
		"VERIFY_SERVICE_SID": "VA00000000000000000000000000000000", "VERIFY_IDENTITY": "user-0001-ada", "LOGIN_PASSWORD": "pw",
	}
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{nil, "", ""},
		{nil, "redis://:env-pass@10.0.0.1:6379/0", "redis://:env-pass@10.0.0.1:6379/0"},
		{[]string{"-redis", "redis://127.0.0.1:6380/1"}, "redis://:env-pass@10.0.0.1:6379/0", "redis://127.0.0.1:6380/1"},
	} {
		env["REDIS_URL"] = tc.env
		var usage strings.Builder
		_, _ = parseConfig(append(tc.args, "-help"), func(k string) string { return env[k] }, &usage)
		if strings.Contains(usage.String(), "env-pass") {
			t.Errorf("-help shows REDIS_URL's password: %s", usage.String())
		}
		cfg, err := parseConfig(tc.args, func(k string) string { return env[k] }, io.Discard)
		if err != nil || cfg.redisURL != tc.want {
			t.Errorf("args %q, REDIS_URL=%q: %q (%v), want %q", tc.args, tc.env, cfg.redisURL, err, tc.want)
		}
	}
	if _, _, err := openBus("http://user:s3cret@example.com"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("openBus of an http URL: %v", err)
	}
}

// TestTwoInstancesOverRedis: two instances of the login behind a load
// balancer, each with its own Bus on one Redis (-redis): the webhook
// reaches only instance B, and a push login waiting on instance A ends at
// once with the phone's answer, although A never saw the webhook (without
// the bus it would wait for its 10 s safety poll, past its 5 s timeout).
func TestTwoInstancesOverRedis(t *testing.T) {
	srv := redisserver.Start(t)
	f := setup(t)
	busA, _, err := openBus("redis://" + srv.Addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer busA.Close()
	f.app.events, f.app.waitOptions.Events = busA, busA

	// Instance B: its own client, bus and webhook handler; the fake's
	// webhook goes to B alone.
	busB, _, err := openBus("redis://" + srv.Addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer busB.Close()
	webB := httptest.NewUnstartedServer(nil)
	hookB := "http://" + webB.Listener.Addr().String() + "/hooks/verify"
	clientB := f.fake.Client()
	defer clientB.CloseIdleConnections()
	appB := newApp(clientB, f.fake.ServiceSID(), newUsers(),
		verify.WebhookConfig{AuthTokens: verify.Secrets(f.fake.AuthToken()), PublicURL: hookB, Dedup: busB.Bus}, busB, time.Now)
	appB.hookLog = f.app.hookLog
	webB.Config.Handler = appB.routes()
	webB.Start()
	defer webB.Close()
	for w, err := range f.look.Webhooks.List(ctx, f.fake.ServiceSID(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if err := f.look.Webhooks.Delete(ctx, f.fake.ServiceSID(), w.SID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.fake.WebhookURL(hookB, verify.EventChallengeApproved, verify.EventChallengeDenied); err != nil {
		t.Fatal(err)
	}

	ada := f.addUser("ada", "user-0001-ada")
	start := time.Now()
	if status, body := f.login(ada).pushAnswered(ada.phone, true, nil); status != 200 || body != "welcome" {
		t.Fatalf("push login on A answered through B: %d %q, want 200 welcome", status, body)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the push login took %v: it did not hear of the answer over Redis", took)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := f.fake.WaitForDeliveries(waitCtx); err != nil {
		t.Fatal(err)
	}
	for _, d := range f.fake.Deliveries() {
		if d.StatusCode != 204 || !strings.HasPrefix(d.URL, hookB) {
			t.Errorf("delivery to %s answered %d, want B's URL and 204", d.URL, d.StatusCode)
		}
	}
}
