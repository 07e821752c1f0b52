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
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.serviceSID = getenv("VERIFY_SERVICE_SID")
	if c.serviceSID == "" {
		return c, errors.New("set VERIFY_SERVICE_SID to your Verify service (VA…)")
	}
	return c, nil
}
