// Package verify is a typed client for the Twilio Verify v2 Challenge API:
// the backend half of push and TOTP second-factor logins.
//
// Create a Client once and share it between goroutines:
//
//	c, err := verify.NewClient(verify.WithCredentials(accountSID, authToken))
//	ch, err := c.Challenges.Create(ctx, serviceSID, identity, &verify.CreateChallengeParams{...})
//
// Every call takes a context, validates its input before sending anything,
// retries only what is safe to retry, and returns *APIError, *ValidationError
// or an error matching one of the package's sentinels.
package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
const Version = "0.1.0"

// maxResponseBytes caps a response body; a page of 1,000 challenges is about 1.5 MB.
const maxResponseBytes = 16 << 20

// Client talks to the Verify API. It is safe for concurrent use; create one
// per process and reuse it so that connections are pooled.
type Client struct {
	// Challenges creates, fetches, updates, lists and notifies challenges.
	Challenges *ChallengeService

	accountSID string
	baseURL    string   // scheme://host[/prefix], no trailing slash
	base       *url.URL // parsed baseURL, for the next_page_url host check
	userAgent  string
	logger     *slog.Logger
	maxRetries int
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
		if err := opt(&cfg); err != nil {
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

	hc := http.Client{Transport: newTransport(cfg.maxConns)}
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	}
	hc.Timeout = cfg.timeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.transport = &hc
	c.http = &retryablehttp.Client{
		HTTPClient:     c.transport,
		RetryWaitMin:   cfg.waitMin,
		RetryWaitMax:   cfg.waitMax,
		RetryMax:       cfg.maxRetries,
		RequestLogHook: startAttempt,
		CheckRetry:     c.checkRetry,
		Backoff:        backoff,
		ErrorHandler:   c.lastAttempt,
	}
	c.Challenges = &ChallengeService{client: c}
	return c, nil
}

// newTransport is a pooled transport sized for many goroutines logging
// people in at once through one Client: up to maxConns connections per
// host, all kept open between calls.
func newTransport(maxConns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = maxConns
	t.MaxIdleConnsPerHost = maxConns
	t.MaxIdleConns = 4 * maxConns
	t.IdleConnTimeout = 90 * time.Second
	return t
}

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
	attempt      int         // 0-based index of the attempt in flight
	wrote        atomic.Bool // the current attempt wrote its request to a connection
	status       int         // status of the last response seen
}

type callStateKey struct{}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// startAttempt runs before every attempt and forgets what the last one wrote.
func startAttempt(_ retryablehttp.Logger, req *http.Request, attempt int) {
	if st := stateFrom(req.Context()); st != nil {
		st.attempt = attempt
		st.wrote.Store(false)
	}
}

// do sends one call: it builds the request, lets the retry policy drive the
// attempts, and decodes a 2xx JSON body into out (or returns *APIError).
func (c *Client) do(ctx context.Context, method, rawURL, path string, form url.Values, out any) error {
	if ctx == nil {
		return errors.New("verify: nil context; pass context.Background() or a request's context")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("verify: %s %s not sent: %w", method, path, err)
	}
	st := &callState{method: method, path: path}
	reqCtx := context.WithValue(ctx, callStateKey{}, st)
	var body any
	if method == http.MethodPost {
		reqCtx = httptrace.WithClientTrace(reqCtx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { st.wrote.Store(true) },
		})
		body = []byte(form.Encode())
	}
	req, err := retryablehttp.NewRequestWithContext(reqCtx, method, rawURL, body)
	if err != nil {
		return fmt.Errorf("verify: building %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", c.creds.authorization)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetResponseHandler(func(resp *http.Response) error { return readResponse(resp, method, out) })

	start := time.Now()
	resp, err := c.http.Do(req)
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "verify request",
			slog.String("method", method), slog.String("path", path),
			slog.Int("status", st.status), slog.Int("attempts", st.attempt+1),
			slog.String("request_id", requestID(resp)), slog.Duration("elapsed", time.Since(start)),
			slog.Bool("ok", err == nil))
	}
	if err == nil {
		return nil
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	// A POST whose request was written (including one answered 2xx with an
	// unusable body) may have been applied.
	unknown := method == http.MethodPost && st.wrote.Load()
	return &transportError{method: method, path: path, err: err, unknown: unknown}
}

// lastAttempt hands back what the final attempt produced: the decoded
// *APIError when a retryable status ran out of retries, else the error.
func (c *Client) lastAttempt(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err == nil && resp != nil {
		return nil, readResponse(resp, resp.Request.Method, nil)
	}
	return nil, err
}

// readResponse decodes a 2xx JSON body into out, or a non-2xx into *APIError.
// It always drains a little and closes the body so the connection is reused.
func readResponse(resp *http.Response, method string, out any) error {
	body := &cappedReader{r: resp.Body, left: maxResponseBytes}
	defer body.drainAndClose(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, body, method)
	}
	if resp.ContentLength > maxResponseBytes {
		return fmt.Errorf("%w: Content-Length %d exceeds %d bytes", ErrResponseTooLarge, resp.ContentLength, maxResponseBytes)
	}
	if out == nil {
		return nil
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

// apiErrorBody is Twilio's error JSON.
type apiErrorBody struct {
	Code     int            `json:"code"`
	Message  string         `json:"message"`
	MoreInfo string         `json:"more_info"`
	Details  map[string]any `json:"details"`
}

// newAPIError builds an *APIError from a non-2xx response, JSON or not.
func newAPIError(resp *http.Response, body io.Reader, method string) *APIError {
	e := &APIError{
		Status:     resp.StatusCode,
		RequestID:  requestID(resp),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		method:     method,
	}
	raw, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	var parsed apiErrorBody
	if json.Unmarshal(raw, &parsed) == nil && (parsed.Code != 0 || parsed.Message != "") {
		e.Code, e.Message, e.MoreInfo, e.Details = parsed.Code, parsed.Message, parsed.MoreInfo, parsed.Details
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

func requestID(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	return resp.Header.Get("Twilio-Request-Id")
}
