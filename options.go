package verify

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Defaults used by NewClient.
const (
	DefaultBaseURL      = "https://verify.twilio.com"
	DefaultTimeout      = 10 * time.Second // per attempt
	DefaultMaxRetries   = 3
	DefaultRetryWaitMin = 250 * time.Millisecond
	DefaultRetryWaitMax = 5 * time.Second
	DefaultMaxConns     = 64 // connections per host in the pool
)

// Option configures a Client in NewClient; the With… functions make them.
type Option interface {
	apply(*config) error
}

// option is an Option made from a function.
type option func(*config) error

func (o option) apply(c *config) error { return o(c) }

type config struct {
	accountSID, username, password string
	credsSet                       bool
	baseURL                        string
	edge, region                   string
	httpClient                     *http.Client
	timeout                        time.Duration
	maxRetries                     int
	waitMin, waitMax               time.Duration
	logger                         *slog.Logger
	userAgentSuffix                string
	maxConns                       int
}

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	apiKeyPattern     = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	hostLabelPattern  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// WithCredentials authenticates with an account SID (AC…) and its auth token.
func WithCredentials(accountSID, authToken string) Option {
	return option(func(c *config) error {
		c.accountSID, c.username, c.password, c.credsSet = accountSID, accountSID, authToken, true
		return checkCredentials("WithCredentials", false, accountSID, "", authToken)
	})
}

// WithAPIKey authenticates with an API key (SK…) and its secret; the account
// SID (AC…) is kept for the records the API returns.
func WithAPIKey(accountSID, keySID, keySecret string) Option {
	return option(func(c *config) error {
		c.accountSID, c.username, c.password, c.credsSet = accountSID, keySID, keySecret, true
		return checkCredentials("WithAPIKey", true, accountSID, keySID, keySecret)
	})
}

// WithBaseURL points the client at another host, such as verifytest's fake
// server. It must be https unless the host is a loopback address.
func WithBaseURL(raw string) Option {
	return option(func(c *config) error {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return errors.New("verify: WithBaseURL needs an absolute http(s) URL such as https://verify.twilio.com")
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			return fmt.Errorf("verify: WithBaseURL: plain http is only allowed for loopback hosts, not %q; use https", u.Hostname())
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("verify: WithBaseURL takes a scheme, host and optional path only (no user info, query or fragment)")
		}
		c.baseURL = strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
		return nil
	})
}

// WithEdge selects a Twilio edge location (for example "sydney"); without a
// region it implies region "us1".
func WithEdge(edge string) Option {
	return option(func(c *config) error {
		if !hostLabelPattern.MatchString(edge) {
			return fmt.Errorf("verify: WithEdge: %q is not an edge name (lowercase letters, digits, dashes)", edge)
		}
		c.edge = edge
		return nil
	})
}

// WithRegion selects a Twilio processing region (for example "au1").
func WithRegion(region string) Option {
	return option(func(c *config) error {
		if !hostLabelPattern.MatchString(region) {
			return fmt.Errorf("verify: WithRegion: %q is not a region name (lowercase letters, digits, dashes)", region)
		}
		c.region = region
		return nil
	})
}

// WithHTTPClient supplies the http.Client whose Transport carries requests
// (for a proxy, custom TLS roots or a test transport). The client is copied;
// its Timeout is replaced by the per-attempt timeout and redirects are refused.
func WithHTTPClient(hc *http.Client) Option {
	return option(func(c *config) error {
		if hc == nil {
			return errors.New("verify: WithHTTPClient: client is nil")
		}
		c.httpClient = hc
		return nil
	})
}

// WithMaxConns caps the pooled connections per host (default 64); calls
// beyond it wait for a free connection. It has no effect with WithHTTPClient.
func WithMaxConns(n int) Option {
	return option(func(c *config) error {
		if n < 1 {
			return errors.New("verify: WithMaxConns: need at least 1 connection")
		}
		c.maxConns = n
		return nil
	})
}

// WithTimeout bounds each attempt (connect, send, and reading the response);
// the ctx passed to each call bounds the whole call including retries.
func WithTimeout(d time.Duration) Option {
	return option(func(c *config) error {
		if d <= 0 {
			return errors.New("verify: WithTimeout: duration must be positive")
		}
		c.timeout = d
		return nil
	})
}

// WithMaxRetries sets how many times a retryable failure is retried (0 disables retries).
func WithMaxRetries(n int) Option {
	return option(func(c *config) error {
		if n < 0 {
			return errors.New("verify: WithMaxRetries: count must be 0 or more")
		}
		c.maxRetries = n
		return nil
	})
}

// WithRetryWait sets the backoff bounds: the first retry waits about min,
// later ones double up to max, and a Retry-After header is capped at max.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return option(func(c *config) error {
		if minWait < 0 || maxWait < minWait {
			return errors.New("verify: WithRetryWait: need 0 <= min <= max")
		}
		c.waitMin, c.waitMax = minWait, maxWait
		return nil
	})
}

// WithLogger sends debug records for requests and retries to l. Records
// never hold credentials, auth payloads or hidden details.
func WithLogger(l *slog.Logger) Option {
	return option(func(c *config) error {
		c.logger = l
		return nil
	})
}

// WithUserAgent appends suffix (for example "myapp/1.2") to the User-Agent.
func WithUserAgent(suffix string) Option {
	return option(func(c *config) error {
		for _, r := range suffix {
			if r < ' ' || r == 0x7f {
				return errors.New("verify: WithUserAgent: suffix must not contain control characters (line breaks, NUL, …)")
			}
		}
		c.userAgentSuffix = suffix
		return nil
	})
}

// fromEnvironment fills what the options left unset from the standard
// TWILIO_* variables.
func (c *config) fromEnvironment() error {
	if c.edge == "" && os.Getenv("TWILIO_EDGE") != "" {
		if err := WithEdge(os.Getenv("TWILIO_EDGE")).apply(c); err != nil {
			return fmt.Errorf("%w (from TWILIO_EDGE)", err)
		}
	}
	if c.region == "" && os.Getenv("TWILIO_REGION") != "" {
		if err := WithRegion(os.Getenv("TWILIO_REGION")).apply(c); err != nil {
			return fmt.Errorf("%w (from TWILIO_REGION)", err)
		}
	}
	if c.credsSet {
		return nil
	}
	account := os.Getenv("TWILIO_ACCOUNT_SID")
	key, secret := os.Getenv("TWILIO_API_KEY"), os.Getenv("TWILIO_API_SECRET")
	token := os.Getenv("TWILIO_AUTH_TOKEN")
	switch {
	case key != "" || secret != "":
		c.accountSID, c.username, c.password = account, key, secret
		if err := checkCredentials("environment", true, account, key, secret); err != nil {
			return fmt.Errorf("%w (read TWILIO_ACCOUNT_SID, TWILIO_API_KEY, TWILIO_API_SECRET)", err)
		}
	case account != "" || token != "":
		c.accountSID, c.username, c.password = account, account, token
		if err := checkCredentials("environment", false, account, "", token); err != nil {
			return fmt.Errorf("%w (read TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)", err)
		}
	default:
		return errors.New("verify: no credentials: pass WithCredentials or WithAPIKey, or set " +
			"TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)")
	}
	return nil
}

// checkCredentials names what is missing or malformed, never the secret.
// keySID is empty for account credentials.
func checkCredentials(source string, apiKey bool, accountSID, keySID, secret string) error {
	secretName := "auth token"
	if apiKey {
		secretName = "API key secret"
	}
	switch {
	case accountSID == "":
		return fmt.Errorf("verify: %s: account SID is empty", source)
	case !accountSIDPattern.MatchString(accountSID):
		return fmt.Errorf("verify: %s: account SID must be AC followed by 32 hex digits", source)
	case apiKey && keySID == "":
		return fmt.Errorf("verify: %s: API key SID is empty", source)
	case apiKey && !apiKeyPattern.MatchString(keySID):
		return fmt.Errorf("verify: %s: API key SID must be SK followed by 32 hex digits", source)
	case secret == "":
		return fmt.Errorf("verify: %s: %s is empty", source, secretName)
	}
	return nil
}

// resolveBaseURL applies the edge and region rules to the default host.
func (c *config) resolveBaseURL() string {
	if c.baseURL != "" {
		return c.baseURL
	}
	switch {
	case c.edge != "" && c.region != "":
		return "https://verify." + c.edge + "." + c.region + ".twilio.com"
	case c.edge != "":
		return "https://verify." + c.edge + ".us1.twilio.com"
	case c.region != "":
		return "https://verify." + c.region + ".twilio.com"
	}
	return DefaultBaseURL
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
