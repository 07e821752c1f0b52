package verifytest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

func ExampleServer_NewTOTPFactor() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001", &verifytest.TOTPOptions{CodeLength: 8})
	ch, err := client.Challenges.Create(context.Background(), srv.ServiceSID(), "user-0001",
		&verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(f.Code())})
	fmt.Println(ch.Status, err, len(f.Code()))
	// Output: approved <nil> 8
}

// Skew nil accepts the codes of one time step either side of now, as the
// API does by default; verify.Ptr(0) accepts only the current step's code.
func ExampleTOTPOptions() {
	midStep := time.Unix(1_700_000_025, 0) // 15 s into a 30 s step
	srv := verifytest.NewServer(verifytest.WithClock(func() time.Time { return midStep }))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	for _, skew := range []*int{nil, verify.Ptr(0)} {
		f, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001", &verifytest.TOTPOptions{CodeLength: 8, Skew: skew})
		previous := f.CodeAt(midStep.Add(-30 * time.Second))
		ch, _ := client.Challenges.Create(context.Background(), srv.ServiceSID(), "user-0001",
			&verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(previous)})
		fmt.Println(ch.Status)
	}
	// Output:
	// approved
	// pending
}

// FailNext makes the next requests fail before they are applied: here the
// client retries a Fetch through two 503s.
func ExampleServer_FailNext() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001", nil)
	ch, _ := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001", &verify.CreateChallengeParams{FactorSID: f.SID})

	srv.FailNext(2, 503, 0)
	got, err := client.Challenges.Fetch(ctx, srv.ServiceSID(), "user-0001", ch.SID)
	fmt.Println(got.Status, err)

	srv.FailNext(1, 503, 0) // a POST is not retried on 503: it might have been applied
	_, err = client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001", &verify.CreateChallengeParams{FactorSID: f.SID})
	fmt.Println(errors.Is(err, verify.ErrOutcomeUnknown))
	// Output:
	// pending <nil>
	// true
}

// SetLatency slows every answer down, to exercise your timeouts.
func ExampleServer_SetLatency() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client(verify.WithTimeout(20*time.Millisecond), verify.WithMaxRetries(0))
	defer client.CloseIdleConnections()

	srv.SetLatency(200 * time.Millisecond)
	_, err := client.Challenges.Fetch(context.Background(), srv.ServiceSID(), "user-0001", "YC00000000000000000000000000000000")
	var apiErr *verify.APIError
	fmt.Println(err != nil, errors.As(err, &apiErr))
	// Output: true false
}

// DropNext closes the connection before the request is applied; a Create
// whose request was written reports ErrOutcomeUnknown, and nothing exists.
func ExampleServer_DropNext() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001", nil)

	srv.DropNext(1)
	_, err := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001", &verify.CreateChallengeParams{FactorSID: f.SID})
	n := 0
	for range client.Challenges.List(ctx, srv.ServiceSID(), "user-0001", nil) {
		n++
	}
	fmt.Println(errors.Is(err, verify.ErrOutcomeUnknown), n)
	// Output: true 0
}

// LoseNextResponse applies the request and then hangs up: the client
// cannot tell, so it reports ErrOutcomeUnknown, and the challenge exists.
func ExampleServer_LoseNextResponse() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001", nil)

	srv.LoseNextResponse(1)
	_, err := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001", &verify.CreateChallengeParams{FactorSID: f.SID})
	n := 0
	for range client.Challenges.List(ctx, srv.ServiceSID(), "user-0001", nil) {
		n++
	}
	fmt.Println(errors.Is(err, verify.ErrOutcomeUnknown), n)
	// Output: true 1
}

// A phone enrolls the way the Verify Push SDK does: your backend makes an
// access token for the user, the app enrolls with it, and the factor is
// verified without the account's credentials ever reaching the phone.
func ExampleServer_NewDevice() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()

	tok, _ := client.AccessTokens.Create(ctx, srv.ServiceSID(), "user-0001", &verify.CreateAccessTokenParams{FactorFriendlyName: "Ada's phone"})
	phone, _ := srv.NewDevice(srv.ServiceSID(), "user-0001")
	err := phone.Enroll(ctx, tok.Token.Reveal())
	f, _ := client.Factors.Fetch(ctx, srv.ServiceSID(), "user-0001", phone.FactorSID)
	fmt.Println(err, f.FriendlyName, f.Status)

	ch, _ := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001", &verify.CreateChallengeParams{
		FactorSID: phone.FactorSID, Details: &verify.Details{Message: "Log in?"}})
	ch, _ = phone.Approve(ctx, ch.SID)
	fmt.Println(ch.Status)
	// Output:
	// <nil> Ada's phone verified
	// approved
}

// TOTPFactor reads the current code of a factor your code enrolled through
// the API, standing in for the user's authenticator app.
func ExampleServer_TOTPFactor() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()

	f, _ := client.Factors.CreateTOTP(ctx, srv.ServiceSID(), "user-0001", &verify.CreateTOTPFactorParams{FriendlyName: "Ada's phone"})
	app, _ := srv.TOTPFactor(srv.ServiceSID(), "user-0001", f.SID)
	got, err := client.Factors.Verify(ctx, srv.ServiceSID(), "user-0001", f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(app.Code())})
	fmt.Println(f.Status, "->", got.Status, err)
	// Output: unverified -> verified <nil>
}

// WebhookURL sends the fake's events to your webhook handler, signed with
// its auth token; WaitForDeliveries waits until they have been answered.
func ExampleServer_WebhookURL() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()

	var mu sync.Mutex
	var got []string
	hooks := httptest.NewServer(verify.NewWebhookHandler(verify.WebhookConfig{AuthTokens: verify.Secrets(srv.AuthToken())},
		func(_ context.Context, ev *verify.Event) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, string(ev.Type)+" "+string(ev.ChallengeStatus))
			return nil
		}))
	defer hooks.Close()
	if _, err := srv.WebhookURL(hooks.URL+"/hooks/verify", verify.EventChallengeApproved); err != nil {
		fmt.Println(err)
		return
	}

	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001", nil)
	_, _ = client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001", &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(f.Code())})
	if err := srv.WaitForDeliveries(ctx); err != nil {
		fmt.Println(err)
		return
	}
	mu.Lock()
	fmt.Println(got)
	mu.Unlock()
	d := srv.Deliveries()
	fmt.Println(len(d), d[0].Type, d[0].Attempt, d[0].StatusCode)
	// Output:
	// [challenge.approved approved]
	// 1 challenge.approved 1 204
}

// LastCode reads the code the fake "sent", as the user would type it: here
// a login by SMS, and what a second check of the same code gets.
func ExampleServer_LastCode() {
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	ctx := context.Background()

	_, _ = client.Verifications.Create(ctx, srv.ServiceSID(), &verify.CreateVerificationParams{
		To: "+15017122661", Channel: verify.ChannelSMS})
	code := srv.LastCode("+15017122661") // what the SMS says, in srv.Outbox()[0].Body
	chk, _ := client.VerificationChecks.Create(ctx, srv.ServiceSID(), &verify.CheckVerificationParams{
		To: "+15017122661", Code: verify.NewSecret(code)})
	fmt.Println(chk.Status, len(code), len(srv.Outbox()))

	_, err := client.VerificationChecks.Create(ctx, srv.ServiceSID(), &verify.CheckVerificationParams{
		To: "+15017122661", Code: verify.NewSecret(code)})
	fmt.Println(errors.Is(err, verify.ErrVerificationNotFound))
	// Output:
	// approved 6 1
	// true
}

// A passkey registered and used through client.Passkeys, with the software
// authenticator playing the browser: it takes what BrowserJSON gives and
// returns what credential.toJSON() returns.
func ExampleNewAuthenticator() {
	ctx := context.Background()
	srv := verifytest.NewServer()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	_, err := client.Services.Update(ctx, srv.ServiceSID(), &verify.UpdateServiceParams{Passkeys: &verify.PasskeySettings{
		RelyingParty:            verify.PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{"https://example.com"}},
		AuthenticatorAttachment: verify.AuthenticatorPlatform,
		DiscoverableCredentials: verify.PasskeyPreferred,
		UserVerification:        verify.PasskeyPreferred,
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	browser := verifytest.NewAuthenticator("https://example.com", nil)

	f, err := client.Passkeys.CreateFactor(ctx, srv.ServiceSID(), &verify.CreatePasskeyFactorParams{Identity: "user-0001", FriendlyName: "laptop"})
	if err != nil {
		fmt.Println(err)
		return
	}
	creation, _ := f.Options.BrowserJSON()
	registration, _ := browser.Register(creation) // navigator.credentials.create, then toJSON()
	f, err = client.Passkeys.VerifyFactor(ctx, srv.ServiceSID(), registration)
	fmt.Println("factor:", f.Status, err)

	ch, _ := client.Passkeys.CreateChallenge(ctx, srv.ServiceSID(), nil) // usernameless
	request, _ := ch.Options.BrowserJSON()
	assertion, _ := browser.Assert(request) // navigator.credentials.get, then toJSON()
	ch, err = client.Passkeys.ApproveChallenge(ctx, srv.ServiceSID(), assertion)
	if err != nil {
		fmt.Println(err)
		return
	}
	who, ok := ch.SignedIn()
	fmt.Println("signed in:", who, ok)
	// Output:
	// factor: verified <nil>
	// signed in: user-0001 true
}
