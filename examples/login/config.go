package main

import (
	"errors"
	"flag"
	"io"
)

// config is what main reads from its flags and the environment.
type config struct {
	addr       string // where the login server listens
	baseURL    string // the Verify API; "" means Twilio's
	serviceSID string // the Verify service, VA…

	// The one demo user, with the Verify entity and factors it already has.
	user, password                   string
	identity, pushFactor, totpFactor string
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
	fs.StringVar(&c.user, "user", "ada", "the demo user's name")
	fs.StringVar(&c.password, "password", getenv("LOGIN_PASSWORD"), "the demo user's password (env LOGIN_PASSWORD)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.serviceSID = getenv("VERIFY_SERVICE_SID")
	c.identity = getenv("VERIFY_IDENTITY")
	c.pushFactor = getenv("VERIFY_PUSH_FACTOR_SID")
	c.totpFactor = getenv("VERIFY_TOTP_FACTOR_SID")
	switch {
	case c.serviceSID == "":
		return c, errors.New("set VERIFY_SERVICE_SID to your Verify service (VA…)")
	case c.identity == "":
		return c, errors.New("set VERIFY_IDENTITY to the Verify identity of the demo user")
	case c.pushFactor == "" && c.totpFactor == "":
		return c, errors.New("set VERIFY_PUSH_FACTOR_SID or VERIFY_TOTP_FACTOR_SID (or both) to the demo user's factors (YF…)")
	case c.password == "":
		return c, errors.New("give the demo user a password with -password or LOGIN_PASSWORD")
	}
	return c, nil
}
