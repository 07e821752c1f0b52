package verify

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// Service SIDs of the spec's examples, saved in testdata/service*.json.
const (
	pathServices    = "/v2/Services"
	testTemplate    = "HJaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testAPNCred     = "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testFCMCred     = "CRbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	testMsgService  = "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	goldenWhatsFrom = "whatsapp:+1234567890"
)

// goldenService is the service of the spec's examples with the nested
// settings each example carries.
func goldenService(push PushSettings, totp TOTPSettings, whatsapp WhatsAppSettings, passkeys PasskeySettings) Service {
	links := apiBase + pathService + "/"
	return Service{
		SID: testService, AccountSID: testAccount, FriendlyName: "name", CodeLength: 4, TTSName: "name",
		CustomCodeEnabled: true, Push: push, TOTP: totp, WhatsApp: whatsapp, Passkeys: passkeys,
		DefaultTemplateSID: testTemplate, DateCreated: goldenDate, DateUpdated: goldenDate, URL: apiBase + pathService,
		Links: ServiceLinks{Verifications: links + "Verifications", VerificationChecks: links + "VerificationCheck",
			Entities: links + "Entities", Webhooks: links + "Webhooks", AccessTokens: links + "AccessTokens",
			RateLimits: links + "RateLimits", MessagingConfigurations: links + "MessagingConfigurations"},
	}
}

var (
	goldenServiceTOTP     = TOTPSettings{Issuer: "test-issuer", TimeStep: 30 * time.Second, CodeLength: 3, Skew: Ptr(2)}
	goldenServiceWhatsApp = WhatsAppSettings{MsgServiceSID: testMsgService, From: goldenWhatsFrom}
	// goldenServiceCreated is testdata/service.json, the spec's createRecord.
	goldenServiceCreated = goldenService(PushSettings{IncludeDate: Ptr(false), APNCredentialSID: testAPNCred},
		goldenServiceTOTP, goldenServiceWhatsApp,
		PasskeySettings{RelyingParty: PasskeyRelyingParty{ID: "www.mydomain.com", Name: "My domain",
			Origins: []string{"www.mydomain.com", "www.login.mydomain.com"}}, UserVerification: PasskeyDiscouraged})
	// goldenServiceFetched is testdata/service_fetch.json: nested settings null.
	goldenServiceFetched = goldenService(PushSettings{IncludeDate: Ptr(false)}, TOTPSettings{}, WhatsAppSettings{}, PasskeySettings{})
	// goldenServiceUpdated is testdata/service_update.json.
	goldenServiceUpdated = goldenService(PushSettings{IncludeDate: Ptr(false), FCMCredentialSID: testFCMCred},
		goldenServiceTOTP, goldenServiceWhatsApp, PasskeySettings{})
)

// everyServiceSetting sets every field of the service params, each boolean
// false and Skew 0, so that the test proves false and 0 are sent.
func everyServiceSetting() CreateServiceParams {
	return CreateServiceParams{
		FriendlyName: "Example", CodeLength: 6, LookupEnabled: Ptr(false), SkipSMSToLandlines: Ptr(false),
		DTMFInputRequired: Ptr(false), TTSName: "Polly.Joanna", PSD2Enabled: Ptr(false), DoNotShareWarningEnabled: Ptr(false),
		CustomCodeEnabled: Ptr(false), DefaultTemplateSID: testTemplate, VerifyEventSubscriptionEnabled: Ptr(false),
		Push:     &PushSettings{IncludeDate: Ptr(false), APNCredentialSID: testAPNCred, FCMCredentialSID: testFCMCred},
		TOTP:     &TOTPSettings{Issuer: "Example", TimeStep: 45 * time.Second, CodeLength: 8, Skew: Ptr(0)},
		WhatsApp: &WhatsAppSettings{MsgServiceSID: testMsgService, From: "+15017122661"},
		Passkeys: &PasskeySettings{
			RelyingParty:            PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{"https://example.com", "https://login.example.com"}},
			AuthenticatorAttachment: AuthenticatorCrossPlatform, DiscoverableCredentials: PasskeyRequired, UserVerification: PasskeyPreferred,
		},
	}
}

// everyServiceForm is the form everyServiceSetting must send.
var everyServiceForm = url.Values{
	"FriendlyName": {"Example"}, "CodeLength": {"6"}, "LookupEnabled": {"false"}, "SkipSmsToLandlines": {"false"},
	"DtmfInputRequired": {"false"}, "TtsName": {"Polly.Joanna"}, "Psd2Enabled": {"false"}, "DoNotShareWarningEnabled": {"false"},
	"CustomCodeEnabled": {"false"}, "DefaultTemplateSid": {testTemplate}, "VerifyEventSubscriptionEnabled": {"false"},
	"Push.IncludeDate": {"false"}, "Push.ApnCredentialSid": {testAPNCred}, "Push.FcmCredentialSid": {testFCMCred},
	"Totp.Issuer": {"Example"}, "Totp.TimeStep": {"45"}, "Totp.CodeLength": {"8"}, "Totp.Skew": {"0"},
	"Whatsapp.MsgServiceSid": {testMsgService}, "Whatsapp.From": {"+15017122661"},
	"Passkeys.RelyingParty.Id": {"example.com"}, "Passkeys.RelyingParty.Name": {"Example"},
	"Passkeys.RelyingParty.Origins":    {"https://example.com,https://login.example.com"},
	"Passkeys.AuthenticatorAttachment": {"cross-platform"}, "Passkeys.DiscoverableCredentials": {"required"},
	"Passkeys.UserVerification": {"preferred"},
}

// TestServiceOperations sends each Services call once and checks the exact
// method, path and whole form, then the whole decoded service.
func TestServiceOperations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	every := everyServiceSetting()
	runCases(t, []enrollCase{
		{name: "Services.Create name only", status: 201, golden: "service.json", method: "POST", path: pathServices,
			form: url.Values{"FriendlyName": {"Example"}},
			call: func(c *Client) (any, error) {
				return c.Services.Create(ctx, &CreateServiceParams{FriendlyName: "Example"})
			},
			want: &goldenServiceCreated},
		{name: "Services.Create every setting", status: 201, golden: "service.json", method: "POST", path: pathServices,
			form: everyServiceForm,
			call: func(c *Client) (any, error) { return c.Services.Create(ctx, &every) },
			want: &goldenServiceCreated},
		{name: "Services.Fetch", status: 200, golden: "service_fetch.json", method: "GET", path: pathService,
			call: func(c *Client) (any, error) { return c.Services.Fetch(ctx, testService) },
			want: &goldenServiceFetched},
		{name: "Services.Update every setting", status: 200, golden: "service_update.json", method: "POST", path: pathService,
			form: everyServiceForm,
			call: func(c *Client) (any, error) {
				return c.Services.Update(ctx, testService, (*UpdateServiceParams)(&every))
			},
			want: &goldenServiceUpdated},
		{name: "Services.Update false and 0 only", status: 200, golden: "service_update.json", method: "POST", path: pathService,
			form: url.Values{"LookupEnabled": {"false"}, "Push.IncludeDate": {"false"}, "Totp.Skew": {"0"}},
			call: func(c *Client) (any, error) {
				return c.Services.Update(ctx, testService, &UpdateServiceParams{LookupEnabled: Ptr(false),
					Push: &PushSettings{IncludeDate: Ptr(false)}, TOTP: &TOTPSettings{Skew: Ptr(0)}})
			},
			want: &goldenServiceUpdated},
		{name: "Services.Update true, one origin", status: 200, golden: "service_update.json", method: "POST", path: pathService,
			form: url.Values{"CustomCodeEnabled": {"true"}, "Passkeys.RelyingParty.Origins": {"https://example.com"}},
			call: func(c *Client) (any, error) {
				return c.Services.Update(ctx, testService, &UpdateServiceParams{CustomCodeEnabled: Ptr(true),
					Passkeys: &PasskeySettings{RelyingParty: PasskeyRelyingParty{Origins: []string{"https://example.com"}}}})
			},
			want: &goldenServiceUpdated},
		{name: "Services.Update nothing set sends nothing", status: 200, golden: "service_update.json", method: "POST", path: pathService,
			form: url.Values{},
			call: func(c *Client) (any, error) {
				return c.Services.Update(ctx, testService, &UpdateServiceParams{Push: &PushSettings{}, TOTP: &TOTPSettings{},
					WhatsApp: &WhatsAppSettings{}, Passkeys: &PasskeySettings{}})
			},
			want: &goldenServiceUpdated},
		{name: "Services.Delete", status: 204, method: "DELETE", path: pathService,
			call: func(c *Client) (any, error) { return nil, c.Services.Delete(ctx, testService) }},
		listPageCase("Services.ListPage", "service_list.json", pathServices, "services", url.Values{"PageSize": {"3"}},
			func(c *Client) (*Page[Service], error) { return c.Services.ListPage(ctx, &ListParams{Limit: 3}) },
			[]Service{goldenServiceFetched}),
	})
}

// TestServiceSettingsRoundTrip: the nested settings decode into the types
// the params use, and marshal back as the API writes them (time_step in
// seconds, null skew as null).
func TestServiceSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(goldenServiceCreated.TOTP)
	if err != nil || string(b) != `{"issuer":"test-issuer","code_length":3,"skew":2,"time_step":30}` {
		t.Errorf("TOTPSettings marshals as %s, %v", b, err)
	}
	var back Service
	b, err = json.Marshal(goldenServiceCreated)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, goldenServiceCreated) {
		t.Errorf("round trip:\n got  %+v\n want %+v (%v)", back, goldenServiceCreated, err)
	}
	var nulls TOTPSettings
	if err := json.Unmarshal([]byte(`{"issuer":null,"time_step":null,"code_length":null,"skew":null}`), &nulls); err != nil ||
		!reflect.DeepEqual(nulls, TOTPSettings{}) {
		t.Errorf("null settings decode as %+v, %v", nulls, err)
	}
	if s := goldenServiceCreated.String(); s != `service `+testService+` "name"` {
		t.Errorf("String() = %q", s)
	}
}
