package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK's version, sent in the User-Agent.
const Version = "0.3.0"

// maxResponseBytes caps a response body; a page of 1,000 challenges is about 1.5 MB.
const maxResponseBytes = 16 << 20

// maxErrorBytes caps what is read of an error body.
const maxErrorBytes = 64 << 10

// Client talks to the Verify API. It is safe for concurrent use; create one
// per process and reuse it so that connections are pooled.
type Client struct {
	// Challenges creates, fetches, updates, lists, notifies and waits on challenges.
	Challenges *ChallengeService
	// Entities creates, fetches, deletes and lists the users Verify knows.
	Entities *EntityService
	// Factors enrolls, verifies, updates, deletes and lists TOTP and push factors.
	Factors *FactorService
	// AccessTokens creates the tokens a mobile app enrolls a push factor with.
	AccessTokens *AccessTokenService
	// Webhooks configures where Verify sends its events.
	Webhooks *WebhookService
	// Services creates, fetches, updates, deletes and lists Verify services.
	Services *ServiceService
	// Verifications sends one-time codes by SMS, call, email or WhatsApp, and
	// starts Silent Network Auth.
	Verifications *VerificationService
	// VerificationChecks checks the codes users type.
	VerificationChecks *VerificationCheckService
	// Passkeys registers passkeys and logs users in with them.
	Passkeys *PasskeyService

	accountSID string
	baseURL    string   // scheme://host[/prefix], no trailing slash
	base       *url.URL // parsed baseURL, for the next_page_url host check
	userAgent  string
	logger     *slog.Logger
	maxRetries int
	waitMin    time.Duration // backoff bounds, see backoff
	waitMax    time.Duration
	creds      *credentials // behind a pointer so %v of a Client value never shows it
	http       *retryablehttp.Client
	transport  *http.Client
}

type credentials struct {
	authorization string // "Basic …", computed once
}

// NewClient builds a Client. Without WithCredentials or WithAPIKey it reads
// TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and
// TWILIO_API_SECRET), and TWILIO_EDGE and TWILIO_REGION.
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{
		timeout:    DefaultTimeout,
		maxRetries: DefaultMaxRetries,
		waitMin:    DefaultRetryWaitMin,
		waitMax:    DefaultRetryWaitMax,
		maxConns:   DefaultMaxConns,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.fromEnvironment(); err != nil {
		return nil, err
	}

	c := &Client{
		accountSID: cfg.accountSID,
		baseURL:    cfg.resolveBaseURL(),
		logger:     cfg.logger,
		maxRetries: cfg.maxRetries,
		creds: &credentials{authorization: "Basic " +
			base64.StdEncoding.EncodeToString([]byte(cfg.username+":"+cfg.password))},
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if c.base, err = url.Parse(c.baseURL); err != nil {
		return nil, fmt.Errorf("verify: base URL: %w", err)
	}
	c.userAgent = "verify-go/" + Version + " (" + runtime.GOOS + " " + runtime.GOARCH + ") go/" +
		strings.TrimPrefix(runtime.Version(), "go")
	if cfg.userAgentSuffix != "" {
		c.userAgent += " " + cfg.userAgentSuffix
	}

	// The caller's http.Client is used as given (its Transport untouched);
	// only without one is the pooled default built.
	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	} else {
		hc.Transport = newTransport(cfg.maxConns)
	}
	hc.Timeout = cfg.timeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.transport = &hc
	retrying := hc
	retrying.Transport = attempt{rt: hc.Transport}
	if _, ok := hc.Transport.(*http.Transport); ok {
		// The per-attempt timeout rides on the request's context. For any
		// other transport net/http's own Client.Timeout keeps it: its timer
		// also cancels wrappers that drop the request's context.
		retrying.Transport, retrying.Timeout = attempt{rt: hc.Transport, timeout: cfg.timeout}, 0
	}
	c.http = &retryablehttp.Client{
		HTTPClient:     &retrying,
		RetryWaitMin:   cfg.waitMin,
		RetryWaitMax:   cfg.waitMax,
		RetryMax:       cfg.maxRetries,
		RequestLogHook: startAttempt,
		PrepareRetry:   rewind,
		CheckRetry:     c.checkRetry,
		Backoff:        noBackoff, // checkRetry waits itself, so that it can give up with the last answer
		ErrorHandler:   c.lastAttempt,
	}
	c.waitMin, c.waitMax = cfg.waitMin, cfg.waitMax
	c.Challenges = &ChallengeService{client: c}
	c.Entities = &EntityService{client: c}
	c.Factors = &FactorService{client: c}
	c.AccessTokens = &AccessTokenService{client: c}
	c.Webhooks = &WebhookService{client: c}
	c.Services = &ServiceService{client: c}
	c.Verifications = &VerificationService{client: c}
	c.VerificationChecks = &VerificationCheckService{client: c}
	c.Passkeys = &PasskeyService{client: c}
	return c, nil
}

// newTransport is a pooled transport sized for many goroutines logging
// people in at once through one Client: up to maxConns connections per
// host, all kept open between calls. It starts from http.DefaultTransport's
// settings when that is an *http.Transport, and from the same defaults
// written out when an app or a test (httpmock.Activate) replaced it.
func newTransport(maxConns int) *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t.MaxConnsPerHost = maxConns
	t.MaxIdleConnsPerHost = maxConns
	t.MaxIdleConns = 4 * maxConns
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// attempt is the RoundTripper retryablehttp drives: one attempt over the
// caller's or the pooled transport (nil: http.DefaultTransport at the time
// of the call, as in http.Client).
//
// It has no CloseIdleConnections: retryablehttp calls that on its client
// whenever a call ends in an error (a 404 included), which would empty the
// pool every other call shares. With a timeout it also bounds the attempt
// through the request's context, until the body is closed: what
// http.Client.Timeout does for a bare *http.Transport, which it can no
// longer see behind this wrapper (it would start a timer goroutine per
// request instead).
type attempt struct {
	rt      http.RoundTripper
	timeout time.Duration // 0: the http.Client's Timeout applies instead
}

func (a attempt) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := a.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	if a.timeout <= 0 {
		return rt.RoundTrip(req)
	}
	parent := req.Context()
	ctx, cancel := context.WithTimeout(parent, a.timeout)
	resp, err := rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, a.timedOut(parent, ctx, err)
	}
	var body *attemptBody
	if st := stateFrom(parent); st != nil {
		// A call's attempts run one after another, and each answer's body is
		// closed (read, or drained for the retry) before the next attempt
		// starts, so the one in the call's state serves them all.
		body = &st.answer
	} else {
		body = new(attemptBody)
	}
	*body = attemptBody{ReadCloser: resp.Body, a: a, parent: parent, ctx: ctx, cancel: cancel}
	resp.Body = body
	return resp, nil
}

// timedOut names the per-attempt timeout when it, and not the caller's
// ctx, ended the attempt.
func (a attempt) timedOut(parent, ctx context.Context, err error) error {
	if err == nil || err == io.EOF || ctx.Err() != context.DeadlineExceeded || parent.Err() != nil {
		return err
	}
	return &attemptTimeout{timeout: a.timeout, err: err}
}

// attemptBody ends the attempt's context once the body is closed.
type attemptBody struct {
	io.ReadCloser
	a           attempt
	parent, ctx context.Context
	cancel      context.CancelFunc
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	return n, b.a.timedOut(b.parent, b.ctx, err)
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// attemptTimeout is an attempt that outlived WithTimeout. Like net/http's
// Client.Timeout error it is a net.Error with Timeout true and matches
// context.DeadlineExceeded; the caller's own ctx may still have time.
type attemptTimeout struct {
	timeout time.Duration
	err     error
}

func (e *attemptTimeout) Error() string {
	return "no answer within the per-attempt timeout of " + e.timeout.String() + " (WithTimeout)"
}
func (e *attemptTimeout) Unwrap() error   { return e.err }
func (e *attemptTimeout) Timeout() bool   { return true }
func (e *attemptTimeout) Temporary() bool { return true }

// AccountSID is the account the client acts for.
func (c *Client) AccountSID() string { return c.accountSID }

// BaseURL is the scheme, host and optional path prefix requests go to.
func (c *Client) BaseURL() string { return c.baseURL }

// CloseIdleConnections closes pooled connections that are not in use, for
// tidy shutdowns and tests.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// Format prints the client without its credentials, whatever the verb.
func (c Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "verify.Client{AccountSID: %s, BaseURL: %s}", c.accountSID, c.baseURL)
}

// callState follows one call across its attempts.
type callState struct {
	method, path string
	attempt      int           // 0-based index of the attempt in flight
	status       int           // status of the last response seen
	header       http.Header   // headers of the last response; its Date is parsed only by Wait
	lastErr      error         // the last retryable failure (*APIError or a transport error)
	mayHaveSent  bool          // an earlier attempt may have reached the server
	stop         *retryStopped // set once the call gave up waiting for a retry

	// Parts of the call that would otherwise each be allocated apart.
	ctx     callContext  // the requests' context, carrying st
	read    cappedReader // the body of the answer being read, see readResponse
	answer  attemptBody  // the body of the attempt's answer, see attempt
	headers [4]string    // the request's header values

	// What httptrace saw of the attempt in flight (POST and DELETE only).
	traced      bool
	getConn     atomic.Bool // the transport started looking for a connection
	gotConn     atomic.Bool // … and obtained one
	writeFailed atomic.Bool // writing the request failed, so it never left whole
}

type callStateKey struct{}

// callContext is the caller's ctx carrying the call's state for checkRetry
// and startAttempt, as context.WithValue would; it lives inside the state
// so that it costs no allocation of its own.
type callContext struct {
	context.Context
	st *callState
}

func (c *callContext) Value(key any) any {
	if key == (callStateKey{}) {
		return c.st
	}
	return c.Context.Value(key)
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// startAttempt runs before every attempt and forgets what the last one saw.
func startAttempt(_ retryablehttp.Logger, req *http.Request, attempt int) {
	if st := stateFrom(req.Context()); st != nil {
		st.attempt = attempt
		st.getConn.Store(false)
		st.gotConn.Store(false)
		st.writeFailed.Store(false)
	}
}

// rewind gives a retry a fresh body, from the GetBody net/http set for it:
// retryablehttp calls it on its copy of the request before every retry.
func rewind(req *http.Request) error {
	if req.GetBody == nil {
		return nil
	}
	body, err := req.GetBody()
	if err != nil {
		return err
	}
	req.Body = body
	return nil
}

// trace sets hooks to record the evidence that tells a request that never
// left from one that may have: POSTs are retried only on that evidence.
func (st *callState) trace(hooks *httptrace.ClientTrace) {
	st.traced = true
	*hooks = httptrace.ClientTrace{
		GetConn: func(string) { st.getConn.Store(true) },
		GotConn: func(httptrace.GotConnInfo) { st.gotConn.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				st.writeFailed.Store(true)
			}
		},
	}
}

// tracedCall is the state of a call that is traced (POST and DELETE),
// with room for its hooks and for the reader of a POST's body on its first
// attempt: one allocation instead of three, and a GET's state stays small.
type tracedCall struct {
	st    callState
	hooks httptrace.ClientTrace
	body  bytes.Reader
}

// newCallState is the state of a new call, and for any method but GET the
// tracedCall it is part of; see trace.
func newCallState(method, path string) (*callState, *tracedCall) {
	if method == http.MethodGet {
		return &callState{method: method, path: path}, nil
	}
	tc := &tracedCall{st: callState{method: method, path: path}}
	tc.st.trace(&tc.hooks)
	return &tc.st, tc
}

// nothingSent reports positive evidence that the attempt's request never
// reached the server: a dial or DNS failure, or a trace showing that no
// connection was obtained (TLS handshakes happen before one is) or that the
// write failed. A response proves the opposite; a missing trace proves
// nothing, since transports that drop the request's context give none.
func (st *callState) nothingSent(resp *http.Response, err error) bool {
	if resp != nil || err == nil {
		return false
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) && opErr.Op == "dial" || errors.As(err, &dnsErr) {
		return true
	}
	if !st.traced {
		return false
	}
	got := st.gotConn.Load()
	return st.getConn.Load() && !got || got && st.writeFailed.Load()
}

// Media types of a POST's body: every endpoint takes a form but Passkeys,
// which takes JSON.
const (
	mediaForm = "application/x-www-form-urlencoded"
	mediaJSON = "application/json"
)

// do sends one call: it builds the request, lets the retry policy drive the
// attempts, and decodes a 2xx JSON body into out (or returns *APIError).
// form is a POST's encoded body (see encodeForm), nil for other methods.
func (c *Client) do(ctx context.Context, method, rawURL, path string, form []byte, out any) error {
	_, err := c.exchange(ctx, method, rawURL, path, form, mediaForm, out)
	return err
}

// postJSON sends body, a JSON document, to rawURL (a URL under the client's
// base) and decodes the T the API returns. Only the media type differs from
// a form: the retry rules, timeouts, logging and redaction are the same.
func postJSON[T any](ctx context.Context, c *Client, rawURL string, body []byte) (*T, error) {
	var out T
	if _, err := c.exchange(ctx, http.MethodPost, rawURL, c.pathOf(rawURL), body, mediaJSON, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// get fetches rawURL (a URL under the client's base, see entityChildURL)
// and decodes the T the API returns.
func get[T any](ctx context.Context, c *Client, rawURL string) (*T, error) {
	var out T
	if err := c.do(ctx, http.MethodGet, rawURL, c.pathOf(rawURL), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// delete removes the resource at rawURL. The API answers 204 with no body.
// Deleting twice deletes once, so DELETE retries like a GET; a 404 after an
// attempt that may have reached the server is success (see finalError).
func (c *Client) delete(ctx context.Context, rawURL string) error {
	return c.do(ctx, http.MethodDelete, rawURL, c.pathOf(rawURL), nil, nil)
}

// send is do that also returns what the call saw, such as the server's Date.
func (c *Client) send(ctx context.Context, method, rawURL, path string, form []byte, out any) (*callState, error) {
	return c.exchange(ctx, method, rawURL, path, form, mediaForm, out)
}

// exchange is send for a POST body of any media type: body is sent with
// Content-Type media; other methods send no body and ignore both.
func (c *Client) exchange(ctx context.Context, method, rawURL, path string, body []byte, media string, out any) (*callState, error) {
	if ctx == nil {
		return nil, errors.New("verify: nil context; pass context.Background() or a request's context")
	}
	st, traced := newCallState(method, path)
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("verify: %s %s not sent: %w", method, path, err)
	}
	st.ctx = callContext{Context: ctx, st: st}
	var reqCtx context.Context = &st.ctx
	if traced != nil {
		reqCtx = httptrace.WithClientTrace(reqCtx, &traced.hooks)
	}
	// A POST's body is a *bytes.Reader, for which net/http sets
	// ContentLength and GetBody itself, and rewind opens it again for each
	// retry. Given the bytes instead, retryablehttp would rewind them itself
	// at the cost of two closures and a copy into an interface, plus a
	// reader and an io.NopCloser for every attempt, the first included.
	var reader io.Reader
	if method == http.MethodPost {
		traced.body.Reset(body)
		reader = &traced.body
	}
	httpReq, err := http.NewRequestWithContext(reqCtx, method, rawURL, reader)
	if err != nil {
		return st, fmt.Errorf("verify: building %s %s: %w", method, path, err)
	}
	// An empty Host sends URL.Host as the Host header, as the Host
	// NewRequest copied from it does; but a set Host makes http.Client copy
	// the URL on every attempt, for a cookie jar the SDK never has.
	httpReq.Host = ""
	req := &retryablehttp.Request{Request: httpReq}
	// The header values share an array in st (Header.Set would allocate a
	// slice for each); each is capped at its length, so an Add elsewhere
	// copies instead of writing over its neighbour.
	values := st.headers[:]
	values[0], values[1], values[2] = c.creds.authorization, "application/json", c.userAgent
	req.Header["Authorization"], req.Header["Accept"], req.Header["User-Agent"] = values[0:1:1], values[1:2:2], values[2:3:3]
	if method == http.MethodPost {
		values[3] = media
		req.Header["Content-Type"] = values[3:4:4]
	}
	req.SetResponseHandler(func(resp *http.Response) error { return readBody(resp, &st.read, method, out) })

	start := time.Now()
	_, err = c.http.Do(req) // the response handler decoded the body; st holds what else it said
	err = c.finalError(ctx, st, err)
	st.record(ctx)
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "verify request",
			slog.String("method", method), slog.String("path", path),
			slog.Int("status", st.status), slog.Int("attempts", st.attempt+1),
			slog.String("request_id", st.header.Get("Twilio-Request-Id")), slog.Duration("elapsed", time.Since(start)),
			slog.Bool("ok", err == nil))
	}
	return st, err
}

// finalError turns what the retry loop returned into the caller's error.
func (c *Client) finalError(ctx context.Context, st *callState, err error) error {
	if err == nil {
		return nil
	}
	if stop := st.stop; stop != nil {
		stop.err = c.describe(st, stop.err)
		return stop
	}
	if st.lastErr != nil && err == ctx.Err() {
		// ctx ended just as a retry was due: keep the answer that caused it.
		return &retryStopped{err: c.describe(st, st.lastErr), ctxErr: err}
	}
	err = c.describe(st, err)
	var apiErr *APIError
	if st.method == http.MethodDelete && st.mayHaveSent && errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil // an earlier attempt that may have arrived deleted it
	}
	return err
}

// describe wraps a failure to get an answer in a transportError; an
// *APIError is returned as it is.
func (c *Client) describe(st *callState, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.onVerification = namesVerification(st.path)
		return apiErr
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err // its text repeats the whole URL, query included
	}
	return &transportError{method: st.method, path: st.path, err: err, unknown: st.method == http.MethodPost && st.mayHaveSent}
}

// namesVerification reports whether path is a code check or names one
// verification, where a 404 means the verification is no longer pending.
func namesVerification(path string) bool {
	return strings.HasSuffix(path, "/VerificationCheck") || strings.Contains(path, "/Verifications/")
}

// lastAttempt hands back what the final attempt produced: the decoded
// *APIError when a retryable status ran out of retries, else the error.
func (c *Client) lastAttempt(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err == nil && resp != nil {
		return nil, readResponse(resp, resp.Request.Method, nil)
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
	return nil, err
}

// readResponse decodes a 2xx JSON body into out, or a non-2xx into *APIError.
// It always drains a little and closes the body so the connection is reused.
func readResponse(resp *http.Response, method string, out any) error {
	return readBody(resp, new(cappedReader), method, out)
}

// readBody is readResponse reading through body, which it resets: a call
// reads its answers through the one in its state, one after the other.
func readBody(resp *http.Response, body *cappedReader, method string, out any) error {
	*body = cappedReader{r: resp.Body, left: maxResponseBytes}
	defer body.drainAndClose(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, body, method)
	}
	if out == nil {
		// A DELETE: the status is the whole answer (the API sends 204 and no
		// body), so whatever body came is drained, never judged.
		return nil
	}
	if resp.ContentLength > maxResponseBytes {
		return fmt.Errorf("%w: Content-Length %d exceeds %d bytes", ErrResponseTooLarge, resp.ContentLength, maxResponseBytes)
	}
	err := json.NewDecoder(body).Decode(out)
	switch {
	case err == nil:
		return nil
	case body.readErr != nil:
		// The connection failed mid-body (cut short, reset, timed out):
		// retryable for a GET.
		return fmt.Errorf("reading response body: %w", body.readErr)
	case errors.Is(err, ErrResponseTooLarge):
		return fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, maxResponseBytes)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: empty body with HTTP %d", ErrInvalidResponse, resp.StatusCode)
	}
	// The whole body arrived and is not the JSON expected.
	return fmt.Errorf("%w: %v", ErrInvalidResponse, err)
}

// drainAndClose reads at most 4 KiB more, so the connection can be reused,
// then closes the body.
func (c *cappedReader) drainAndClose(body io.Closer) {
	c.left = min(c.left, 4<<10)
	_, _ = io.Copy(io.Discard, c)
	_ = body.Close()
}

// cappedReader fails with ErrResponseTooLarge once more than left bytes are
// read, and remembers a failure of the body itself (anything but io.EOF).
type cappedReader struct {
	r       io.Reader
	left    int64
	readErr error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, ErrResponseTooLarge
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		c.readErr = err
	}
	return n, err
}

// newAPIError builds an *APIError from a non-2xx response, JSON or not.
func newAPIError(resp *http.Response, body io.Reader, method string) *APIError {
	e := &APIError{
		Status:     resp.StatusCode,
		RequestID:  requestID(resp),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		method:     method,
	}
	raw, _ := io.ReadAll(io.LimitReader(body, maxErrorBytes))
	if e.decodeBody(raw) {
		if e.Message == "" {
			e.Message = "no message (HTTP " + strconv.Itoa(resp.StatusCode) + ")"
		}
		return e
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	e.Message = fmt.Sprintf("%s (%s body of %d bytes, not a Twilio error)", http.StatusText(resp.StatusCode), ct, len(raw))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Message = fmt.Sprintf("unexpected redirect (HTTP %d); redirects are not followed", resp.StatusCode)
	}
	return e
}

// decodeBody reads Twilio's error JSON field by field, keeping whatever is
// readable: a code sent as "60306", details sent as text, an odd message
// type. It reports whether the body was a Twilio error (a code or a message).
func (e *APIError) decodeBody(raw []byte) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return false
	}
	e.Code = jsonCode(fields["code"])
	_ = json.Unmarshal(fields["message"], &e.Message)
	_ = json.Unmarshal(fields["more_info"], &e.MoreInfo)
	if d := fields["details"]; len(d) > 0 && string(d) != "null" {
		if json.Unmarshal(d, &e.Details) != nil {
			var v any
			if json.Unmarshal(d, &v) == nil {
				e.Details = map[string]any{"value": v}
			}
		}
	}
	return e.Code != 0 || e.Message != ""
}

// jsonCode reads a Twilio code sent as a number or as a string of digits.
func jsonCode(raw json.RawMessage) int {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int(f)) {
		return int(f)
	}
	return 0
}

func requestID(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	return resp.Header.Get("Twilio-Request-Id")
}
