package verifytest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestDeviceTrafficSkipsInjectedFaults: a fault queued for the code under
// test is neither consumed nor suffered by the simulated phone; the next
// SDK call still meets it, and the one after that does not.
func TestDeviceTrafficSkipsInjectedFaults(t *testing.T) {
	t.Parallel()
	// Long enough that a loaded -race run (a device call takes ~10 ms
	// alone) cannot be mistaken for waiting it out.
	const latency = time.Second
	for _, tc := range []struct {
		name   string
		inject func(*verifytest.Server)
		status int // the SDK call's *APIError status; 0: an error without a response
	}{
		{"FailNext", func(s *verifytest.Server) { s.FailNext(1, 503, 0) }, 503},
		{"DropNext", func(s *verifytest.Server) { s.DropNext(1) }, 0},
		{"LoseNextResponse", func(s *verifytest.Server) { s.LoseNextResponse(1) }, 0},
		{"SetLatency", func(s *verifytest.Server) { s.SetLatency(latency) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newFake(t, nil, verify.WithMaxRetries(0), verify.WithTimeout(latency/3))
			dev, ch := newPush(t, srv, c)

			tc.inject(srv)
			start := time.Now()
			got, err := dev.Approve(ctx, ch.SID)
			if err != nil || !got.Status.IsApproved() {
				t.Fatalf("device Approve under %s: %v %v, want approved", tc.name, got, err)
			}
			if took := time.Since(start); tc.name == "SetLatency" && took >= latency {
				t.Errorf("device Approve took %v: it waited out the injected latency", took)
			}

			// A POST: net/http itself replays a GET on a fresh connection
			// after DropNext or LoseNextResponse, which would hide the fault.
			create := func() (*verify.Challenge, error) {
				return c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{
					FactorSID: dev.FactorSID, Details: &verify.Details{Message: "Log in?"}})
			}
			_, err = create()
			var apiErr *verify.APIError
			switch {
			case err == nil:
				t.Fatalf("SDK Create after the device: no error, want the injected %s fault", tc.name)
			case tc.status != 0 && (!errors.As(err, &apiErr) || apiErr.Status != tc.status):
				t.Fatalf("SDK Create: %v, want *APIError %d", err, tc.status)
			case tc.status == 0 && errors.As(err, &apiErr):
				t.Fatalf("SDK Create: %v, want an error without a response", err)
			}
			srv.SetLatency(0)
			if got, err := create(); err != nil || !got.Status.IsPending() {
				t.Fatalf("SDK Create once the fault is spent: %v %v, want pending", got, err)
			}
		})
	}
}

// TestDeviceWorksAfterHTTPMockActivate: a test binary that swaps
// http.DefaultTransport for httpmock's still has a working phone, and no
// device request reaches the mock.
func TestDeviceWorksAfterHTTPMockActivate(t *testing.T) {
	srv, c := newFake(t, nil)
	dev, ch := newPush(t, srv, c)

	httpmock.Activate()
	t.Cleanup(httpmock.DeactivateAndReset)
	if _, ok := http.DefaultTransport.(*http.Transport); ok {
		t.Fatal("httpmock.Activate did not replace http.DefaultTransport; this test proves nothing")
	}
	if _, err := dev.SignedPayload(ctx, ch.SID, verify.StatusApproved); err != nil {
		t.Fatalf("device fetch under httpmock: %v", err)
	}
	if got, err := dev.Approve(ctx, ch.SID); err != nil || !got.Status.IsApproved() {
		t.Fatalf("device Approve under httpmock: %v %v, want approved", got, err)
	}
	if n := httpmock.GetTotalCallCount(); n != 0 {
		t.Errorf("httpmock saw %d requests, want 0", n)
	}
}

// TestDeviceCreatedAfterHTTPMockActivate: the usual order in a test binary
// whose TestMain activates httpmock first; srv.Client() and the device both
// work and reach the fake, not the mock.
func TestDeviceCreatedAfterHTTPMockActivate(t *testing.T) {
	srv, _ := newFake(t, nil)
	httpmock.Activate()
	t.Cleanup(httpmock.DeactivateAndReset)
	c := srv.Client()
	t.Cleanup(c.CloseIdleConnections)
	dev, ch := newPush(t, srv, c)
	if got, err := dev.Approve(ctx, ch.SID); err != nil || !got.Status.IsApproved() {
		t.Fatalf("device Approve under httpmock: %v %v, want approved", got, err)
	}
	if n := httpmock.GetTotalCallCount(); n != 0 {
		t.Errorf("httpmock saw %d requests, want 0", n)
	}
}
