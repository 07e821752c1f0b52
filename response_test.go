package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
)

// TestCaptureResponseRecordsTheLastAnswer: a call given CaptureResponse's
// context records the request id, the headers and the attempts of its last
// answer, after a success, after retries and after a failure; a call
// without one records nothing anywhere.
func TestCaptureResponseRecordsTheLastAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ok := httpmock.NewStringResponder(200, golden(t, "fetch.json")).HeaderSet(http.Header{
		"Content-Type": {"application/json"}, "Twilio-Request-Id": {"RQ-after-retry"},
		"Twilio-Concurrent-Requests": {"3"},
	})
	h.mock.RegisterResponder("GET", oneURL, twilioError(503, 20503, "busy").Then(ok))

	var info ResponseInfo
	ctx := CaptureResponse(context.Background(), &info)
	if _, err := h.client.Challenges.Fetch(ctx, testService, testIdentity, testChallenge); err != nil {
		t.Fatal(err)
	}
	if info.StatusCode != 200 || info.RequestID != "RQ-after-retry" || info.Attempts != 2 ||
		info.Header.Get("Twilio-Concurrent-Requests") != "3" {
		t.Errorf("after a retried success: %+v", info)
	}

	h.mock.RegisterResponder("POST", oneURL, twilioError(404, 20404, "gone"))
	var failed ResponseInfo
	_, err := h.client.Challenges.Update(CaptureResponse(context.Background(), &failed), testService, testIdentity, testChallenge,
		&UpdateChallengeParams{AuthPayload: NewSecret("123456")})
	if !errors.Is(err, ErrNotFound) || failed.StatusCode != 404 || failed.RequestID != "RQ00000000000000000000000000000000" || failed.Attempts != 1 {
		t.Errorf("after a 404: %+v, err %v", failed, err)
	}

	// A validation error sends nothing, so there is no answer to record.
	var refused ResponseInfo
	_, err = h.client.Challenges.Update(CaptureResponse(context.Background(), &refused), testService, testIdentity, testChallenge, nil)
	if err == nil || refused.StatusCode != 0 || refused.Header != nil {
		t.Errorf("after a refused call: %+v, err %v", refused, err)
	}
}

// TestResourcesPrintAsOneLine: fmt.Println of a resource gives a readable
// summary, not a positional dump of its fields.
func TestResourcesPrintAsOneLine(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("GET", oneURL, jsonResponder(t, 200, "fetch.json"))
	h.mock.RegisterResponder("POST", apiBase+pathFactors, jsonResponder(t, 201, "factor_create_totp.json"))
	ctx := context.Background()
	ch, err := h.client.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
	if err != nil {
		t.Fatal(err)
	}
	nf, err := h.client.Factors.CreateTOTP(ctx, testService, testIdentity, &CreateTOTPFactorParams{FriendlyName: "Ada's phone"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{ch, "challenge YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa push approved for " + testIdentity +
			" (factor YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, expires 2015-07-30T20:00:00Z)"},
		{*ch, "challenge YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa push approved"},
		{nf, "factor " + goldenFactor + " totp unverified \"friendly_name\" for " + testIdentity},
		{&goldenWebhookValue, "webhook " + testWebhook + " \"name\" enabled"},
		{&goldenEntityValue, "entity YEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " + testIdentity},
	} {
		got := fmt.Sprintln(tc.v)
		if !strings.HasPrefix(got, tc.want) || strings.Count(got, "\n") != 1 {
			t.Errorf("Println = %q, want it to start %q on one line", got, tc.want)
		}
	}
}
