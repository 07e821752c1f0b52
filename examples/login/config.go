package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// config is what main reads from its flags and the environment.
type config struct {
	addr       string // where the login server listens
	baseURL    string // the Verify API; "" means Twilio's
	serviceSID string // the Verify service, VA…

	// The one demo user, with the Verify entity and the factors it already
	// has: none, one or both (a user without factors enrolls one), and the
	// phone number on record for SMS codes ("": none).
	user, password                   string
	identity, pushFactor, totpFactor string
	phone                            string

	// Webhooks: the auth tokens that sign them, current first (none: no
	// /hooks/verify), and the URL registered at Twilio ("": rebuilt from
	// each request).
	authTokens []string
	publicURL  string

	// insecureCookie drops Secure from the session cookie, for plain http
	// on a host other than localhost; a TLS proxy in front needs it Secure.
	insecureCookie bool

	// readTimeout is how long a client may take to send a request.
	readTimeout time.Duration

	// addrHeader names the header in which a proxy in front passes the
	// client's address ("": the connection's address is the client's).
	addrHeader string

	// redisURL is the Redis that instances share webhook events and their
	// de-duplication over ("": this process alone).
	redisURL string

	// passkeyOrigin is the sign-in page's origin as a browser sees it, the
	// passkeys' relying party ("": no passkeys).
	passkeyOrigin string
}

// parseConfig reads args (without the program name) and the environment
// through getenv; a flag wins over its environment variable.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.baseURL, "base-url", getenv("VERIFY_BASE_URL"),
		"Verify API base URL, e.g. http://127.0.0.1:4010 for go run ./cmd/verify-fake (env VERIFY_BASE_URL; empty: Twilio)")
	fs.StringVar(&c.publicURL, "public-url", getenv("VERIFY_WEBHOOK_PUBLIC_URL"),
		"the webhook URL as registered at Twilio, e.g. https://example.com/hooks/verify (env VERIFY_WEBHOOK_PUBLIC_URL; empty: rebuilt from each request)")
	fs.StringVar(&c.user, "user", "ada", "the demo user's name")
	fs.StringVar(&c.password, "password", getenv("LOGIN_PASSWORD"), "the demo user's password (env LOGIN_PASSWORD)")
	fs.StringVar(&c.phone, "phone", getenv("LOGIN_PHONE"),
		"the demo user's phone number on record, in E.164 form such as +15017122661, for a code by SMS (env LOGIN_PHONE; empty: no SMS login)")
	fs.DurationVar(&c.readTimeout, "read-timeout", 10*time.Second, "how long a client may take to send a request, headers and body")
	fs.StringVar(&c.addrHeader, "trust-proxy-header", "",
		"take the client address, which limits count by, from the last address in this header (e.g. X-Forwarded-For); only behind a proxy that always sets it (empty: the connection's address)")
	fs.BoolVar(&c.insecureCookie, "insecure-cookie", false,
		"send the session cookie without Secure, for plain http on a host other than localhost (browsers and curl keep Secure cookies from http://localhost and 127.0.0.1)")
	fs.StringVar(&c.redisURL, "redis", "",
		"share webhook events and their de-duplication with the other instances over this Redis, e.g. redis://127.0.0.1:6379/0 (env REDIS_URL; empty: this process alone)")
	fs.StringVar(&c.passkeyOrigin, "passkey-origin", getenv("VERIFY_PASSKEY_ORIGIN"),
		"offer passkeys on the pages served at this origin, such as https://example.com or http://localhost:8080, and make it the service's relying party (env VERIFY_PASSKEY_ORIGIN; empty: no passkeys)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.redisURL == "" { // not the flag's default: -help would print a password
		c.redisURL = getenv("REDIS_URL")
	}
	c.serviceSID = getenv("VERIFY_SERVICE_SID")
	c.identity = getenv("VERIFY_IDENTITY")
	c.pushFactor = getenv("VERIFY_PUSH_FACTOR_SID")
	c.totpFactor = getenv("VERIFY_TOTP_FACTOR_SID")
	for _, name := range []string{"TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_PREVIOUS"} {
		if token := getenv(name); token != "" {
			c.authTokens = append(c.authTokens, token)
		}
	}
	switch {
	case c.serviceSID == "":
		return c, errors.New("set VERIFY_SERVICE_SID to your Verify service (VA…)")
	case c.identity == "":
		return c, errors.New("set VERIFY_IDENTITY to the Verify identity of the demo user")
	case c.password == "":
		return c, errors.New("give the demo user a password with -password or LOGIN_PASSWORD")
	case c.publicURL != "" && !isWebURL(c.publicURL):
		return c, errors.New("-public-url (VERIFY_WEBHOOK_PUBLIC_URL) must be an absolute http(s) URL")
	}
	if c.passkeyOrigin != "" {
		origin, err := parseOrigin(c.passkeyOrigin)
		if err != nil {
			return c, err
		}
		c.passkeyOrigin = origin
	}
	return c, nil
}

// parseOrigin checks -passkey-origin and returns it as a browser writes an
// origin (lower-case host, no default port), the form WebAuthn compares:
// https (or http on localhost), a domain name (WebAuthn refuses IP
// addresses), and no user, path, query or fragment (one trailing / is
// dropped).
func parseOrigin(raw string) (string, error) {
	const flag = "-passkey-origin (VERIFY_PASSKEY_ORIGIN)"
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "", fmt.Errorf("%s must be the sign-in page's origin, such as https://example.com or http://localhost:8080", flag)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("%s must be an origin alone, scheme://host[:port], without a user, path, query or fragment", flag)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	switch {
	case net.ParseIP(host) != nil:
		return "", fmt.Errorf("%s must name the host by a domain name: WebAuthn refuses IP addresses (use localhost on this machine)", flag)
	case u.Scheme == "http" && !local:
		return "", fmt.Errorf("%s must be https: browsers offer passkeys over plain http on localhost only", flag)
	}
	if port == "" || (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		return u.Scheme + "://" + host, nil
	}
	return u.Scheme + "://" + host + ":" + port, nil
}

// isWebURL reports whether raw is an absolute http or https URL.
func isWebURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
