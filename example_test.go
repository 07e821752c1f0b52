package verify_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// The examples run against verifytest's fake so their output is checked;
// with a real account, build the client with verify.NewClient() instead.

func ExampleNewClient() {
	// Reads TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN when no credentials are passed.
	client, err := verify.NewClient(
		verify.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "your_auth_token"),
		verify.WithTimeout(5*time.Second),
		verify.WithMaxRetries(2),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(client.BaseURL())
	// Output: https://verify.twilio.com
}

func ExampleChallengeService_Create() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	device, _ := srv.NewPushDevice(srv.ServiceSID(), "user-0001-abcd")

	ch, err := client.Challenges.Create(context.Background(), srv.ServiceSID(), "user-0001-abcd", &verify.CreateChallengeParams{
		FactorSID: device.FactorSID,
		Details: &verify.Details{
			Message: "Log in to Example Corp?",
			Fields:  []verify.Field{{Label: "Location", Value: "Lyon, FR"}},
		},
		HiddenDetails: map[string]string{"ip": "203.0.113.7"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.FactorType, ch.Status, ch.Details.Message, ch.ExpirationDate.Sub(ch.DateCreated))
	// Output: push pending Log in to Example Corp? 5m0s
}

func ExampleChallengeService_Fetch() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	factor, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001-abcd", nil)
	created, _ := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001-abcd", &verify.CreateChallengeParams{FactorSID: factor.SID})

	ch, err := client.Challenges.Fetch(ctx, srv.ServiceSID(), "user-0001-abcd", created.SID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.SID == created.SID, ch.Status, ch.DateResponded.IsZero())
	// Output: true pending true
}

func ExampleChallengeService_Update() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	factor, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001-abcd", nil)
	ch, _ := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001-abcd", &verify.CreateChallengeParams{FactorSID: factor.SID})

	// The code the user typed from their authenticator app.
	ch, err := client.Challenges.Update(ctx, srv.ServiceSID(), "user-0001-abcd", ch.SID, &verify.UpdateChallengeParams{AuthPayload: factor.Code()})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.Status, ch.Status.IsApproved())
	// Output: approved true
}

func ExampleChallengeService_List() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	factor, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001-abcd", nil)
	for i := 0; i < 5; i++ {
		_, _ = client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001-abcd", &verify.CreateChallengeParams{FactorSID: factor.SID})
	}

	// Pages of 2 are fetched lazily as the loop goes; Limit stops early.
	n := 0
	for ch, err := range client.Challenges.List(ctx, srv.ServiceSID(), "user-0001-abcd", &verify.ListChallengesParams{
		Status: verify.StatusPending, PageSize: 2, Limit: 4,
	}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
		_ = ch.SID
	}
	fmt.Println(n, "pending")
	// Output: 4 pending
}

func ExampleChallengeService_Wait() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	device, _ := srv.NewPushDevice(srv.ServiceSID(), "user-0001-abcd")
	ch, _ := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001-abcd", &verify.CreateChallengeParams{
		FactorSID: device.FactorSID, Details: &verify.Details{Message: "Log in?"},
	})
	go func() { _, _ = device.Approve(ctx, ch.SID) }() // the user taps "approve"

	// Bound the wait by the login request's own deadline.
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ch, err := client.Challenges.Wait(waitCtx, srv.ServiceSID(), "user-0001-abcd", ch.SID, &verify.WaitOptions{Interval: 20 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.Status)
	// Output: approved
}

func ExampleAPIError() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	device, _ := srv.NewPushDevice(srv.ServiceSID(), "user-0001-abcd")
	ch, _ := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001-abcd", &verify.CreateChallengeParams{
		FactorSID: device.FactorSID, Details: &verify.Details{Message: "Log in?"},
	})
	srv.Advance(6 * time.Minute) // nobody answered in time

	_, err := device.Approve(ctx, ch.SID)
	var apiErr *verify.APIError
	switch {
	case errors.Is(err, verify.ErrChallengeExpired):
		errors.As(err, &apiErr)
		fmt.Println("expired:", apiErr.Status, apiErr.Code)
	case errors.Is(err, verify.ErrOutcomeUnknown):
		fmt.Println("may have been applied; Fetch before retrying")
	case err != nil:
		fmt.Println("other failure:", err)
	}
	// Output: expired: 403 60323
}

func ExampleValidationError() {
	client, _ := verify.NewClient(verify.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token"))
	_, err := client.Challenges.Fetch(context.Background(), "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "../admin", "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	var ve *verify.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "-", ve.Rule)
	}
	// Output: Identity - must be 8 to 64 characters of dash-separated letters and digits, such as a UUID
}
