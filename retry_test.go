package verify

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

// operation runs one SDK call against the harness; target is the URL whose
// requests the scenario counts.
type operation struct {
	name   string
	method string
	target string
	setup  func(t *testing.T, h *harness) // registers the responses the call needs besides target
	call   func(ctx context.Context, c *Client) error
	ok     func(t *testing.T) httpmock.Responder // a success answer for target
}

var page2URL = listURL + "?Page=1&PageToken=PT2"

func operations() []operation {
	ops := []operation{
		{name: "Create", method: "POST", target: listURL,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Create(ctx, testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
				return err
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 201, "create_push.json") }},
		{name: "Update", method: "POST", target: oneURL,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Update(ctx, testService, testIdentity, testChallenge, &UpdateChallengeParams{AuthPayload: NewSecret("123456")})
				return err
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 200, "update_totp.json") }},
		{name: "Notify", method: "POST", target: notifyURL,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Notify(ctx, testService, testIdentity, testChallenge, nil)
				return err
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 201, "notification.json") }},
		{name: "Fetch", method: "GET", target: oneURL,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
				return err
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 200, "fetch.json") }},
		{name: "ListPage2", method: "GET", target: page2URL,
			setup: func(t *testing.T, h *harness) {
				h.mock.RegisterResponder("GET", listURL, bodyResponder(200, pageBody(0, 2, page2URL)))
			},
			call: func(ctx context.Context, c *Client) error {
				for _, err := range c.Challenges.List(ctx, testService, testIdentity, nil) {
					if err != nil {
						return err
					}
				}
				return nil
			},
			ok: func(t *testing.T) httpmock.Responder { return bodyResponder(200, pageBody(2, 1, "")) }},
		{name: "VerificationCreate", method: "POST", target: apiBase + pathVerifications,
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.Verifications.Create(ctx, testService, &CreateVerificationParams{To: testPhone, Channel: ChannelSMS}))
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 201, "verification.json") }},
		{name: "VerificationCheck", method: "POST", target: apiBase + pathCheck,
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.VerificationChecks.Create(ctx, testService, &CheckVerificationParams{To: testPhone, Code: NewSecret(secretCode)}))
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 201, "verification_check.json") }},
		{name: "VerificationFetch", method: "GET", target: apiBase + pathVerification,
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.Verifications.Fetch(ctx, testService, testVerification))
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 200, "verification_fetch.json") }},
		// Passkeys: JSON bodies, the same POST rules.
		{name: "PasskeyCreateChallenge", method: "POST", target: apiBase + pathPasskeyChallenge,
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.Passkeys.CreateChallenge(ctx, testService, nil))
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 201, "passkey_challenge_create.json") }},
		{name: "PasskeyApproveChallenge", method: "POST", target: apiBase + pathPasskeyApprove,
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.Passkeys.ApproveChallenge(ctx, testService, passkeyAssertion))
			},
			ok: func(t *testing.T) httpmock.Responder { return jsonResponder(t, 200, "passkey_challenge_approve.json") }},
	}
	for _, d := range deleteOps() { // retried like a GET: deleting twice deletes once
		ops = append(ops, operation{name: d.name, method: "DELETE", target: apiBase + d.path, call: d.call,
			ok: func(*testing.T) httpmock.Responder { return noContent }})
	}
	return ops
}

var (
	refused = httpmock.NewErrorResponder(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	reset   = httpmock.NewErrorResponder(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
)

// sequence answers with each responder in turn, repeating the last.
func sequence(rs ...httpmock.Responder) httpmock.Responder {
	var mu sync.Mutex
	n := 0
	return func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		r := rs[min(n, len(rs)-1)]
		n++
		mu.Unlock()
		return r(req)
	}
}

func TestRetryMatrix(t *testing.T) {
	t.Parallel()
	const retries = 2
	type outcome struct {
		requests func(op operation) int
		check    func(t *testing.T, op operation, err error)
	}
	all := func(operation) int { return retries + 1 }
	getsOnly := func(op operation) int { // and DELETEs: every method but POST
		if op.method != "POST" {
			return retries + 1
		}
		return 1
	}
	apiStatus := func(status int) func(*testing.T, operation, error) {
		return func(t *testing.T, op operation, err error) {
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != status {
				t.Fatalf("err = %v, want *APIError %d", err, status)
			}
			unknown := errors.Is(err, ErrOutcomeUnknown)
			if want := op.method == "POST" && status >= 500; unknown != want {
				t.Errorf("errors.Is(ErrOutcomeUnknown) = %v, want %v", unknown, want)
			}
		}
	}
	transport := func(wantUnknownForPOST bool, cause error) func(*testing.T, operation, error) {
		return func(t *testing.T, op operation, err error) {
			var apiErr *APIError
			if err == nil || errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want a transport error", err)
			}
			if cause != nil && !errors.Is(err, cause) {
				t.Errorf("err = %v, want it to wrap %v", err, cause)
			}
			if got, want := errors.Is(err, ErrOutcomeUnknown), wantUnknownForPOST && op.method == "POST"; got != want {
				t.Errorf("errors.Is(ErrOutcomeUnknown) = %v, want %v (err %v)", got, want, err)
			}
		}
	}
	scenarios := []struct {
		name      string
		responder httpmock.Responder
		opts      []Option
		want      outcome
	}{
		{"503", twilioError(503, 0, "down"), nil, outcome{getsOnly, apiStatus(503)}},
		{"500", twilioError(500, 0, "oops"), nil, outcome{getsOnly, apiStatus(500)}},
		{"502 html", httpmock502(), nil, outcome{getsOnly, apiStatus(502)}},
		{"429", twilioError(429, 20429, "slow down"), nil, outcome{all, func(t *testing.T, op operation, err error) {
			apiStatus(429)(t, op, err)
			if !errors.Is(err, ErrRateLimited) {
				t.Errorf("429 does not match ErrRateLimited: %v", err)
			}
		}}},
		{"429 Retry-After", twilioError(429, 20429, "slow down").HeaderAdd(http.Header{"Retry-After": {"1"}}),
			[]Option{WithRetryWait(time.Millisecond, 10*time.Millisecond)}, outcome{all, apiStatus(429)}},
		{"connection refused", refused, nil, outcome{all, transport(false, syscall.ECONNREFUSED)}},
		{"reset after write", reset, nil, outcome{getsOnly, transport(true, syscall.ECONNRESET)}},
		{"per-attempt timeout", httpmock.NewStringResponder(200, "{}").Delay(time.Second),
			[]Option{WithTimeout(20 * time.Millisecond)}, outcome{getsOnly, transport(true, nil)}},
		{"404 not retried", twilioError(404, 20404, "gone"), nil, outcome{func(operation) int { return 1 }, apiStatus(404)}},
	}
	for _, op := range operations() {
		for _, sc := range scenarios {
			t.Run(op.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, append([]Option{WithMaxRetries(retries)}, sc.opts...)...)
				if op.setup != nil {
					op.setup(t, h)
				}
				h.mock.RegisterResponder(op.method, op.target, sc.responder)
				err := op.call(context.Background(), h.client)
				sc.want.check(t, op, err)
				if got, want := h.mock.GetCallCountInfo()[op.method+" "+op.target], sc.want.requests(op); got != want {
					t.Errorf("server saw %d requests to %s, want %d", got, op.target, want)
				}
			})
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	for _, op := range operations() {
		for _, first := range []struct {
			name      string
			responder httpmock.Responder
			notPOST   bool // retried for GET and DELETE only
		}{
			{"429", twilioError(429, 20429, "slow down").HeaderAdd(http.Header{"Retry-After": {"0"}}), false},
			{"refused", refused, false},
			{"503", twilioError(503, 0, "down"), true},
		} {
			if first.notPOST && op.method == "POST" {
				continue
			}
			t.Run(op.name+"/"+first.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, WithMaxRetries(3))
				if op.setup != nil {
					op.setup(t, h)
				}
				h.mock.RegisterResponder(op.method, op.target, sequence(first.responder, first.responder, op.ok(t)))
				if err := op.call(context.Background(), h.client); err != nil {
					t.Fatalf("err = %v, want success on the third try", err)
				}
				if got := h.mock.GetCallCountInfo()[op.method+" "+op.target]; got != 3 {
					t.Errorf("server saw %d requests, want 3", got)
				}
			})
		}
	}
}

func TestRetryAfterIsHonouredButCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithMaxRetries(1), WithRetryWait(time.Millisecond, 50*time.Millisecond))
	var times []time.Time
	h.mock.RegisterResponder("GET", oneURL, func(r *http.Request) (*http.Response, error) {
		times = append(times, time.Now())
		if len(times) == 1 {
			resp := httpmock.NewStringResponse(429, `{"code":20429,"message":"slow","status":429}`)
			resp.Header.Set("Retry-After", "3600")
			return resp, nil
		}
		return httpmock.NewStringResponse(200, golden(t, "fetch.json")), nil
	})
	if _, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge); err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 {
		t.Fatalf("%d requests", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < 50*time.Millisecond || gap > 30*time.Second {
		t.Errorf("waited %v; want the 1-hour Retry-After capped at the 50ms max wait", gap)
	}
}

func TestRetryWaitEndsOnContext(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithMaxRetries(5), WithRetryWait(time.Hour, time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The context ends 20 ms after the first answer, so inside the hour's
	// backoff however slowly a loaded machine sends that first request.
	down := twilioError(503, 0, "down")
	h.mock.RegisterResponder("GET", oneURL, func(r *http.Request) (*http.Response, error) {
		time.AfterFunc(20*time.Millisecond, cancel)
		return down(r)
	})
	start := time.Now()
	_, err := h.client.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("backoff ignored ctx")
	}
	if n := h.mock.GetTotalCallCount(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestCanceledContextBeforeSend(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("POST", listURL, jsonResponder(t, 201, "create_push.json"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.client.Challenges.Create(ctx, testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := h.mock.GetTotalCallCount(); n > 1 {
		t.Errorf("%d requests after cancel", n)
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	for attempt := 0; attempt < 40; attempt++ {
		for i := 0; i < 20; i++ {
			d := backoff(100*time.Millisecond, 2*time.Second, attempt, nil)
			step := min(100*time.Millisecond<<min(attempt, 30), 2*time.Second)
			if d < step/2 || d > step || d > 2*time.Second {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, d, step/2, step)
			}
		}
	}
	resp := &http.Response{Header: http.Header{"Retry-After": {"0"}}}
	if d := backoff(time.Second, 2*time.Second, 0, resp); d != 0 {
		t.Errorf("Retry-After 0 waited %v", d)
	}
	resp.Header.Set("Retry-After", "1")
	if d := backoff(10*time.Millisecond, 2*time.Second, 0, resp); d != time.Second {
		t.Errorf("Retry-After 1 waited %v", d)
	}
	resp.Header.Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	if d := backoff(10*time.Millisecond, 2*time.Second, 0, resp); d != 2*time.Second {
		t.Errorf("HTTP-date Retry-After an hour ahead waited %v, want the 2s cap", d)
	}
}

// finalLimitCodes are the 429s that waiting seconds cannot lift: per
// verification (60202), per number (60203, 60212), per challenge (60308,
// 60309) and per factor (60310, 60312).
var finalLimitCodes = []int{60202, 60203, 60212, 60308, 60309, 60310, 60312}

func TestPerChallengeLimitsAreFinal(t *testing.T) {
	t.Parallel()
	for _, code := range finalLimitCodes {
		for _, op := range operations() {
			t.Run(op.name+"/"+strconv.Itoa(code), func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, WithMaxRetries(3))
				if op.setup != nil {
					op.setup(t, h)
				}
				h.mock.RegisterResponder(op.method, op.target, twilioError(429, code, "limit reached"))
				err := op.call(context.Background(), h.client)
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Code != code || !errors.Is(err, ErrRateLimited) {
					t.Fatalf("err = %v, want *APIError %d matching ErrRateLimited", err, code)
				}
				if apiErr.Temporary() {
					t.Errorf("code %d: Temporary() = true; the limit will not lift by retrying", code)
				}
				if n := h.mock.GetCallCountInfo()[op.method+" "+op.target]; n != 1 {
					t.Errorf("code %d sent %d requests, want 1", code, n)
				}
			})
		}
	}
	// A 429 with 20429, 60328 (entities per second) or no code is still retried, and temporary.
	for _, body := range []httpmock.Responder{twilioError(429, 20429, "slow down"), twilioError(429, 60328, "entities rate limit"),
		bodyResponder(429, `{"message":"slow down"}`)} {
		h := newHarness(t, WithMaxRetries(2))
		h.mock.RegisterResponder("POST", listURL, body)
		_, err := h.client.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || !apiErr.Temporary() || h.mock.GetTotalCallCount() != 3 {
			t.Errorf("plain 429: err = %v after %d requests; want a temporary *APIError after 3", err, h.mock.GetTotalCallCount())
		}
	}
}

// TestContextEndingDuringBackoffKeepsTheAnswer: the caller learns both that
// ctx ended and what the server last said.
func TestContextEndingDuringBackoffKeepsTheAnswer(t *testing.T) {
	t.Parallel()
	rateLimited := twilioError(429, 20429, "slow down").HeaderAdd(http.Header{"Retry-After": {"2"}})
	wantBoth := func(t *testing.T, err error, ctxErr error) {
		t.Helper()
		var apiErr *APIError
		if !errors.Is(err, ctxErr) || !errors.As(err, &apiErr) || apiErr.Status != 429 || !errors.Is(err, ErrRateLimited) {
			t.Fatalf("err = %v; want it to match %v, *APIError 429 and ErrRateLimited", err, ctxErr)
		}
		if !strings.Contains(err.Error(), "slow down") {
			t.Errorf("err = %q, want the server's message in it", err)
		}
	}

	t.Run("cancelled during the wait", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, WithRetryWait(time.Millisecond, 5*time.Second))
		h.mock.RegisterResponder("POST", listURL, rateLimited)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := h.client.Challenges.Create(ctx, testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
		wantBoth(t, err, context.Canceled)
		if n := h.mock.GetTotalCallCount(); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})

	t.Run("deadline before the retry is due", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, WithRetryWait(time.Millisecond, 5*time.Second))
		h.mock.RegisterResponder("GET", oneURL, rateLimited)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := h.client.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
		wantBoth(t, err, context.DeadlineExceeded)
		if ctx.Err() != nil {
			t.Errorf("the call waited for the deadline; a 2 s wait cannot end before a 1 s deadline, so it should return at once")
		}
		if !strings.Contains(err.Error(), "would come after the context deadline") {
			t.Errorf("err = %q, want it to say why it gave up", err)
		}
	})

	t.Run("transport error", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, WithRetryWait(time.Hour, time.Hour))
		h.mock.RegisterResponder("GET", oneURL, refused)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := h.client.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("err = %v; want it to match the deadline and the refused connection", err)
		}
	})
}

func TestZeroMinimumWaitRetriesAtOnce(t *testing.T) {
	t.Parallel()
	const maxWait = 2 * time.Second
	if d := backoff(0, maxWait, 0, nil); d != 0 {
		t.Errorf("first retry with min 0 waits %v, want 0", d)
	}
	for attempt := 1; attempt < 8; attempt++ {
		step := min(maxWait/16<<(attempt-1), maxWait)
		for i := 0; i < 20; i++ {
			if d := backoff(0, maxWait, attempt, nil); d < step/2 || d > step {
				t.Fatalf("retry %d with min 0 waits %v, want %v to %v", attempt+1, d, step/2, step)
			}
		}
	}
	// Through a Client: the first retry after a 503 is logged with no wait.
	logs := &captureLog{}
	h := newHarness(t, WithRetryWait(0, time.Hour), WithMaxRetries(1),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	h.mock.RegisterResponder("GET", oneURL, sequence(twilioError(503, 0, "down"), jsonResponder(t, 200, "fetch.json")))
	if _, err := h.client.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "msg=\"verify retry\"") || !strings.Contains(logs.String(), "wait=0s") {
		t.Errorf("retry log = %s; want one retry with wait=0s", logs)
	}
}
