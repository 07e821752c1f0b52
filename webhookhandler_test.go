package verify

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hookServer is a webhook handler on a real loopback HTTP server.
type hookServer struct {
	t       *testing.T
	srv     *httptest.Server
	handler *webhookHandler
	client  *http.Client
}

func newHookServer(t *testing.T, cfg WebhookConfig, fn func(context.Context, *Event) error) *hookServer {
	t.Helper()
	h := NewWebhookHandler(cfg, fn).(*webhookHandler)
	mux := http.NewServeMux()
	mux.Handle("/hooks/verify", h)
	srv := httptest.NewServer(mux)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return &hookServer{t: t, srv: srv, handler: h, client: client}
}

// post sends body to the server's /hooks/verify with the given headers and
// returns the status and response body.
func (s *hookServer) post(method, query, contentType, body string, header http.Header) (int, string) {
	s.t.Helper()
	target := s.srv.URL + "/hooks/verify"
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "POST" {
		s.t.Errorf("405 without Allow: POST")
	}
	return resp.StatusCode, string(b)
}

// postForm delivers form signed with token for the server's own URL.
func (s *hookServer) postForm(form url.Values, token string) (int, string) {
	s.t.Helper()
	sig := signWebhook(token, s.srv.URL+"/hooks/verify", form)
	return s.post(http.MethodPost, "", "application/x-www-form-urlencoded", form.Encode(), http.Header{SignatureHeader: {sig}})
}

func TestWebhookHandlerStatusCodes(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var last atomic.Pointer[Event]
	fail := atomic.Bool{}
	s := newHookServer(t, testConfig(), func(_ context.Context, ev *Event) error {
		calls.Add(1)
		last.Store(ev)
		if fail.Load() {
			return errors.New("database down: " + hookSecretHidden)
		}
		return nil
	})
	form := eventForm()
	noUUID := eventForm()
	noUUID.Del("uuid")
	big := eventForm()
	big.Set("x_pad", strings.Repeat("p", DefaultWebhookMaxBodyBytes))

	steps := []struct {
		name      string
		send      func() (int, string)
		fail      bool
		status    int
		callsThen int32
	}{
		{"GET", func() (int, string) { return s.post(http.MethodGet, "", "", "", nil) }, false, 405, 0},
		{"PUT", func() (int, string) { return s.postFormMethod(http.MethodPut, form) }, false, 405, 0},
		{"over the size cap", func() (int, string) { return s.postForm(big, testToken) }, false, 413, 0},
		{"no signature", func() (int, string) {
			return s.post(http.MethodPost, "", "application/x-www-form-urlencoded", form.Encode(), nil)
		}, false, 403, 0},
		{"wrong token", func() (int, string) { return s.postForm(form, "another-token") }, false, 403, 0},
		{"signed but no uuid", func() (int, string) { return s.postForm(noUUID, testToken) }, false, 400, 0},
		{"callback fails", func() (int, string) { return s.postForm(form, testToken) }, true, 500, 1},
		{"Twilio retries: callback runs again", func() (int, string) { return s.postForm(form, testToken) }, false, 204, 2},
		{"Twilio retries again: duplicate", func() (int, string) { return s.postForm(form, testToken) }, false, 200, 2},
		{"and again", func() (int, string) { return s.postForm(form, testToken) }, false, 200, 2},
	}
	for _, st := range steps {
		fail.Store(st.fail)
		status, body := st.send()
		if status != st.status || calls.Load() != st.callsThen {
			t.Errorf("%s: HTTP %d, %d callbacks; want %d, %d (body %q)", st.name, status, calls.Load(), st.status, st.callsThen, body)
		}
		wantNoSecrets(t, st.name, body)
		if strings.Contains(body, "database down") {
			t.Errorf("%s: the callback's error reached the response: %q", st.name, body)
		}
	}
	if ev := last.Load(); ev == nil || ev.UUID != form.Get("uuid") || ev.Type != EventChallengeApproved || ev.ChallengeSID != testChallenge {
		t.Errorf("callback got %+v", ev)
	}
}

func (s *hookServer) postFormMethod(method string, form url.Values) (int, string) {
	sig := signWebhook(testToken, s.srv.URL+"/hooks/verify", form)
	return s.post(method, "", "application/x-www-form-urlencoded", form.Encode(), http.Header{SignatureHeader: {sig}})
}

func TestWebhookHandlerBehindProxies(t *testing.T) {
	t.Parallel()
	const public = "https://login.example.com/twilio/hooks/verify"
	ok := func(context.Context, *Event) error { return nil }
	form := eventForm()

	// PublicURL: the proxy changed scheme, host and path; the signature is
	// over the registered URL.
	s := newHookServer(t, WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: public}, ok)
	sig := signWebhook(testToken, public, form)
	if st, body := s.post(http.MethodPost, "", "application/x-www-form-urlencoded", form.Encode(), http.Header{SignatureHeader: {sig}}); st != 204 {
		t.Errorf("PublicURL, form: HTTP %d %q", st, body)
	}
	// A JSON delivery: Twilio added bodySHA256 to the registered URL; it
	// reaches the server through the proxy with that query.
	body := `{"uuid":"json-1","type":"challenge.denied","challenge_sid":"` + testChallenge + `","date_created":"` + testEventDate + `"}`
	delivery, jsig := signWebhookJSON(testToken, public, []byte(body))
	query := delivery[strings.Index(delivery, "?")+1:]
	if st, b := s.post(http.MethodPost, query, "application/json", body, http.Header{SignatureHeader: {jsig}}); st != 204 {
		t.Errorf("PublicURL, JSON: HTTP %d %q", st, b)
	}
	// Signed for the internal URL instead: refused.
	internal := signWebhook(testToken, s.srv.URL+"/hooks/verify", form)
	if st, _ := s.post(http.MethodPost, "", "application/x-www-form-urlencoded", form.Encode(), http.Header{SignatureHeader: {internal}}); st != 403 {
		t.Errorf("PublicURL set, signed for the internal URL: HTTP %d, want 403", st)
	}

	// No PublicURL: X-Forwarded-Proto and -Host count only when trusted.
	const forwarded = "https://hooks.example.com/hooks/verify"
	fsig := signWebhook(testToken, forwarded, form)
	headers := http.Header{SignatureHeader: {fsig}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"hooks.example.com, proxy.internal"}}
	for _, trust := range []bool{true, false} {
		s := newHookServer(t, WebhookConfig{AuthTokens: Secrets(testToken), TrustForwardedHeaders: trust}, ok)
		want := map[bool]int{true: 204, false: 403}[trust]
		if st, b := s.post(http.MethodPost, "", "application/x-www-form-urlencoded", form.Encode(), headers); st != want {
			t.Errorf("forwarded headers, trusted=%v: HTTP %d %q, want %d", trust, st, b, want)
		}
		// Signed for the URL the server itself sees: accepted only when the headers are not trusted.
		own := signWebhook(testToken, s.srv.URL+"/hooks/verify", form)
		want = map[bool]int{true: 403, false: 204}[trust]
		if st, b := s.post(http.MethodPost, "", "application/x-www-form-urlencoded", form.Encode(),
			http.Header{SignatureHeader: {own}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"hooks.example.com"}}); st != want {
			t.Errorf("own URL, trusted=%v: HTTP %d %q, want %d", trust, st, b, want)
		}
	}
}

func TestWebhookHandlerConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	const uuids, copies = 8, 6
	for _, firstFails := range []bool{false, true} {
		gate := make(chan struct{})
		var mu sync.Mutex
		calls := map[string]int{}
		active := map[string]int{}
		var overlap atomic.Bool
		s := newHookServer(t, testConfig(), func(_ context.Context, ev *Event) error {
			mu.Lock()
			calls[ev.UUID]++
			n := calls[ev.UUID]
			active[ev.UUID]++
			if active[ev.UUID] > 1 {
				overlap.Store(true)
			}
			mu.Unlock()
			defer func() { mu.Lock(); active[ev.UUID]--; mu.Unlock() }()
			<-gate
			if firstFails && n == 1 {
				return errors.New("first attempt fails")
			}
			return nil
		})

		statuses := make(chan int, uuids*copies)
		var wg sync.WaitGroup
		for i := range uuids * copies {
			form := eventForm()
			form.Set("uuid", "uuid-"+strconv.Itoa(i%uuids))
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _ := s.postForm(form, testToken)
				statuses <- st
			}()
		}
		// Every copy but the first of each uuid is now waiting on the first.
		deadline := time.Now().Add(20 * time.Second)
		for s.handler.seen.waiters() < uuids*(copies-1) {
			if time.Now().After(deadline) {
				t.Fatalf("only %d deliveries waiting, want %d", s.handler.seen.waiters(), uuids*(copies-1))
			}
			time.Sleep(time.Millisecond)
		}
		close(gate)
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for st := range statuses {
			count[st]++
		}
		want := map[int]int{204: uuids, 200: uuids * (copies - 1)}
		wantCalls := 1
		if firstFails {
			want = map[int]int{500: uuids, 204: uuids, 200: uuids * (copies - 2)}
			wantCalls = 2
		}
		if !mapsEqual(count, want) {
			t.Errorf("firstFails=%v: statuses %v, want %v", firstFails, count, want)
		}
		for u, n := range calls {
			if n != wantCalls {
				t.Errorf("firstFails=%v: %s called back %d times, want %d", firstFails, u, n, wantCalls)
			}
		}
		if len(calls) != uuids || overlap.Load() {
			t.Errorf("firstFails=%v: %d uuids called back, overlap %v", firstFails, len(calls), overlap.Load())
		}
	}
}

func mapsEqual(a, b map[int]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWebhookHandlerWaitingDuplicateEndsWithItsContext(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	h := NewWebhookHandler(testConfig(), func(context.Context, *Event) error { <-gate; return nil }).(*webhookHandler)
	first := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(first, formRequest(hookURL, eventForm(), testToken))
	}()
	for h.seen.waiters() == 0 && !h.inflight(eventForm().Get("uuid")) {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := httptest.NewRecorder()
	secondDone := make(chan struct{})
	go func() {
		defer close(secondDone)
		h.ServeHTTP(second, formRequest(hookURL, eventForm(), testToken).WithContext(ctx))
	}()
	for h.seen.waiters() != 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-secondDone
	close(gate)
	<-done
	if first.Code != 204 || second.Code != 503 {
		t.Errorf("first %d, second %d; want 204, 503", first.Code, second.Code)
	}
}

// inflight reports whether uuid is being handled, for tests.
func (h *webhookHandler) inflight(uuid string) bool {
	h.seen.mu.Lock()
	defer h.seen.mu.Unlock()
	_, ok := h.seen.inflight[uuid]
	return ok
}

func TestReplayGuardIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	g := newReplayGuard(time.Minute, 100, func() time.Time { return now })
	ctx := context.Background()
	handle := func(id string) bool {
		dup, err := g.begin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !dup {
			g.end(id, true)
		}
		return dup
	}
	for i := range 250 {
		if handle("u" + strconv.Itoa(i)) {
			t.Fatalf("u%d reported handled before", i)
		}
		now = now.Add(time.Millisecond)
	}
	if g.size() != 100 || len(g.order)-g.head != 100 || len(g.order) > 2*100+64 {
		t.Errorf("after 250: %d remembered, queue %d (head %d); want 100", g.size(), len(g.order), g.head)
	}
	if !handle("u249") || handle("u0") {
		t.Error("want the newest remembered and the oldest forgotten past the cap")
	}
	// A failed one is not remembered.
	if dup, _ := g.begin(ctx, "failed"); dup {
		t.Fatal("new uuid reported handled")
	}
	g.end("failed", false)
	if handle("failed") == true {
		t.Error("a failed uuid reported handled")
	}
	// Past the window everything goes, on the next call.
	now = now.Add(time.Minute)
	handle("late")
	if g.size() != 1 {
		t.Errorf("after the window: %d remembered, want 1", g.size())
	}
}

func TestNewWebhookHandlerRefusesUselessConfig(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cfg WebhookConfig
		fn  func(context.Context, *Event) error
	}{
		"no tokens":   {WebhookConfig{}, func(context.Context, *Event) error { return nil }},
		"empty token": {WebhookConfig{AuthTokens: Secrets("")}, func(context.Context, *Event) error { return nil }},
		"bad URL":     {WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: "example.com/hooks"}, func(context.Context, *Event) error { return nil }},
		"nil fn":      {testConfig(), nil},
	} {
		func() {
			defer func() {
				if p := recover(); p == nil || strings.Contains(fmtAny(p), testToken) {
					t.Errorf("%s: panic %v", name, p)
				}
			}()
			NewWebhookHandler(tc.cfg, tc.fn)
		}()
	}
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "not a string"
}
func TestWebhookSignatureVectorsThroughTheHandler(t *testing.T) {
	t.Parallel()
	for _, v := range loadSignatureVectors(t) {
		calls := 0
		h := NewWebhookHandler(WebhookConfig{AuthTokens: Secrets(v.Tokens...), PublicURL: v.PublicURL, MaxEventAge: -1},
			func(context.Context, *Event) error { calls++; return nil })
		want := []int{http.StatusForbidden}
		if v.Valid {
			want = []int{http.StatusNoContent}
		}
		if v.Replay {
			want = append(want, http.StatusOK) // the same delivery again: a Twilio retry
		}
		var got []int
		for range want {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, vectorRequest(t, v))
			got = append(got, rec.Code)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: statuses %v, want %v", v.Name, got, want)
		}
		if wantCalls := min(1, len(want)) * boolInt(v.Valid); calls != wantCalls {
			t.Errorf("%s: callback ran %d times, want %d", v.Name, calls, wantCalls)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestWebhookConfigAndHandlerNeverPrintTokens(t *testing.T) {
	t.Parallel()
	cfg := WebhookConfig{AuthTokens: Secrets(testToken, "another-token"), PublicURL: hookURL, ReplayWindow: time.Minute}
	h := NewWebhookHandler(cfg, func(context.Context, *Event) error { return nil })
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v %+v %#v", &cfg, h, h)} {
		wantNoSecrets(t, "printed config", s)
		if !strings.Contains(s, "AuthTokens: 2 redacted") || !strings.Contains(s, hookURL) {
			t.Errorf("printed %q", s)
		}
	}
	if g := h.(*webhookHandler).seen; g.window != time.Minute || g.max != 10_000 {
		t.Errorf("replay memory: window %v, cap %d", g.window, g.max)
	}
	if g := NewWebhookHandler(testConfig(), func(context.Context, *Event) error { return nil }).(*webhookHandler).seen; g.window != 15*time.Minute {
		t.Errorf("default replay window %v, want 15m", g.window)
	}
}

// TestWebhookAnswersSayNothingOfTheConfig: what the handler answers a
// refused request is one fixed text per status. An unsigned request cannot
// learn how many tokens there are, whether PublicURL is set or whether its
// body read as a form; a large one does not learn the cap; a stale one
// does not learn MaxEventAge.
func TestWebhookAnswersSayNothingOfTheConfig(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, *Event) error { return nil }
	configs := []WebhookConfig{
		{AuthTokens: Secrets(testToken)},
		{AuthTokens: Secrets(testToken, "another-token"), PublicURL: hookURL},
		{AuthTokens: Secrets(testToken), PublicURL: hookURL, MaxBodyBytes: 1000, MaxEventAge: time.Minute},
	}
	unsigned := func(contentType, body, sig string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			if sig != "" {
				r.Header.Set(SignatureHeader, sig)
			}
			return r
		}
	}
	big := eventForm()
	big.Set("x_pad", strings.Repeat("p", DefaultWebhookMaxBodyBytes))
	stale := eventForm()
	stale.Set("date_created", time.Now().Add(-3*time.Hour).UTC().Format(time.RFC3339))
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
		body   string
	}{
		{"no signature", unsigned("application/x-www-form-urlencoded", eventForm().Encode(), ""), 403, "verify: webhook signature invalid"},
		{"wrong signature", unsigned("application/x-www-form-urlencoded", eventForm().Encode(), wrongSignature), 403, "verify: webhook signature invalid"},
		{"not a form", unsigned("application/x-www-form-urlencoded", "%zz", wrongSignature), 403, "verify: webhook signature invalid"},
		{"JSON without bodySHA256", unsigned("application/json", `{"uuid":"u"}`, wrongSignature), 403, "verify: webhook signature invalid"},
		{"over the cap", func() *http.Request { return formRequest(hookURL, big, testToken) }, 413, "verify: webhook body too large"},
		{"stale", func() *http.Request { return formRequest(hookURL, stale, testToken) }, 400, "verify: webhook event too old"},
	} {
		for i, cfg := range configs {
			rec := httptest.NewRecorder()
			NewWebhookHandler(cfg, ok).ServeHTTP(rec, tc.req())
			if got := strings.TrimSpace(rec.Body.String()); rec.Code != tc.status || got != tc.body {
				t.Errorf("%s, config %d: %d %q; want %d %q", tc.name, i, rec.Code, got, tc.status, tc.body)
			}
		}
	}
}

// TestWebhookConfigNeverShowsSecrets: a WebhookConfig prints, logs and
// marshals its auth tokens redacted and PublicURL without a password,
// alone, behind a pointer, or inside a caller's own struct, slice or map
// (exported field or not), through every fmt verb, slog's text and JSON
// handlers and encoding/json.
func TestWebhookConfigNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	const password = "pw-s3cret-in-url"
	cfg := WebhookConfig{AuthTokens: Secrets(testToken, "another-tok3n-value"), PublicURL: "https://twilio:" + password + "@example.com/hooks/verify",
		ReplayWindow: time.Minute, OnReject: func(*http.Request, *WebhookRejection) {}}
	type holder struct {
		Cfg  WebhookConfig
		cfg  WebhookConfig
		Cfgs []WebhookConfig
		ByID map[string]WebhookConfig
	}
	clean := cfg
	clean.PublicURL = hookURL // an unexported field prints as is: only the tokens hide there (check refuses a password in PublicURL)
	values := map[string]any{
		"value": cfg, "pointer": &cfg, "slice": []WebhookConfig{cfg}, "map": map[string]*WebhookConfig{"a": &cfg},
		"struct":  holder{Cfg: cfg, cfg: clean, Cfgs: []WebhookConfig{cfg}, ByID: map[string]WebhookConfig{"a": cfg}},
		"*struct": &holder{Cfg: cfg, cfg: clean},
	}
	leaks := func(where, out string) {
		t.Helper()
		for _, secret := range []string{testToken, "another-tok3n-value", password} {
			if strings.Contains(out, secret) {
				t.Errorf("%s holds %q:\n%s", where, secret, out)
			}
		}
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			leaks(name+" "+verb, fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: json.Marshal: %v", name, err)
		}
		leaks(name+" JSON", string(b))
		for _, mk := range []func(io.Writer) slog.Handler{
			func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
			func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
		} {
			var buf strings.Builder
			slog.New(mk(&buf)).Info("config", "cfg", v)
			leaks(name+" slog", buf.String())
		}
	}
	// What is not secret still shows.
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg)
	for _, want := range []string{`"auth_tokens":2`, `"public_url":"https://twilio:xxxxx@example.com/hooks/verify"`, `"replay_window":"1m0s"`, `"on_reject":true`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("slog JSON %s; want %s", buf.String(), want)
		}
	}
	if s := fmt.Sprint(cfg); !strings.Contains(s, "AuthTokens: 2 redacted") || !strings.Contains(s, "https://twilio:xxxxx@example.com") {
		t.Errorf("printed %s", s)
	}
}

// rejections records what OnReject receives.
type rejections struct {
	mu  sync.Mutex
	got []WebhookRejection
}

func (rs *rejections) record(r *http.Request, rej *WebhookRejection) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.got = append(rs.got, *rej)
}

// take returns what was recorded since the last take.
func (rs *rejections) take() []WebhookRejection {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	got := rs.got
	rs.got = nil
	return got
}

// TestWebhookRejectionsAreReported: every refused delivery reaches OnReject
// once, with the status answered, an error matching the reason's sentinel
// and saying which mistake it looks like (a wrong token, a wrong URL, a
// stale or malformed event), and the URL that was checked; accepted
// deliveries, duplicates and failed callbacks do not. Nothing it gets holds
// the signature, the body or a token.
func TestWebhookRejectionsAreReported(t *testing.T) {
	t.Parallel()
	var rs rejections
	fail := atomic.Bool{}
	cb := func(context.Context, *Event) error {
		if fail.Load() {
			return errors.New("callback failed")
		}
		return nil
	}
	s := newHookServer(t, WebhookConfig{AuthTokens: Secrets(testToken), OnReject: rs.record}, cb)
	own := s.srv.URL + "/hooks/verify"
	const wrongPublic = "https://login.example.com/twilio/hooks"
	wrongURL := newHookServer(t, WebhookConfig{AuthTokens: Secrets(testToken), PublicURL: wrongPublic, OnReject: rs.record}, cb)

	stale := eventForm()
	stale.Set("uuid", "stale")
	stale.Set("date_created", time.Now().Add(-3*time.Hour).UTC().Format(time.RFC3339))
	glued := eventForm()
	glued.Set("uuid", "glued")
	glued.Del("date_created")
	glued.Set("date_created"+testEventDate, "")
	big := eventForm()
	big.Set("x_pad", strings.Repeat("p", DefaultWebhookMaxBodyBytes))
	form := func(uuid string) url.Values {
		f := eventForm()
		f.Set("uuid", uuid)
		return f
	}
	postSigned := func(s *hookServer, f url.Values, token, signedFor string, header http.Header) (int, string) {
		h := http.Header{SignatureHeader: {signWebhook(token, signedFor, f)}}
		for k, v := range header {
			h[k] = v
		}
		return s.post(http.MethodPost, "", "application/x-www-form-urlencoded", f.Encode(), h)
	}
	for _, tc := range []struct {
		name    string
		send    func() (int, string)
		fail    bool
		want    error  // nil: no rejection reported
		status  int    // answered
		says    string // in the reason
		checked string
	}{
		{"accepted", func() (int, string) { return postSigned(s, form("ok"), testToken, own, nil) }, false, nil, 204, "", ""},
		{"duplicate", func() (int, string) { return postSigned(s, form("ok"), testToken, own, nil) }, false, nil, 200, "", ""},
		{"callback fails", func() (int, string) { return postSigned(s, form("fails"), testToken, own, nil) }, true, nil, 500, "", ""},
		{"not a POST", func() (int, string) { return s.post(http.MethodGet, "", "", "", nil) }, false, nil, 405, "", ""},
		{"no signature", func() (int, string) {
			return s.post(http.MethodPost, "", "application/x-www-form-urlencoded", form("u").Encode(), nil)
		}, false, ErrWebhookSignature, 403, "no X-Twilio-Signature header", own},
		{"wrong token", func() (int, string) { return postSigned(s, form("u"), "another-token", own, nil) }, false,
			ErrWebhookSignature, 403, "a wrong or outdated auth token", own},
		{"PublicURL is not what Twilio signed", func() (int, string) {
			return postSigned(wrongURL, form("u"), testToken, wrongURL.srv.URL+"/hooks/verify", nil)
		}, false, ErrWebhookSignature, 403, "is for " + wrongURL.srv.URL + "/hooks/verify, not " + wrongPublic + ": the URL is wrong, not the token", wrongPublic},
		{"forwarded headers not trusted", func() (int, string) {
			return postSigned(s, form("u"), testToken, "https://hooks.example.com/hooks/verify",
				http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"hooks.example.com"}})
		}, false, ErrWebhookSignature, 403, "is for https://hooks.example.com/hooks/verify, not " + own, own},
		{"stale", func() (int, string) { return postSigned(s, stale, testToken, own, nil) }, false,
			ErrWebhookStale, 400, "more than MaxEventAge (20m0s)", own},
		{"glued", func() (int, string) { return postSigned(s, glued, testToken, own, nil) }, false,
			ErrWebhookMalformed, 400, "date_created", own},
		{"too large", func() (int, string) { return postSigned(s, big, testToken, own, nil) }, false,
			ErrWebhookTooLarge, 413, "exceeds 32768 bytes", own},
	} {
		fail.Store(tc.fail)
		status, body := tc.send()
		got := rs.take()
		if status != tc.status {
			t.Errorf("%s: HTTP %d %q, want %d", tc.name, status, body, tc.status)
		}
		if tc.want == nil {
			if len(got) != 0 {
				t.Errorf("%s: reported %+v, want nothing", tc.name, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: %d rejections reported, want 1: %+v", tc.name, len(got), got)
			continue
		}
		rej := got[0]
		if rej.Status != tc.status || !errors.Is(rej.Err, tc.want) || !strings.Contains(rej.Err.Error(), tc.says) || rej.CheckedURL != tc.checked {
			t.Errorf("%s: rejection {%d, %v, %s}; want {%d, %v saying %q, %s}", tc.name, rej.Status, rej.Err, rej.CheckedURL,
				tc.status, tc.want, tc.says, tc.checked)
		}
		var buf strings.Builder
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("webhook rejected", "rejection", &rej)
		line := buf.String()
		for _, want := range []string{fmt.Sprintf(`"status":%d`, tc.status), `"reason":"verify: webhook `, `"url":"` + tc.checked + `"`} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: logged %s; want %s", tc.name, line, want)
			}
		}
		wantNoSecrets(t, tc.name, line+fmt.Sprintf("%+v", rej))
		for _, sig := range []string{signWebhook(testToken, own, form("u")), signWebhook("another-token", own, form("u"))} {
			if strings.Contains(line, sig) {
				t.Errorf("%s: the signature is in %s", tc.name, line)
			}
		}
	}
}

// slowDelivery opens a connection to addr and sends a webhook POST's
// headers and the first part bytes of a body of size bytes, then nothing
// more: a flood that trickles its body. sig is X-Twilio-Signature, if any.
func slowDelivery(t *testing.T, addr, sig string, size, part int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	head := "POST /hooks/verify HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: " + strconv.Itoa(size) + "\r\n"
	if sig != "" {
		head += SignatureHeader + ": " + sig + "\r\n"
	}
	if _, err := io.WriteString(c, head+"\r\n"+strings.Repeat("a", part)); err != nil {
		t.Fatal(err)
	}
	return c
}

// answerOn reads the response on c until deadline: its status, and whether
// the server closed the connection after it.
func answerOn(c net.Conn, deadline time.Time) (status int, closed bool, err error) {
	if err := c.SetReadDeadline(deadline); err != nil {
		return 0, false, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_, err = br.ReadByte()
	return resp.StatusCode, err == io.EOF, nil
}

// TestSlowBodiesAreCutOff: deliveries that send their headers and then
// trickle their body, over real connections to a server with no timeouts
// of its own, are answered and their connections closed. A wrong signature
// gets 408 once BodyReadTimeout has passed; no signature, or a header that
// is not one, gets 403 and the connection closed without waiting for the
// body, even with a BodyReadTimeout of a minute. A delivery whose callback
// outlasts BodyReadTimeout still succeeds, its context live.
func TestSlowBodiesAreCutOff(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	var mu sync.Mutex
	rejected := map[int]int{}
	timedOut := 0
	server := func(bodyTimeout time.Duration) *hookServer {
		cfg := WebhookConfig{AuthTokens: Secrets(testToken), BodyReadTimeout: bodyTimeout, OnReject: func(_ *http.Request, rej *WebhookRejection) {
			mu.Lock()
			defer mu.Unlock()
			rejected[rej.Status]++
			if errors.Is(rej.Err, os.ErrDeadlineExceeded) {
				timedOut++
			}
		}}
		return newHookServer(t, cfg, func(ctx context.Context, _ *Event) error {
			select {
			case <-time.After(2 * timeout):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	short, long := server(timeout), server(time.Minute)
	const each = 8
	kinds := []struct {
		name, sig string
		to        *hookServer
		status    int
	}{{"wrong signature", wrongSignature, short, 408}, {"no signature", "", long, 403}, {"not a signature", "AAAA", long, 403}}
	type slow struct {
		kind int
		conn net.Conn
	}
	var conns []slow
	for k, kind := range kinds {
		for range each {
			conns = append(conns, slow{k, slowDelivery(t, kind.to.srv.Listener.Addr().String(), kind.sig, 4000, 100)})
		}
	}
	deadline := time.Now().Add(10 * timeout)
	for _, c := range conns {
		kind := kinds[c.kind]
		status, closed, err := answerOn(c.conn, deadline)
		if err != nil || status != kind.status || !closed {
			t.Errorf("%s: HTTP %d, connection closed %v, %v; want %d and closed", kind.name, status, closed, err, kind.status)
		}
	}
	if st, body := short.postForm(eventForm(), testToken); st != http.StatusNoContent {
		t.Errorf("a delivery whose callback takes twice BodyReadTimeout: HTTP %d %q, want 204", st, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := map[int]int{408: each, 403: 2 * each}; !mapsEqual(rejected, want) || timedOut != each {
		t.Errorf("rejections %v (%d timed out), want %v (%d)", rejected, timedOut, want, each)
	}
}

// TestSlowBodyOverHTTP2: over HTTP/2 the read deadline is the stream's; a
// body that stops coming gets 408 there too.
func TestSlowBodyOverHTTP2(t *testing.T) {
	t.Parallel()
	h := NewWebhookHandler(WebhookConfig{AuthTokens: Secrets(testToken), BodyReadTimeout: 200 * time.Millisecond},
		func(context.Context, *Event) error { return nil })
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/hooks/verify", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(SignatureHeader, wrongSignature)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { _, _ = io.WriteString(pw, "uuid=") }() // then nothing more
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("HTTP/%d %d, want HTTP/2 408", resp.ProtoMajor, resp.StatusCode)
	}
}
