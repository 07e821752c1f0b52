package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jarcoal/httpmock"

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
		HiddenDetails: verify.NewSecretMap(map[string]string{"ip": "203.0.113.7"}),
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
	ch, err := client.Challenges.Update(ctx, srv.ServiceSID(), "user-0001-abcd", ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(factor.Code())})
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
		Status: verify.StatusPending, ListParams: verify.ListParams{PageSize: 2, Limit: 4}}) {
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

// The enrollment examples are answered by httpmock with the spec's own
// example bodies (testdata/), since the fake has no enrollment endpoints.

const (
	exampleService  = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	exampleIdentity = "ff483d1ff591898a9942916050d2ca3f"
	exampleEntity   = "/v2/Services/" + exampleService + "/Entities/" + exampleIdentity
)

// answer is one canned response: a status and a testdata file ("": no body).
type answer struct {
	status int
	file   string
}

// exampleClient is a Client whose requests are answered in turn from the
// answers for each "METHOD /path"; a real program calls verify.NewClient().
func exampleClient(routes map[string][]answer) *verify.Client {
	mock := httpmock.NewMockTransport()
	for route, answers := range routes {
		method, path, _ := strings.Cut(route, " ")
		var r httpmock.Responder
		for _, a := range answers {
			body := ""
			if a.file != "" {
				b, err := os.ReadFile(filepath.Join("testdata", a.file))
				if err != nil {
					panic(err)
				}
				body = string(b)
			}
			next := httpmock.NewStringResponder(a.status, body)
			if r == nil {
				r = next
			} else {
				r = r.Then(next)
			}
		}
		mock.RegisterResponder(method, verify.DefaultBaseURL+path, r)
	}
	client, err := verify.NewClient(verify.WithCredentials("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "your_auth_token"),
		verify.WithHTTPClient(&http.Client{Transport: mock}))
	if err != nil {
		panic(err)
	}
	return client
}

func ExampleFactorService_CreateTOTP() {
	client := exampleClient(map[string][]answer{
		"POST " + exampleEntity + "/Factors":                                    {{201, "factor_create_totp.json"}},
		"POST " + exampleEntity + "/Factors/YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": {{200, "factor_verify_totp.json"}},
	})
	ctx := context.Background()

	// 1. Enroll: the binding (secret and otpauth:// URI) comes back only now.
	f, err := client.Factors.CreateTOTP(ctx, exampleService, exampleIdentity,
		&verify.CreateTOTPFactorParams{FriendlyName: "Ada's phone"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Status, strings.HasPrefix(f.Binding.URI.Reveal(), "otpauth://totp/")) // show the URI as a QR code
	fmt.Printf("%+v\n", f.Binding)                                                      // printing never shows the secret

	// 2. The first code the user's app shows proves the factor.
	verified, err := client.Factors.Verify(ctx, exampleService, exampleIdentity, f.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret("123456")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(verified.Status)
	// Output:
	// unverified true
	// {Secret:[redacted] URI:[redacted] PublicKey: Alg:}
	// verified
}

func ExampleAccessTokenService_Create() {
	client := exampleClient(map[string][]answer{
		"POST /v2/Services/" + exampleService + "/AccessTokens": {{201, "access_token.json"}},
	})

	tok, err := client.AccessTokens.Create(context.Background(), exampleService, exampleIdentity, &verify.CreateAccessTokenParams{FactorFriendlyName: "John Doe iPhone", TTL: 5 * time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Hand tok.Token.Reveal() to this user's app only: its Verify Push SDK enrolls
	// the phone with it. The token never shows when tok is printed.
	fmt.Println(tok.FactorType, tok.TTL, tok.Token.Reveal() != "", strings.Contains(fmt.Sprint(tok), tok.Token.Reveal()))
	// Output: push 5m0s true false
}

func ExampleWebhookService_Create() {
	client := exampleClient(map[string][]answer{
		"POST /v2/Services/" + exampleService + "/Webhooks": {{201, "webhook.json"}},
	})

	w, err := client.Webhooks.Create(context.Background(), exampleService, &verify.CreateWebhookParams{
		FriendlyName: "name",
		WebhookURL:   "https://owlbank.twilio.com",
		EventTypes:   []verify.EventType{verify.EventFactorDeleted, verify.EventFactorVerified},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(w.SID, w.Status, w.Version, w.EventTypes, w.WebhookURL)
	// Output: YWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa enabled v2 [factor.deleted factor.verified] https://owlbank.twilio.com
}

func ExampleEntityService_Delete() {
	client := exampleClient(map[string][]answer{
		"DELETE " + exampleEntity: {{204, ""}, {404, ""}},
	})
	ctx := context.Background()

	// Deletes the entity with its factors and challenges.
	err := client.Entities.Delete(ctx, exampleService, exampleIdentity)
	fmt.Println(err)

	// A second call finds nothing. (Within one call, a retry that finds the
	// entity gone after an attempt that may have arrived is success.)
	err = client.Entities.Delete(ctx, exampleService, exampleIdentity)
	fmt.Println(errors.Is(err, verify.ErrNotFound))
	// Output:
	// <nil>
	// true
}

func ExampleVerificationCheckService_Create() {
	verifications := "/v2/Services/" + exampleService + "/Verifications"
	check := "/v2/Services/" + exampleService + "/VerificationCheck"
	client := exampleClient(map[string][]answer{
		"POST " + verifications: {{201, "verification.json"}},
		"POST " + check:         {{201, "verification_check.json"}, {404, ""}},
	})
	ctx := context.Background()

	// 1. Send a code by SMS.
	v, err := client.Verifications.Create(ctx, exampleService, &verify.CreateVerificationParams{
		To: "+15017122661", Channel: verify.ChannelSMS,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v) // the summary leaves the number out

	// 2. Check what the user typed. A wrong code would come back pending, not as an error.
	chk, err := client.VerificationChecks.Create(ctx, exampleService, &verify.CheckVerificationParams{
		VerificationSID: v.SID, Code: verify.NewSecret("123456"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(chk.Approved())

	// 3. Once approved, Verify forgets the verification: a second check finds nothing.
	_, err = client.VerificationChecks.Create(ctx, exampleService, &verify.CheckVerificationParams{
		VerificationSID: v.SID, Code: verify.NewSecret("123456"),
	})
	fmt.Println(errors.Is(err, verify.ErrVerificationNotFound))
	// Output:
	// verification VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa sms pending (1 send)
	// true
	// true
}

func ExampleServiceService_Update() {
	client := exampleClient(map[string][]answer{
		"POST /v2/Services/" + exampleService: {{200, "service_update.json"}},
	})

	// Only what is set is sent: here Totp.Skew=0 and LookupEnabled=false.
	svc, err := client.Services.Update(context.Background(), exampleService, &verify.UpdateServiceParams{
		LookupEnabled: verify.Ptr(false),
		TOTP:          &verify.TOTPSettings{Skew: verify.Ptr(0)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(svc, svc.TOTP.Issuer, svc.TOTP.TimeStep, *svc.TOTP.Skew)
	// Output: service VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "name" test-issuer 30s 2
}
