package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	twilio "github.com/twilio/twilio-go"
	twverify "github.com/twilio/twilio-go/rest/verify/v2"

	verify "github.com/verifykit/verify-go"
)

// This file checks that verify-go puts on the wire what twilio-go does for
// the same input: every Services, Verifications and VerificationChecks
// operation, driven through both clients against a server that records
// each request and answers with the spec's examples.

const (
	verificationSID = "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	templateSID     = "HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	apnCredSID      = "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	fcmCredSID      = "CRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	msgServiceSID   = "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// wireRequest is what a client sent: the method, path, query and form.
type wireRequest struct {
	Method, Path string
	Query, Form  url.Values
}

// recorder is a loopback server that records every request and answers
// with the spec's example for its operation (testdata in the root module).
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []wireRequest
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	answer := func(name string) []byte {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const services, service = "/v2/Services", "/v2/Services/" + serviceSID
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		form, _ := url.ParseQuery(string(body))
		r.mu.Lock()
		r.reqs = append(r.reqs, wireRequest{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Form: form})
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		key := req.Method + " " + req.URL.Path
		file, status := map[string]string{
			"POST " + services:                           "service.json",
			"GET " + services:                            "service_list.json",
			"GET " + service:                             "service_fetch.json",
			"POST " + service:                            "service_update.json",
			"POST " + verifyPath:                         "verification.json",
			"GET " + verifyPath + "/" + verificationSID:  "verification_fetch.json",
			"POST " + verifyPath + "/" + verificationSID: "verification_canceled.json",
			"POST " + checkPath:                          "verification_check.json",
		}[key], http.StatusOK
		switch {
		case req.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
			return
		case file == "":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(notFound)
			return
		case req.Method == http.MethodPost && !strings.HasPrefix(key, "POST "+service+"/Verifications/") && key != "POST "+service:
			status = http.StatusCreated
		}
		w.WriteHeader(status)
		_, _ = w.Write(answer(file))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []wireRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wireRequest(nil), r.reqs...)
}

// wireOp is one operation, with the same input through both clients.
type wireOp struct {
	name     string
	verifygo func(context.Context, *verify.Client) error
	twiliogo func(*twilio.RestClient) error
}

func wireOps() []wireOp {
	ignore := func(_ any, err error) error { return err }
	return []wireOp{
		{name: "Services.Create every setting",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.Services.Create(ctx, &verify.CreateServiceParams{
					FriendlyName: "Example", CodeLength: 6, LookupEnabled: verify.Ptr(false), SkipSMSToLandlines: verify.Ptr(false),
					DTMFInputRequired: verify.Ptr(true), TTSName: "Polly.Joanna", PSD2Enabled: verify.Ptr(false),
					DoNotShareWarningEnabled: verify.Ptr(true), CustomCodeEnabled: verify.Ptr(false), DefaultTemplateSID: templateSID,
					VerifyEventSubscriptionEnabled: verify.Ptr(false),
					Push:                           &verify.PushSettings{IncludeDate: verify.Ptr(false), APNCredentialSID: apnCredSID, FCMCredentialSID: fcmCredSID},
					TOTP:                           &verify.TOTPSettings{Issuer: "Example", TimeStep: 45 * time.Second, CodeLength: 8, Skew: verify.Ptr(0)},
					WhatsApp:                       &verify.WhatsAppSettings{MsgServiceSID: msgServiceSID, From: phone},
					Passkeys: &verify.PasskeySettings{
						RelyingParty: verify.PasskeyRelyingParty{ID: "example.com", Name: "Example",
							Origins: []string{"https://example.com", "https://login.example.com"}},
						AuthenticatorAttachment: verify.AuthenticatorPlatform, DiscoverableCredentials: verify.PasskeyRequired,
						UserVerification: verify.PasskeyDiscouraged,
					},
				}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.CreateServiceParams{}
				p.SetFriendlyName("Example")
				p.SetCodeLength(6)
				p.SetLookupEnabled(false)
				p.SetSkipSmsToLandlines(false)
				p.SetDtmfInputRequired(true)
				p.SetTtsName("Polly.Joanna")
				p.SetPsd2Enabled(false)
				p.SetDoNotShareWarningEnabled(true)
				p.SetCustomCodeEnabled(false)
				p.SetDefaultTemplateSid(templateSID)
				p.SetVerifyEventSubscriptionEnabled(false)
				p.SetPushIncludeDate(false)
				p.SetPushApnCredentialSid(apnCredSID)
				p.SetPushFcmCredentialSid(fcmCredSID)
				p.SetTotpIssuer("Example")
				p.SetTotpTimeStep(45)
				p.SetTotpCodeLength(8)
				p.SetTotpSkew(0)
				p.SetWhatsappMsgServiceSid(msgServiceSID)
				p.SetWhatsappFrom(phone)
				p.SetPasskeysRelyingPartyId("example.com")
				p.SetPasskeysRelyingPartyName("Example")
				p.SetPasskeysRelyingPartyOrigins("https://example.com,https://login.example.com")
				p.SetPasskeysAuthenticatorAttachment("platform")
				p.SetPasskeysDiscoverableCredentials("required")
				p.SetPasskeysUserVerification("discouraged")
				return ignore(c.VerifyV2.CreateService(p))
			}},
		{name: "Services.Fetch",
			verifygo: func(ctx context.Context, c *verify.Client) error { return ignore(c.Services.Fetch(ctx, serviceSID)) },
			twiliogo: func(c *twilio.RestClient) error { return ignore(c.VerifyV2.FetchService(serviceSID)) }},
		{name: "Services.Update false and 0",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.Services.Update(ctx, serviceSID, &verify.UpdateServiceParams{LookupEnabled: verify.Ptr(false),
					Push: &verify.PushSettings{IncludeDate: verify.Ptr(false)}, TOTP: &verify.TOTPSettings{Skew: verify.Ptr(0)}}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.UpdateServiceParams{}
				p.SetLookupEnabled(false)
				p.SetPushIncludeDate(false)
				p.SetTotpSkew(0)
				return ignore(c.VerifyV2.UpdateService(serviceSID, p))
			}},
		{name: "Services.Update name and one origin",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.Services.Update(ctx, serviceSID, &verify.UpdateServiceParams{FriendlyName: "Renamed",
					Passkeys: &verify.PasskeySettings{RelyingParty: verify.PasskeyRelyingParty{Origins: []string{"https://example.com"}}}}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.UpdateServiceParams{}
				p.SetFriendlyName("Renamed")
				p.SetPasskeysRelyingPartyOrigins("https://example.com")
				return ignore(c.VerifyV2.UpdateService(serviceSID, p))
			}},
		{name: "Services.Delete",
			verifygo: func(ctx context.Context, c *verify.Client) error { return c.Services.Delete(ctx, serviceSID) },
			twiliogo: func(c *twilio.RestClient) error { return c.VerifyV2.DeleteService(serviceSID) }},
		{name: "Services.List",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				for _, err := range c.Services.List(ctx, &verify.ListParams{PageSize: 20}) {
					if err != nil {
						return err
					}
				}
				return nil
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.ListServiceParams{}
				p.SetPageSize(20)
				return ignore(c.VerifyV2.ListService(p))
			}},
		{name: "Verifications.Create sms",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.Verifications.Create(ctx, serviceSID, &verify.CreateVerificationParams{To: phone, Channel: verify.ChannelSMS}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.CreateVerificationParams{}
				p.SetTo(phone)
				p.SetChannel("sms")
				return ignore(c.VerifyV2.CreateVerification(serviceSID, p))
			}},
		{name: "Verifications.Create every field",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.Verifications.Create(ctx, serviceSID, &verify.CreateVerificationParams{
					To: "ada@example.com", Channel: verify.ChannelEmail, CustomFriendlyName: "Example Bank",
					CustomMessage: verify.NewSecret("Your code"), SendDigits: "ww1234#", Locale: "pt-BR",
					CustomCode: verify.NewSecret("977351"), Amount: "€39.99", Payee: "Acme Inc.",
					RateLimits:                  verify.StringMap{"end_user_ip_address": "203.0.113.7"},
					ChannelConfiguration:        verify.JSONObject{"from": "login@example.com", "substitutions": map[string]any{"name": "Ada"}},
					AppHash:                     "He42w354ol9",
					TemplateSID:                 templateSID,
					TemplateCustomSubstitutions: verify.StringMap{"name": "Ada"},
					DeviceIP:                    "2001:db8::1", EnableSNAClientToken: true, RiskCheck: verify.RiskCheckDisable,
					Tags: verify.StringMap{"flow": "login"},
				}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.CreateVerificationParams{}
				p.SetTo("ada@example.com")
				p.SetChannel("email")
				p.SetCustomFriendlyName("Example Bank")
				p.SetCustomMessage("Your code")
				p.SetSendDigits("ww1234#")
				p.SetLocale("pt-BR")
				p.SetCustomCode("977351")
				p.SetAmount("€39.99")
				p.SetPayee("Acme Inc.")
				p.SetRateLimits(map[string]interface{}{"end_user_ip_address": "203.0.113.7"})
				p.SetChannelConfiguration(map[string]interface{}{"from": "login@example.com",
					"substitutions": map[string]interface{}{"name": "Ada"}})
				p.SetAppHash("He42w354ol9")
				p.SetTemplateSid(templateSID)
				p.SetTemplateCustomSubstitutions(`{"name":"Ada"}`)
				p.SetDeviceIp("2001:db8::1")
				p.SetEnableSnaClientToken(true)
				p.SetRiskCheck("disable")
				p.SetTags(`{"flow":"login"}`)
				return ignore(c.VerifyV2.CreateVerification(serviceSID, p))
			}},
		{name: "Verifications.Fetch",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.Verifications.Fetch(ctx, serviceSID, verificationSID))
			},
			twiliogo: func(c *twilio.RestClient) error {
				return ignore(c.VerifyV2.FetchVerification(serviceSID, verificationSID))
			}},
		{name: "Verifications.Update canceled",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.Verifications.Update(ctx, serviceSID, verificationSID,
					&verify.UpdateVerificationParams{Status: verify.VerificationCanceled}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.UpdateVerificationParams{}
				p.SetStatus("canceled")
				return ignore(c.VerifyV2.UpdateVerification(serviceSID, verificationSID, p))
			}},
		{name: "VerificationChecks.Create by To",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.VerificationChecks.Create(ctx, serviceSID, &verify.CheckVerificationParams{To: phone, Code: verify.NewSecret(smsCode)}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.CreateVerificationCheckParams{}
				p.SetTo(phone)
				p.SetCode(smsCode)
				return ignore(c.VerifyV2.CreateVerificationCheck(serviceSID, p))
			}},
		{name: "VerificationChecks.Create by SID with PSD2 and an SNA token",
			verifygo: func(ctx context.Context, c *verify.Client) error {
				return ignore(c.VerificationChecks.Create(ctx, serviceSID, &verify.CheckVerificationParams{VerificationSID: verificationSID,
					Code: verify.NewSecret(smsCode), Amount: "€39.99", Payee: "Acme Inc.", SNAClientToken: verify.NewSecret("sna-token")}))
			},
			twiliogo: func(c *twilio.RestClient) error {
				p := &twverify.CreateVerificationCheckParams{}
				p.SetVerificationSid(verificationSID)
				p.SetCode(smsCode)
				p.SetAmount("€39.99")
				p.SetPayee("Acme Inc.")
				p.SetSnaClientToken("sna-token")
				return ignore(c.VerifyV2.CreateVerificationCheck(serviceSID, p))
			}},
	}
}

// TestWireMatchesTwilioGo: for each operation, verify-go and twilio-go send
// the same method, path, query and form, and both decode the answer.
func TestWireMatchesTwilioGo(t *testing.T) {
	for _, op := range wireOps() {
		t.Run(op.name, func(t *testing.T) {
			ours, theirs := newRecorder(t), newRecorder(t)
			c, err := verify.NewClient(verify.WithCredentials(accountSID, authToken), verify.WithBaseURL(ours.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			if err := op.verifygo(context.Background(), c); err != nil {
				t.Fatalf("verify-go: %v", err)
			}
			if err := op.twiliogo(newTwilioGo(theirs.srv.Listener.Addr().String())); err != nil {
				t.Fatalf("twilio-go: %v", err)
			}
			got, want := ours.requests(), theirs.requests()
			if len(got) != 1 || !reflect.DeepEqual(got, want) {
				t.Errorf("on the wire:\n verify-go %+v\n twilio-go %+v", got, want)
			}
		})
	}
}
