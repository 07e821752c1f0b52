package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sentinels for errors.Is. An *APIError matches the sentinel for its Twilio
// error code (and, for ErrNotFound and ErrRateLimited, its HTTP status).
var (
	// ErrNotFound: the service, entity, factor, challenge or verification
	// does not exist (20404, HTTP 404), or a passkey answers no challenge
	// Verify knows (60391).
	ErrNotFound = errors.New("verify: resource not found")
	// ErrUnauthorized: the credentials were refused (HTTP 401 or 403 with code 20003).
	ErrUnauthorized = errors.New("verify: credentials refused")
	// ErrRateLimited: too many requests or attempts (any HTTP 429: 20429,
	// 60202, 60203, 60212, 60308, 60309, 60310, 60312, 60328, …). The
	// per-number, per-verification, per-challenge and per-factor limits
	// (60202, 60203, 60212, 60308, 60309, 60310, 60312) are final and never
	// retried; the others are retried (see APIError.Temporary).
	ErrRateLimited = errors.New("verify: rate limited")
	// ErrInvalidRequest: the API rejected a parameter (60306, 60200), or a
	// passkey request it cannot use: a relying party that does not match the
	// factor's (60382), no authenticator criteria in the request or the
	// service (60393), an identity or userHandle it cannot read (60420), a
	// credential that is not a public-key one (60434), no usable relying
	// party on the service or in the factor's config (60371), authenticator
	// data (60379) or an attestation (60386) it cannot read.
	ErrInvalidRequest = errors.New("verify: invalid request")
	// ErrFactorNotVerified: the factor has not been verified yet (60318).
	ErrFactorNotVerified = errors.New("verify: factor not verified")
	// ErrChallengeAlreadyResponded: the challenge is already approved or denied (60322).
	ErrChallengeAlreadyResponded = errors.New("verify: challenge already responded")
	// ErrChallengeExpired: the challenge passed its expiration date (60323).
	ErrChallengeExpired = errors.New("verify: challenge expired")
	// ErrVerificationFailed: the AuthPayload did not verify (60324 for a
	// challenge, 60311 for a factor), or a passkey's signature did not (60381).
	ErrVerificationFailed = errors.New("verify: verification failed")

	// ErrMaxSendAttempts: a verification was started too often for one
	// phone number or address without being checked (60203, HTTP 429). Check
	// or cancel the pending one, or wait until it expires (10 minutes).
	ErrMaxSendAttempts = errors.New("verify: too many codes sent to this number or address")
	// ErrMaxCheckAttempts: a verification's code was checked too often (60202,
	// HTTP 429, after 5 checks). Start a new verification once it expires.
	ErrMaxCheckAttempts = errors.New("verify: too many code checks for this verification")
	// ErrVerificationNotFound: a check, fetch or update found no pending
	// verification (20404, HTTP 404): Verify forgets one once it is approved,
	// canceled, expired or out of attempts. Start a new one. It matches
	// ErrNotFound too.
	ErrVerificationNotFound = errors.New("verify: no pending verification")
	// ErrLandline: the service skips SMS to landlines and To is one (60205, HTTP 403).
	ErrLandline = errors.New("verify: the number is a landline and cannot receive SMS")
	// ErrTooManyConcurrentRequests: many verifications were started at once
	// for one phone number (60212, HTTP 429).
	ErrTooManyConcurrentRequests = errors.New("verify: too many concurrent verifications for this number")
	// ErrFraudBlocked: Fraud Guard blocked SMS to the number's prefix for up
	// to 12 hours (60410). Offer another channel, such as call or email.
	ErrFraudBlocked = errors.New("verify: delivery blocked by fraud prevention")

	// ErrOutcomeUnknown marks a POST that may or may not have been applied:
	// the request reached the server but no usable answer came back. Fetch or
	// List to learn the state before sending it again.
	ErrOutcomeUnknown = errors.New("verify: outcome unknown, the request may have been applied")
	// ErrResponseTooLarge: the response body exceeded the client's size cap.
	ErrResponseTooLarge = errors.New("verify: response body too large")
	// ErrInvalidResponse: the server answered 2xx with a body that is not the expected JSON.
	ErrInvalidResponse = errors.New("verify: invalid response body")
)

// Twilio error codes that have a sentinel.
const (
	codeNotFound           = 20404
	codeAuthenticate       = 20003
	codeTooManyRequests    = 20429
	codeInvalidParameter   = 60200
	codeMaxCheckAttempts   = 60202
	codeMaxSendAttempts    = 60203
	codeLandline           = 60205
	codeConcurrentRequests = 60212
	codeFraudBlocked       = 60410
	codeInvalidRequest     = 60306
	codeMaxAttempts        = 60308
	codeMaxNotifications   = 60309
	codeFactorVerifyFailed = 60311
	codeMaxFactorAttempts  = 60310
	codeRateLimitExceeded  = 60312
	codeFactorNotVerified  = 60318
	codeAlreadyResponded   = 60322
	codeExpired            = 60323
	codeVerifyFailed       = 60324

	// Passkeys
	codePasskeyNoRelyingParty = 60371
	codePasskeyAuthData       = 60379
	codePasskeySignature      = 60381
	codePasskeyRelyingParty   = 60382
	codePasskeyCriteria       = 60393
	codePasskeyContactID      = 60420
	codePasskeyContentType    = 60434
	codePasskeyAttestation    = 60386
	codePasskeyNoChallenge    = 60391
)

// APIError is a non-2xx answer from the API. It is returned for JSON error
// bodies and for anything else (an HTML 502 from a proxy) alike.
type APIError struct {
	Status     int            // HTTP status code from the status line
	Code       int            // Twilio error code; 0 when the body had none
	Message    string         // Twilio's message, or a description of a non-JSON body
	MoreInfo   string         // link to the error's documentation
	Details    map[string]any // extra detail Twilio sent, if any
	RequestID  string         // Twilio-Request-Id header, for support tickets
	RetryAfter time.Duration  // parsed Retry-After header; 0 when absent

	method string // the request's method, to tell whether a 5xx POST may have been applied
	// onVerification: the request named one verification (a check, fetch or
	// update), so a 404 means it is no longer pending.
	onVerification bool
}

// Error describes the failure with the status, code and request id.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("verify: HTTP ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != 0 {
		b.WriteString(" code ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	if e.MoreInfo != "" {
		b.WriteString("; see ")
		b.WriteString(e.MoreInfo)
	}
	return b.String()
}

// Is matches the sentinels by Twilio code and HTTP status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.notFound()
	case ErrVerificationNotFound:
		return e.onVerification && e.notFound()
	case ErrUnauthorized:
		return e.Status == 401 || e.Code == codeAuthenticate
	case ErrRateLimited:
		return e.Code == codeTooManyRequests || e.finalLimit() || e.Status == 429
	case ErrInvalidRequest:
		switch e.Code {
		case codeInvalidRequest, codeInvalidParameter, codePasskeyRelyingParty, codePasskeyCriteria,
			codePasskeyContactID, codePasskeyContentType, codePasskeyNoRelyingParty, codePasskeyAuthData,
			codePasskeyAttestation:
			return true
		}
		return false
	case ErrVerificationFailed:
		return e.Code == codeVerifyFailed || e.Code == codeFactorVerifyFailed || e.Code == codePasskeySignature
	case ErrOutcomeUnknown:
		// A POST answered with a 5xx may have been applied before the failure.
		return e.method == "POST" && e.Status >= 500
	}
	code, ok := sentinelCodes[target]
	return ok && e.Code == code
}

// sentinelCodes are the sentinels that stand for one Twilio code each.
var sentinelCodes = map[error]int{
	ErrFactorNotVerified:         codeFactorNotVerified,
	ErrChallengeAlreadyResponded: codeAlreadyResponded,
	ErrChallengeExpired:          codeExpired,
	ErrMaxSendAttempts:           codeMaxSendAttempts,
	ErrMaxCheckAttempts:          codeMaxCheckAttempts,
	ErrLandline:                  codeLandline,
	ErrTooManyConcurrentRequests: codeConcurrentRequests,
	ErrFraudBlocked:              codeFraudBlocked,
}

// notFound reports Twilio's 20404, a passkey answer to no challenge
// (60391), or a 404 without a code.
func (e *APIError) notFound() bool {
	return e.Code == codeNotFound || e.Code == codePasskeyNoChallenge || (e.Code == 0 && e.Status == 404)
}

// Temporary reports whether the same request may succeed soon without
// changes: rate limits and server-side failures. The per-number,
// per-verification, per-challenge and per-factor limits (60202 too many
// checks of a verification, 60203 too many codes sent to a number, 60212 too
// many verifications at once for a number, 60308 too many attempts on a
// challenge, 60309 too many notifications, 60310 too many attempts to
// verify a factor, 60312 too many challenges for a factor) are not: they
// last until the verification or challenge ends or for hours, so the SDK
// does not retry them either.
func (e *APIError) Temporary() bool {
	if e.finalLimit() {
		return false
	}
	return e.Status == 429 || e.Status >= 500 || errors.Is(e, ErrRateLimited)
}

// finalLimit reports a rate limit that waiting seconds cannot lift.
func (e *APIError) finalLimit() bool {
	switch e.Code {
	case codeMaxCheckAttempts, codeMaxSendAttempts, codeConcurrentRequests,
		codeMaxAttempts, codeMaxNotifications, codeMaxFactorAttempts, codeRateLimitExceeded:
		return true
	}
	return false
}

// ValidationError reports a parameter that breaks one of the API's limits.
// It is returned before any request is sent. The value itself is never
// included, since it may be a secret (an AuthPayload or HiddenDetails).
type ValidationError struct {
	Field string // the parameter, as the API names it: "Details.Fields[3].Label"
	Rule  string // what the value must satisfy: "at most 36 characters"
}

// Error names the field and the rule it broke.
func (e *ValidationError) Error() string {
	return "verify: invalid " + e.Field + ": " + e.Rule
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Rule: fmt.Sprintf(format, args...)}
}

// transportError wraps a failure to get an answer; it names the method and
// path but never the URL's query, credentials or body.
type transportError struct {
	method, path string
	err          error
	unknown      bool // a POST that may have reached the server, so may have been applied
}

func (e *transportError) Error() string {
	if e.unknown {
		return "verify: " + e.method + " " + e.path + ": " + e.err.Error() +
			" (the request may have been sent and applied; Fetch or List before sending it again)"
	}
	return "verify: " + e.method + " " + e.path + ": " + e.err.Error()
}

func (e *transportError) Unwrap() []error {
	if e.unknown {
		return []error{e.err, ErrOutcomeUnknown}
	}
	return []error{e.err}
}

// retryStopped is a call that stopped retrying because ctx ended during the
// wait for the next attempt, or would have ended before that wait did. It
// matches both ctx's error and the last attempt's failure, so
// errors.Is(err, context.DeadlineExceeded) and errors.As(err, &apiErr) both hold.
type retryStopped struct {
	err    error // the last attempt's failure: *APIError or a transport error
	ctxErr error // context.Canceled or context.DeadlineExceeded
	wait   time.Duration
	early  bool // the wait would have passed ctx's deadline, so it was not started
}

func (e *retryStopped) Error() string {
	why := "the context ended while waiting " + e.wait.String() + " to retry"
	if e.early {
		why = "the retry due in " + e.wait.String() + " would come after the context deadline"
	}
	last := "no answer"
	if e.err != nil {
		last = e.err.Error()
	}
	return "verify: gave up retrying: " + why + " (" + e.ctxErr.Error() + "); last attempt: " + last
}

func (e *retryStopped) Unwrap() []error {
	if e.err == nil {
		return []error{e.ctxErr}
	}
	return []error{e.err, e.ctxErr}
}
