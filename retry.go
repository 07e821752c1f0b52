package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// checkRetry is the retry policy, and it also waits before the retry it
// allows. GETs and DELETEs retry on connection errors, 429 and
// 500/502/503/504. POSTs are not idempotent here, so they retry only on 429
// and on failures with positive evidence that nothing reached the server.
// A 429 that is a per-challenge or per-factor limit is final.
//
// When ctx ends during the wait, or would end before it does, the call gives
// up at once with an error that carries both ctx's error and the last answer.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateFrom(ctx)
	if st == nil {
		return false, nil
	}
	if st.stop != nil { // the second look retryablehttp takes after the response handler
		return false, st.stop
	}
	if resp != nil {
		st.status = resp.StatusCode
		st.header = resp.Header
	}
	switch {
	case err != nil && !isAPIError(err):
		st.mayHaveSent = st.mayHaveSent || !st.nothingSent(resp, err)
	case err == nil && resp.StatusCode >= 500:
		st.mayHaveSent = true
	}
	if ctx.Err() != nil {
		return false, nil
	}
	retry := c.retryable(st, resp, err)
	if !retry || st.attempt >= c.maxRetries {
		return retry, nil
	}
	wait := backoff(c.waitMin, c.waitMax, st.attempt, resp)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		st.stop = &retryStopped{err: st.lastErr, ctxErr: context.DeadlineExceeded, wait: wait, early: true}
		return false, st.stop
	}
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", st.method), slog.String("path", st.path),
			slog.Int("attempt", st.attempt+1), slog.String("request_id", requestID(resp)),
			slog.Duration("wait", wait),
		}
		if resp != nil {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", c.describe(st, err).Error()))
		}
		c.logger.LogAttrs(ctx, slog.LevelDebug, "verify retry", attrs...)
	}
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			st.stop = &retryStopped{err: st.lastErr, ctxErr: ctx.Err(), wait: wait}
			return false, st.stop
		case <-timer.C:
		}
	}
	return true, nil
}

// isAPIError reports whether err carries an *APIError. It is a function of
// its own so that the variable errors.As needs is allocated only when there
// is an error to look at, not on every answer checkRetry sees.
func isAPIError(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr)
}

// retryable applies the policy to one attempt's outcome and remembers the
// failure in st.lastErr. It reads the body of a 429 or 5xx (to learn the
// Twilio code) and puts it back, so the connection is free during the wait.
func (c *Client) retryable(st *callState, resp *http.Response, err error) bool {
	if err != nil {
		if !retryableError(err) {
			return false
		}
		st.lastErr = err
		return st.method != http.MethodPost || st.nothingSent(resp, err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return false
	}
	// A status is judged once per response: retryablehttp's second look
	// (after the response handler) comes with the handler's error.
	apiErr := bufferError(resp, st.method)
	st.lastErr = apiErr
	if resp.StatusCode == http.StatusTooManyRequests {
		return !apiErr.finalLimit() // the server did not apply it: safe for a POST too
	}
	return st.method != http.MethodPost
}

// bufferError decodes a non-2xx answer into *APIError and replaces the body
// with the bytes read, so the last attempt can still decode it.
func bufferError(resp *http.Response, method string) *APIError {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return newAPIError(resp, bytes.NewReader(raw), method)
}

// retryableError reports whether a transport or body-read failure may pass on
// a second try. Certificate failures, oversized or malformed bodies and API
// errors will not.
func retryableError(err error) bool {
	var (
		apiErr     *APIError
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		headerErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &apiErr), errors.Is(err, ErrResponseTooLarge), errors.Is(err, ErrInvalidResponse),
		errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalidErr), errors.As(err, &headerErr):
		return false
	}
	return true
}

// noBackoff tells retryablehttp not to wait: checkRetry already did.
func noBackoff(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 }

// backoff is the wait before retry number attempt+1: per Retry-After when
// the server sent one (capped at maxWait), else exponential from minWait
// with jitter (50–100 % of the step), never beyond maxWait. With minWait 0
// the first retry is immediate and later ones start at maxWait/16.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if v := resp.Header.Get("Retry-After"); v != "" {
			if ra := parseRetryAfter(v, time.Now()); ra > 0 || v == "0" {
				return min(ra, maxWait)
			}
		}
	}
	base := minWait
	if base <= 0 {
		if attempt == 0 {
			return 0
		}
		base, attempt = maxWait/16, attempt-1
	}
	wait := maxWait
	if attempt < 62 && base <= maxWait>>attempt {
		wait = base << attempt
	}
	if half := int64(wait / 2); half > 0 {
		wait = time.Duration(half + rand.Int64N(half+1))
	}
	return wait
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
