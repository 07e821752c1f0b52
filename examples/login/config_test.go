package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

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

func TestConfigNeedsAService(t *testing.T) {
	_, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "VERIFY_SERVICE_SID") {
		t.Errorf("no service: %v, want an error naming VERIFY_SERVICE_SID", err)
	}
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}
