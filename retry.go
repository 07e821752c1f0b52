package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// checkRetry is the retry policy. GETs retry on connection errors, 429 and
// 500/502/503/504. POSTs are not idempotent here, so they retry only on 429
// and on failures where the request was provably never written.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateFrom(ctx)
	if st == nil {
		return false, nil
	}
	if resp != nil {
		st.status = resp.StatusCode
	}
	if ctx.Err() != nil {
		return false, nil
	}
	retry := false
	if err != nil {
		retry = retryableError(err) && (st.method != http.MethodPost || !st.wrote.Load())
	} else {
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			retry = true
			st.wrote.Store(false) // the server said it did not apply the request
		case http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retry = st.method == http.MethodGet
		}
	}
	if retry && st.attempt < c.maxRetries {
		attrs := []slog.Attr{
			slog.String("method", st.method), slog.String("path", st.path),
			slog.Int("attempt", st.attempt+1), slog.String("request_id", requestID(resp)),
		}
		if resp != nil {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		c.logger.LogAttrs(ctx, slog.LevelDebug, "verify retry", attrs...)
	}
	return retry, nil
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

// backoff waits per Retry-After when the server sent one (capped at max),
// else exponentially from min with jitter, never beyond max.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 || resp.Header.Get("Retry-After") == "0" {
			return min(ra, maxWait)
		}
	}
	wait := minWait << min(attempt, 30)
	if wait <= 0 || wait > maxWait {
		wait = maxWait
	}
	if half := int64(wait / 2); half > 0 {
		wait = time.Duration(half + rand.Int64N(half+1)) // 50–100 % of the step
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
