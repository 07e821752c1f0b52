package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Enrollment paths and SIDs; the golden bodies are the enrollment spec's
// own response examples, saved into testdata.
const (
	testAccessToken = "YKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	testWebhook     = "YWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	goldenEntity    = "YEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	goldenFactor    = "YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	pathService     = "/v2/Services/" + testService
	pathEntities    = pathService + "/Entities"
	pathEntity      = pathEntities + "/" + testIdentity
	pathFactors     = pathEntity + "/Factors"
	pathFactor      = pathFactors + "/" + testFactor
	pathTokens      = pathService + "/AccessTokens"
	pathWebhooks    = pathService + "/Webhooks"
	pathWebhook     = pathWebhooks + "/" + testWebhook

	// specPublicKey is the spec's example push key: base64 DER of a P-256 key.
	specPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8GdwtibWe0kpgsFl6xPQBwhtwUEyeJkeozFmi2jiJDzxFSMwVy3kVR1h/dPVYOfgkC0EkfBRJ0J/6xW47FD5vA=="
	// fcmToken is a push token of a valid length (32–255).
	fcmToken = "fcm-registration-token-0123456789abcdef"
)

var goldenDate = time.Date(2015, 7, 30, 20, 0, 0, 0, time.UTC)

// goldenFactorWith is the factor the spec's examples describe, in a status
// and with the config and metadata of its type.
func goldenFactorWith(typ FactorType, status FactorStatus, cfg FactorConfig, md StringMap) Factor {
	return Factor{
		SID: goldenFactor, AccountSID: testAccount, ServiceSID: testService, EntitySID: goldenEntity,
		Identity: testIdentity, DateCreated: goldenDate, DateUpdated: goldenDate, FriendlyName: "friendly_name",
		Status: status, FactorType: typ, Config: cfg, Metadata: md,
		URL: apiBase + pathFactors + "/" + goldenFactor,
	}
}

var (
	goldenTOTPConfig = FactorConfig{Alg: TOTPAlgorithmSHA1, Skew: 1, CodeLength: 6, TimeStep: 30 * time.Second}
	goldenPushConfig = FactorConfig{SDKVersion: "1.0", AppID: "com.example.myapp",
		NotificationPlatform: NotificationPlatformFCM, NotificationToken: "test_token"}
	goldenPasskeyConfig = FactorConfig{
		RelyingParty:            &PasskeyRelyingParty{ID: "example.com", Name: "Example", Origins: []string{"https://example.com"}},
		AuthenticatorAttachment: AuthenticatorPlatform, DiscoverableCredentials: PasskeyPreferred, UserVerification: PasskeyPreferred}
	goldenEntityValue = Entity{
		SID: goldenEntity, Identity: testIdentity, AccountSID: testAccount, ServiceSID: testService,
		DateCreated: goldenDate, DateUpdated: goldenDate, URL: apiBase + pathEntity,
		Links: EntityLinks{Factors: apiBase + pathFactors, NewFactors: apiBase + pathFactors,
			Challenges: apiBase + pathEntity + "/Challenges"},
	}
	goldenWebhookValue = Webhook{
		SID: testWebhook, AccountSID: testAccount, ServiceSID: testService, FriendlyName: "name",
		EventTypes: []EventType{EventFactorDeleted, EventFactorVerified}, Status: WebhookStatusEnabled,
		Version: WebhookVersionV2, WebhookURL: "https://owlbank.twilio.com", Method: "POST",
		DateCreated: goldenDate, DateUpdated: goldenDate, URL: apiBase + pathWebhook,
	}
)

// goldenAccessToken is the token in testdata/access_token.json, the spec's example.
const goldenAccessToken = "eyJ6aXAiOiJERUYiLCJraWQiOiJTQVNfUzNfX19LTVNfdjEiLCJjdHkiOiJ0d2lsaW8tZnBhO3Y9MSIsImVuYyI6IkEyNTZHQ00iLCJhbGciOiJkaXIifQ..qjltWfIgQaTwp2De.81Z_6W4kR-hdlAUvJQCbwS8CQ7QAoFRkOvNMoySEj8zEB4BAY3MXhPARfaK4Lnr4YceA2cXEmrzPKQ7bPm0XZMGYm1fqLYzAR8YAqUetI9WEdQLFytg1h4XnJnXhgd99eNXsLkpKHhsCnFkchV9eGpRrdrfB0STR5Xq0fdakomb98iuIFt1XtP0_iqxvxQZKe1O4035XhK_ELVwQBz_qdI77XRZBFM0REAzlnEOe61nOcQxkaIM9Qel9L7RPhcndcCPFAyYjxo6Ri5c4vOnszLDiHmeK9Ep9fRE5-Oz0px0ZEg_FgTUEPFPo2OHQj076H1plJnFr-qPINDJkUL_i7loqG1IlapOi1JSlflPH-Ebj4hhpBdMIcs-OX7jhqzmVqkIKWkpPyPEmfvY2-eA5Zpoo08YpqAJ3G1l_xEcHl28Ijkefj1mdb6E8POx41skAwXCpdfIbzWzV_VjFpmwhacS3JZNt9C4hVG4Yp-RGPEl1C7aJHRIUavAmoRHaXbfG20zzv5Zu0P5PcopDszzoqVfZpzc.GCt35DWTurtP-QaIL5aBSQ"

// goldenBindingSecret is binding.secret in testdata/factor_create_totp.json
// (its binding.uri carries it too).
const goldenBindingSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// enrollCase is one call and what it must send and decode.
type enrollCase struct {
	name         string
	status       int
	golden       string // response body file; "" answers with no body
	method, path string
	query        url.Values // the whole query; nil: none
	form         url.Values // the whole form; nil: no body
	call         func(c *Client) (any, error)
	want         any
}

// listPageCase is a ListPage call answered with the spec's golden page of key.
func listPageCase[T any](name, file, path, key string, query url.Values, call func(*Client) (*Page[T], error), items []T) enrollCase {
	return enrollCase{name: name, status: 200, golden: file, method: "GET", path: path, query: query,
		call: func(c *Client) (any, error) {
			p, err := call(c)
			return viewPage(p), err
		},
		want: &pageView[T]{Items: items, Meta: goldenMeta(path, key)}}
}

// TestEnrollmentOperations sends each enrollment call once and checks the
// exact method, path and whole form, then the whole decoded result.
func TestEnrollmentOperations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	totpURI := "otpauth://totp/test-issuer:John%E2%80%99s%20Account%20Name?secret=" + goldenBindingSecret +
		"&issuer=test-issuer&algorithm=SHA1&digits=6&period=30"
	cases := []enrollCase{
		{name: "Entities.Create", status: 201, golden: "entity.json", method: "POST", path: pathEntities,
			form: url.Values{"Identity": {testIdentity}},
			call: func(c *Client) (any, error) { return c.Entities.Create(ctx, testService, testIdentity, nil) },
			want: &goldenEntityValue},
		{name: "Entities.Fetch", status: 200, golden: "entity.json", method: "GET", path: pathEntity,
			call: func(c *Client) (any, error) { return c.Entities.Fetch(ctx, testService, testIdentity) },
			want: &goldenEntityValue},
		{name: "Entities.Delete", status: 204, method: "DELETE", path: pathEntity,
			call: func(c *Client) (any, error) { return nil, c.Entities.Delete(ctx, testService, testIdentity) }},

		{name: "Factors.CreateTOTP every field", status: 201, golden: "factor_create_totp.json", method: "POST", path: pathFactors,
			form: url.Values{
				"FactorType": {"totp"}, "FriendlyName": {"Ada's phone"}, "Binding.Secret": {goldenBindingSecret},
				"Config.TimeStep": {"30"}, "Config.Skew": {"0"}, "Config.CodeLength": {"6"}, "Config.Alg": {"sha256"},
				"Metadata": {`{"os":"iOS"}`},
			},
			call: func(c *Client) (any, error) {
				return c.Factors.CreateTOTP(ctx, testService, testIdentity, &CreateTOTPFactorParams{
					FriendlyName: "Ada's phone", Secret: NewSecret(goldenBindingSecret), TimeStep: 30 * time.Second, Skew: Ptr(0), CodeLength: 6,
					Alg: TOTPAlgorithmSHA256, Metadata: map[string]string{"os": "iOS"},
				})
			},
			want: &NewFactor{Factor: goldenFactorWith(FactorTypeTOTP, FactorStatusUnverified, goldenTOTPConfig, nil),
				Binding: Binding{Secret: NewSecret(goldenBindingSecret), URI: NewSecret(totpURI)}}},
		{name: "Factors.CreateTOTP defaults", status: 201, golden: "factor_create_totp.json", method: "POST", path: pathFactors,
			form: url.Values{"FactorType": {"totp"}, "FriendlyName": {"Ada's phone"}},
			call: func(c *Client) (any, error) {
				return c.Factors.CreateTOTP(ctx, testService, testIdentity, &CreateTOTPFactorParams{FriendlyName: "Ada's phone"})
			},
			want: &NewFactor{Factor: goldenFactorWith(FactorTypeTOTP, FactorStatusUnverified, goldenTOTPConfig, nil),
				Binding: Binding{Secret: NewSecret(goldenBindingSecret), URI: NewSecret(totpURI)}}},
		{name: "Factors.CreatePush", status: 201, golden: "factor_create_push.json", method: "POST", path: pathFactors,
			form: url.Values{
				"FactorType": {"push"}, "FriendlyName": {"Ada's phone"}, "Binding.Alg": {"ES256"},
				"Binding.PublicKey": {specPublicKey}, "Config.AppId": {"com.example.myapp"},
				"Config.NotificationPlatform": {"fcm"}, "Config.NotificationToken": {fcmToken},
				"Config.SdkVersion": {"1.0"}, "Metadata": {`{"os":"Android"}`},
			},
			call: func(c *Client) (any, error) {
				return c.Factors.CreatePush(ctx, testService, testIdentity, &CreatePushFactorParams{
					FriendlyName: "Ada's phone", PublicKey: specPublicKey, AppID: "com.example.myapp",
					NotificationPlatform: NotificationPlatformFCM, NotificationToken: fcmToken, SDKVersion: "1.0",
					Metadata: map[string]string{"os": "Android"},
				})
			},
			want: &NewFactor{Factor: goldenFactorWith(FactorTypePush, FactorStatusUnverified, goldenPushConfig, StringMap{"os": "Android"}),
				Binding: Binding{PublicKey: specPublicKey, Alg: "ES256"}}},
		{name: "Factors.CreatePush without push notifications", status: 201, golden: "factor_create_push.json", method: "POST", path: pathFactors,
			form: url.Values{
				"FactorType": {"push"}, "FriendlyName": {"Ada's phone"}, "Binding.Alg": {"ES256"},
				"Binding.PublicKey": {specPublicKey}, "Config.AppId": {"com.example.myapp"},
				"Config.NotificationPlatform": {"none"}, "Config.SdkVersion": {"1.0"},
			},
			call: func(c *Client) (any, error) {
				return c.Factors.CreatePush(ctx, testService, testIdentity, &CreatePushFactorParams{
					FriendlyName: "Ada's phone", PublicKey: specPublicKey, AppID: "com.example.myapp",
					NotificationPlatform: NotificationPlatformNone, SDKVersion: "1.0",
				})
			},
			want: &NewFactor{Factor: goldenFactorWith(FactorTypePush, FactorStatusUnverified, goldenPushConfig, StringMap{"os": "Android"}),
				Binding: Binding{PublicKey: specPublicKey, Alg: "ES256"}}},
		{name: "Factors.Fetch", status: 200, golden: "factor_fetch_push.json", method: "GET", path: pathFactor,
			call: func(c *Client) (any, error) { return c.Factors.Fetch(ctx, testService, testIdentity, testFactor) },
			want: Ptr(goldenFactorWith(FactorTypePush, FactorStatusUnverified, goldenPushConfig, StringMap{"os": "Android"}))},
		{name: "Factors.Fetch passkeys", status: 200, golden: "factor_fetch_passkeys.json",
			method: "GET", path: pathFactor,
			call: func(c *Client) (any, error) { return c.Factors.Fetch(ctx, testService, testIdentity, testFactor) },
			want: Ptr(goldenFactorWith(FactorTypePasskeys, FactorStatusUnverified, goldenPasskeyConfig, nil))},
		{name: "Factors.Verify", status: 200, golden: "factor_verify_totp.json", method: "POST", path: pathFactor,
			form: url.Values{"AuthPayload": {"123456"}},
			call: func(c *Client) (any, error) {
				return c.Factors.Verify(ctx, testService, testIdentity, testFactor, &VerifyFactorParams{AuthPayload: NewSecret("123456")})
			},
			want: Ptr(goldenFactorWith(FactorTypeTOTP, FactorStatusVerified, goldenTOTPConfig, nil))},
		{name: "Factors.Update push", status: 200, golden: "factor_fetch_push.json", method: "POST", path: pathFactor,
			form: url.Values{"FriendlyName": {"Ada's new phone"}, "Config.NotificationToken": {fcmToken},
				"Config.SdkVersion": {"2.1.0"}, "Config.NotificationPlatform": {"apn"}},
			call: func(c *Client) (any, error) {
				return c.Factors.Update(ctx, testService, testIdentity, testFactor, &UpdateFactorParams{
					FriendlyName: "Ada's new phone", NotificationToken: fcmToken, SDKVersion: "2.1.0",
					NotificationPlatform: NotificationPlatformAPN,
				})
			},
			want: Ptr(goldenFactorWith(FactorTypePush, FactorStatusUnverified, goldenPushConfig, StringMap{"os": "Android"}))},
		{name: "Factors.Update TOTP", status: 200, golden: "factor_verify_totp.json", method: "POST", path: pathFactor,
			form: url.Values{"Config.TimeStep": {"60"}, "Config.Skew": {"0"}, "Config.CodeLength": {"8"}, "Config.Alg": {"sha512"}},
			call: func(c *Client) (any, error) {
				return c.Factors.Update(ctx, testService, testIdentity, testFactor, &UpdateFactorParams{
					TimeStep: time.Minute, Skew: Ptr(0), CodeLength: 8, Alg: TOTPAlgorithmSHA512,
				})
			},
			want: Ptr(goldenFactorWith(FactorTypeTOTP, FactorStatusVerified, goldenTOTPConfig, nil))},
		{name: "Factors.Delete", status: 204, method: "DELETE", path: pathFactor,
			call: func(c *Client) (any, error) { return nil, c.Factors.Delete(ctx, testService, testIdentity, testFactor) }},

		{name: "AccessTokens.Create", status: 201, golden: "access_token.json", method: "POST", path: pathTokens,
			form: url.Values{"Identity": {testIdentity}, "FactorType": {"push"}, "FactorFriendlyName": {"John Doe iPhone"}, "Ttl": {"300"}},
			call: func(c *Client) (any, error) {
				return c.AccessTokens.Create(ctx, testService, testIdentity, &CreateAccessTokenParams{
					FactorFriendlyName: "John Doe iPhone", TTL: 5 * time.Minute,
				})
			},
			want: &AccessToken{SID: testAccessToken, AccountSID: testAccount, ServiceSID: testService,
				EntityIdentity: testIdentity, FactorType: FactorTypePush, FactorFriendlyName: "John Doe iPhone",
				Token: NewSecret(goldenAccessToken), TTL: 5 * time.Minute, DateCreated: goldenDate, URL: apiBase + pathTokens + "/" + testAccessToken}},
		{name: "AccessTokens.Create defaults", status: 201, golden: "access_token.json", method: "POST", path: pathTokens,
			form: url.Values{"Identity": {testIdentity}, "FactorType": {"push"}},
			call: func(c *Client) (any, error) {
				return c.AccessTokens.Create(ctx, testService, testIdentity, nil)
			},
			want: &AccessToken{SID: testAccessToken, AccountSID: testAccount, ServiceSID: testService,
				EntityIdentity: testIdentity, FactorType: FactorTypePush, FactorFriendlyName: "John Doe iPhone",
				Token: NewSecret(goldenAccessToken), TTL: 5 * time.Minute, DateCreated: goldenDate, URL: apiBase + pathTokens + "/" + testAccessToken}},
		{name: "AccessTokens.Fetch", status: 200, golden: "access_token.json", method: "GET", path: pathTokens + "/" + testAccessToken,
			call: func(c *Client) (any, error) { return c.AccessTokens.Fetch(ctx, testService, testAccessToken) },
			want: &AccessToken{SID: testAccessToken, AccountSID: testAccount, ServiceSID: testService,
				EntityIdentity: testIdentity, FactorType: FactorTypePush, FactorFriendlyName: "John Doe iPhone",
				Token: NewSecret(goldenAccessToken), TTL: 5 * time.Minute, DateCreated: goldenDate, URL: apiBase + pathTokens + "/" + testAccessToken}},

		{name: "Webhooks.Create", status: 201, golden: "webhook.json", method: "POST", path: pathWebhooks,
			form: url.Values{"FriendlyName": {"name"}, "EventTypes": {"factor.deleted", "factor.verified"},
				"WebhookUrl": {"https://owlbank.twilio.com"}, "Version": {"v2"}},
			call: func(c *Client) (any, error) {
				return c.Webhooks.Create(ctx, testService, &CreateWebhookParams{
					FriendlyName: "name", WebhookURL: "https://owlbank.twilio.com",
					EventTypes: []EventType{EventFactorDeleted, EventFactorVerified}, Version: WebhookVersionV2,
				})
			},
			want: &goldenWebhookValue},
		{name: "Webhooks.Create every field", status: 201, golden: "webhook.json", method: "POST", path: pathWebhooks,
			form: url.Values{"FriendlyName": {"login"}, "EventTypes": {"challenge.approved", "challenge.denied", "*"},
				"WebhookUrl": {"http://127.0.0.1:8080/hooks/verify?x=1"}, "Status": {"disabled"}, "Version": {"v1"}},
			call: func(c *Client) (any, error) {
				return c.Webhooks.Create(ctx, testService, &CreateWebhookParams{
					FriendlyName: "login", WebhookURL: "http://127.0.0.1:8080/hooks/verify?x=1",
					EventTypes: []EventType{EventChallengeApproved, EventChallengeDenied, EventAll},
					Status:     WebhookStatusDisabled, Version: WebhookVersionV1,
				})
			},
			want: &goldenWebhookValue},
		{name: "Webhooks.Fetch", status: 200, golden: "webhook.json", method: "GET", path: pathWebhook,
			call: func(c *Client) (any, error) { return c.Webhooks.Fetch(ctx, testService, testWebhook) },
			want: &goldenWebhookValue},
		{name: "Webhooks.Update", status: 200, golden: "webhook_update.json", method: "POST", path: pathWebhook,
			form: url.Values{"Status": {"disabled"}},
			call: func(c *Client) (any, error) {
				return c.Webhooks.Update(ctx, testService, testWebhook, &UpdateWebhookParams{Status: WebhookStatusDisabled})
			},
			want: func() *Webhook { w := goldenWebhookValue; w.Status = WebhookStatusDisabled; return &w }()},
		{name: "Webhooks.Update every field", status: 200, golden: "webhook_update.json", method: "POST", path: pathWebhook,
			form: url.Values{"FriendlyName": {"name"}, "EventTypes": {"factor.deleted", "factor.verified"},
				"WebhookUrl": {"https://owlbank.twilio.com"}, "Status": {"disabled"}, "Version": {"v2"}},
			call: func(c *Client) (any, error) {
				return c.Webhooks.Update(ctx, testService, testWebhook, &UpdateWebhookParams{
					FriendlyName: "name", WebhookURL: "https://owlbank.twilio.com", Status: WebhookStatusDisabled,
					EventTypes: []EventType{EventFactorDeleted, EventFactorVerified}, Version: WebhookVersionV2,
				})
			},
			want: func() *Webhook { w := goldenWebhookValue; w.Status = WebhookStatusDisabled; return &w }()},
		{name: "Webhooks.Delete", status: 204, method: "DELETE", path: pathWebhook,
			call: func(c *Client) (any, error) { return nil, c.Webhooks.Delete(ctx, testService, testWebhook) }},

		listPageCase("Entities.ListPage", "entity_list.json", pathEntities, "entities", url.Values{"PageSize": {"20"}},
			func(c *Client) (*Page[Entity], error) {
				return c.Entities.ListPage(ctx, testService, &ListParams{PageSize: 20})
			},
			[]Entity{goldenEntityValue}),
		listPageCase("Factors.ListPage", "factor_list.json", pathFactors, "factors", nil,
			func(c *Client) (*Page[Factor], error) { return c.Factors.ListPage(ctx, testService, testIdentity, nil) },
			[]Factor{goldenFactorWith(FactorTypePush, FactorStatusUnverified, goldenPushConfig, StringMap{"os": "Android"})}),
		listPageCase("Webhooks.ListPage", "webhook_list.json", pathWebhooks, "webhooks", url.Values{"PageSize": {"7"}},
			func(c *Client) (*Page[Webhook], error) {
				return c.Webhooks.ListPage(ctx, testService, &ListParams{Limit: 7})
			},
			[]Webhook{goldenWebhookValue}),
	}
	runCases(t, cases)
}

// runCases sends each call once against a contract-checked harness that
// answers with the case's golden body, and checks the exact method, path,
// query and whole form, then the whole decoded result.
func runCases(t *testing.T, cases []enrollCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			body := ""
			if tc.golden != "" {
				body = golden(t, tc.golden)
			}
			h.mock.RegisterNoResponder(bodyResponder(tc.status, body))
			got, err := tc.call(h.client)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			s := h.only()
			wantMethodPath(t, s, tc.method, tc.path)
			if q := s.URL.Query(); q.Encode() != tc.query.Encode() {
				t.Errorf("query = %q, want %q", q.Encode(), tc.query.Encode())
			}
			wantForm(t, s.Form, tc.form)
			if ct := s.Header.Get("Content-Type"); (ct == "application/x-www-form-urlencoded") != (tc.method == "POST") {
				t.Errorf("Content-Type = %q for a %s", ct, tc.method)
			}
			if tc.want == nil {
				if got != nil {
					t.Errorf("got %v, want nothing", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decoded:\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
}

// pageView is what a test compares of a page: its items and meta.
type pageView[T any] struct {
	Items []T
	Meta  PageMeta
}

func viewPage[T any](p *Page[T]) *pageView[T] {
	if p == nil {
		return nil
	}
	return &pageView[T]{Items: p.Items, Meta: p.Meta}
}

// goldenMeta is the meta of the spec's list examples: one page of 50 at path.
func goldenMeta(path, key string) PageMeta {
	first := apiBase + path + "?PageSize=50&Page=0"
	return PageMeta{Page: 0, PageSize: 50, FirstPageURL: first, URL: first, Key: key}
}

// TestSkewZeroIsSent: Skew is a pointer so that 0 steps (the current code
// only) can be asked for; nil sends nothing and leaves the service's default.
func TestSkewZeroIsSent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		skew *int
		want []string
	}{{nil, nil}, {Ptr(0), []string{"0"}}, {Ptr(2), []string{"2"}}} {
		h := newHarness(t)
		h.mock.RegisterNoResponder(jsonResponder(t, 201, "factor_create_totp.json"))
		if _, err := h.client.Factors.CreateTOTP(context.Background(), testService, testIdentity,
			&CreateTOTPFactorParams{FriendlyName: "phone", Skew: tc.skew}); err != nil {
			t.Fatal(err)
		}
		if got := h.only().Form["Config.Skew"]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Skew %v sent Config.Skew=%q, want %q", tc.skew, got, tc.want)
		}
	}
}

// TestNewFactorBindingOnlyOnCreate: Fetch decodes into Factor, which has no
// Binding, so a secret cannot be read back from anything but Create's answer.
func TestNewFactorBindingOnlyOnCreate(t *testing.T) {
	t.Parallel()
	if _, ok := reflect.TypeFor[Factor]().FieldByName("Binding"); ok {
		t.Fatal("Factor has a Binding field; only NewFactor (Create's result) may carry the secret")
	}
	h := newHarness(t)
	// Even if an answer to Fetch carried a binding, it is not kept.
	h.mock.RegisterResponder(http.MethodGet, apiBase+pathFactor, jsonResponder(t, 200, "factor_create_totp.json"))
	f, err := h.client.Factors.Fetch(context.Background(), testService, testIdentity, testFactor)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%#v", f), goldenBindingSecret) {
		t.Errorf("Fetch kept the binding secret: %#v", f)
	}
}
