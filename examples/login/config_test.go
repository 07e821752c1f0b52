package main

import (
	"errors"
	"flag"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBaseURLFlagWinsOverEnvironment: -base-url, else VERIFY_BASE_URL,
// else Twilio.
func TestBaseURLFlagWinsOverEnvironment(t *testing.T) {
	env := map[string]string{
		"VERIFY_SERVICE_SID": "VA00000000000000000000000000000000", "VERIFY_IDENTITY": "user-0001-ada",
		"VERIFY_TOTP_FACTOR_SID": "YF00000000000000000000000000000000", "LOGIN_PASSWORD": "pw",
	}
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{nil, "", ""},
		{nil, "http://127.0.0.1:4010", "http://127.0.0.1:4010"},
		{[]string{"-base-url", "http://127.0.0.1:4020"}, "http://127.0.0.1:4010", "http://127.0.0.1:4020"},
		{[]string{"-base-url", "http://127.0.0.1:4020"}, "", "http://127.0.0.1:4020"},
	} {
		env["VERIFY_BASE_URL"] = tc.env
		cfg, err := parseConfig(tc.args, func(k string) string { return env[k] }, io.Discard)
		if err != nil || cfg.baseURL != tc.want {
			t.Errorf("args %q, VERIFY_BASE_URL=%q: base URL %q (%v), want %q", tc.args, tc.env, cfg.baseURL, err, tc.want)
			continue
		}
		t.Setenv("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
		t.Setenv("TWILIO_AUTH_TOKEN", "token")
		c, err := newVerifyClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if want := tc.want; want != "" && c.BaseURL() != want {
			t.Errorf("client goes to %s, want %s", c.BaseURL(), want)
		}
		if tc.want == "" && c.BaseURL() != "https://verify.twilio.com" {
			t.Errorf("client goes to %s without a base URL, want Twilio", c.BaseURL())
		}
	}
}

// TestConfigNeedsAService: no service is an error naming the variable; -h
// is flag.ErrHelp.
func TestConfigNeedsAService(t *testing.T) {
	_, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "VERIFY_SERVICE_SID") {
		t.Errorf("no service: %v, want an error naming VERIFY_SERVICE_SID", err)
	}
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

// TestWebhookConfig: the auth tokens that check webhooks come from the
// environment, current first; -public-url wins over its variable and must
// be an absolute http(s) URL; the demo user may have no factor yet.
func TestWebhookConfig(t *testing.T) {
	base := map[string]string{
		"VERIFY_SERVICE_SID": "VA00000000000000000000000000000000", "VERIFY_IDENTITY": "user-0001-ada", "LOGIN_PASSWORD": "pw",
	}
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		tokens     []string
		publicURL  string
		errMention string
	}{
		{name: "no token", tokens: nil},
		{name: "one token", env: map[string]string{"TWILIO_AUTH_TOKEN": "current"}, tokens: []string{"current"}},
		{name: "rotation", env: map[string]string{"TWILIO_AUTH_TOKEN": "current", "TWILIO_AUTH_TOKEN_PREVIOUS": "previous"},
			tokens: []string{"current", "previous"}},
		{name: "public URL from the environment", env: map[string]string{"VERIFY_WEBHOOK_PUBLIC_URL": "https://example.com/hooks/verify"},
			publicURL: "https://example.com/hooks/verify"},
		{name: "the flag wins", args: []string{"-public-url", "https://login.example.com/hooks/verify"},
			env:       map[string]string{"VERIFY_WEBHOOK_PUBLIC_URL": "https://example.com/hooks/verify"},
			publicURL: "https://login.example.com/hooks/verify"},
		{name: "a relative URL", args: []string{"-public-url", "/hooks/verify"}, errMention: "-public-url"},
		{name: "another scheme", env: map[string]string{"VERIFY_WEBHOOK_PUBLIC_URL": "ftp://example.com/hooks"}, errMention: "VERIFY_WEBHOOK_PUBLIC_URL"},
	} {
		env := maps.Clone(base)
		maps.Copy(env, tc.env)
		cfg, err := parseConfig(tc.args, func(k string) string { return env[k] }, io.Discard)
		switch {
		case tc.errMention != "":
			if err == nil || !strings.Contains(err.Error(), tc.errMention) {
				t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.errMention)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !slices.Equal(cfg.authTokens, tc.tokens) || cfg.publicURL != tc.publicURL:
			t.Errorf("%s: tokens %d, public URL %q; want %d, %q", tc.name, len(cfg.authTokens), cfg.publicURL, len(tc.tokens), tc.publicURL)
		case cfg.pushFactor != "" || cfg.totpFactor != "":
			t.Errorf("%s: factors %q %q from nowhere", tc.name, cfg.pushFactor, cfg.totpFactor)
		}
	}
}

// TestSecurityFlags: by default the session cookie is Secure, clients have
// 10 s to send a request, and the client address is the connection's;
// each flag changes one of them.
func TestSecurityFlags(t *testing.T) {
	env := map[string]string{"VERIFY_SERVICE_SID": "VA00000000000000000000000000000000", "VERIFY_IDENTITY": "user-0001-ada", "LOGIN_PASSWORD": "pw"}
	getenv := func(k string) string { return env[k] }
	cfg, err := parseConfig(nil, getenv, io.Discard)
	if err != nil || cfg.insecureCookie || cfg.readTimeout != 10*time.Second || cfg.addrHeader != "" {
		t.Errorf("defaults: insecure cookie %t, read timeout %s, address header %q (%v)", cfg.insecureCookie, cfg.readTimeout, cfg.addrHeader, err)
	}
	cfg, err = parseConfig([]string{"-insecure-cookie", "-read-timeout", "3s", "-trust-proxy-header", "X-Forwarded-For"}, getenv, io.Discard)
	if err != nil || !cfg.insecureCookie || cfg.readTimeout != 3*time.Second || cfg.addrHeader != "X-Forwarded-For" {
		t.Errorf("flags: insecure cookie %t, read timeout %s, address header %q (%v)", cfg.insecureCookie, cfg.readTimeout, cfg.addrHeader, err)
	}
}

// TestPhoneFlagWinsOverEnvironment: the number on record is -phone, else
// LOGIN_PHONE, else none (no SMS login).
func TestPhoneFlagWinsOverEnvironment(t *testing.T) {
	env := map[string]string{"VERIFY_SERVICE_SID": "VA00000000000000000000000000000000", "VERIFY_IDENTITY": "user-0001-ada", "LOGIN_PASSWORD": "pw"}
	for _, tc := range []struct {
		args      []string
		env, want string
	}{
		{nil, "", ""},
		{nil, "+15017122661", "+15017122661"},
		{[]string{"-phone", "+15017122662"}, "+15017122661", "+15017122662"},
	} {
		env["LOGIN_PHONE"] = tc.env
		cfg, err := parseConfig(tc.args, func(k string) string { return env[k] }, io.Discard)
		if err != nil || cfg.phone != tc.want {
			t.Errorf("args %q, LOGIN_PHONE=%q: phone %q (%v), want %q", tc.args, tc.env, cfg.phone, err, tc.want)
		}
	}
}
