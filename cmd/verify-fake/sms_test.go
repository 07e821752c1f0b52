package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	verify "github.com/verifykit/verify-go"
)

// TestSMSCodesAreLogged: the banner suggests a phone number and the curl
// lines that send it a code and check it; a code sent to it is logged as
// the user would read it, and the logged code approves the check.
func TestSMSCodesAreLogged(t *testing.T) {
	logs := newLogWatch()
	text := startFake(t, config{addr: "127.0.0.1:0", identity: "user-0001-sms", answer: "none", log: logs.logger()})
	field := func(name string) string { return bannerField(t, text, name) }
	phone, service := field("SMS number"), field("service SID")
	base := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(text)[1]
	for _, want := range []string{
		"--data-urlencode To=" + phone + " -d Channel=sms " + base + "/v2/Services/" + service + "/Verifications\n",
		"--data-urlencode To=" + phone + " -d Code=THE-CODE-LOGGED " + base + "/v2/Services/" + service + "/VerificationCheck\n",
		" -password demo -phone " + phone + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	client, err := verify.NewClient(verify.WithCredentials(field("account SID"), field("auth token")), verify.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()
	ctx := context.Background()
	v, err := client.Verifications.Create(ctx, service, &verify.CreateVerificationParams{To: phone, Channel: verify.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	line := `level=INFO msg="message sent" channel=sms to=` + regexp.QuoteMeta(phone) +
		` body="Your verifytest verification code is: ([0-9]{6})" verification_sid=` + v.SID + "\n"
	logs.wait(t, line)
	code := regexp.MustCompile(line).FindStringSubmatch(logs.String())[1]
	chk, err := client.VerificationChecks.Create(ctx, service, &verify.CheckVerificationParams{To: phone, Code: verify.NewSecret(code)})
	if err != nil || !chk.Approved() {
		t.Errorf("checking the logged code: %v %v, want approved", chk, err)
	}
}
