package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// TestValidationTable covers every limit in DESIGN.md with a value that
// passes and one that fails; a failure must name the field and send nothing.
func TestValidationTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fields := func(n int) []Field {
		fs := make([]Field, n)
		for i := range fs {
			fs[i] = Field{Label: "L", Value: "V"}
		}
		return fs
	}
	bigMap := func(jsonLen int) map[string]string {
		// {"k":"vvv…"} is 8 characters plus the value.
		return map[string]string{"k": strings.Repeat("v", jsonLen-8)}
	}
	create := func(p CreateChallengeParams) func(*Client) error {
		if p.FactorSID == "" {
			p.FactorSID = testFactor
		}
		return func(c *Client) error {
			_, err := c.Challenges.Create(ctx, testService, testIdentity, &p)
			return err
		}
	}
	update := func(p UpdateChallengeParams) func(*Client) error {
		return func(c *Client) error {
			_, err := c.Challenges.Update(ctx, testService, testIdentity, testChallenge, &p)
			return err
		}
	}
	fetchAt := func(service, identity, sid string) func(*Client) error {
		return func(c *Client) error {
			_, err := c.Challenges.Fetch(ctx, service, identity, sid)
			return err
		}
	}
	list := func(p ListChallengesParams) func(*Client) error {
		return func(c *Client) error {
			_, err := c.Challenges.ListPage(ctx, testService, testIdentity, &p)
			return err
		}
	}
	notify := func(ttl time.Duration) func(*Client) error {
		return func(c *Client) error {
			_, err := c.Challenges.Notify(ctx, testService, testIdentity, testChallenge, &NotifyParams{TTL: &ttl})
			return err
		}
	}
	// Enrollment calls: a valid base, changed by one edit per row.
	type (
		totpP    = CreateTOTPFactorParams
		pushP    = CreatePushFactorParams
		updateP  = UpdateFactorParams
		tokenP   = CreateAccessTokenParams
		hookP    = CreateWebhookParams
		hookUpdP = UpdateWebhookParams
	)
	totp := variant(totpP{FriendlyName: "Ada's phone"}, func(c *Client, p *totpP) error { return errOf(c.Factors.CreateTOTP(ctx, testService, testIdentity, p)) })
	push := variant(pushP{FriendlyName: "Ada's phone", PublicKey: specPublicKey, AppID: "com.example.myapp",
		NotificationPlatform: NotificationPlatformFCM, NotificationToken: fcmToken, SDKVersion: "1.0"},
		func(c *Client, p *pushP) error { return errOf(c.Factors.CreatePush(ctx, testService, testIdentity, p)) })
	updateFactor := variant(updateP{}, func(c *Client, p *updateP) error {
		return errOf(c.Factors.Update(ctx, testService, testIdentity, testFactor, p))
	})
	verifyFactor := func(code string) func(*Client) error {
		return func(c *Client) error {
			_, err := c.Factors.Verify(ctx, testService, testIdentity, testFactor, &VerifyFactorParams{AuthPayload: NewSecret(code)})
			return err
		}
	}
	tokenFor := func(identity string) func(*Client) error {
		return func(c *Client) error { return errOf(c.AccessTokens.Create(ctx, testService, identity, nil)) }
	}
	token := variant(tokenP{}, func(c *Client, p *tokenP) error {
		return errOf(c.AccessTokens.Create(ctx, testService, testIdentity, p))
	})
	hook := variant(hookP{FriendlyName: "login", WebhookURL: "https://example.com/hooks/verify", EventTypes: []EventType{EventChallengeApproved}},
		func(c *Client, p *hookP) error { return errOf(c.Webhooks.Create(ctx, testService, p)) })
	hookUpdate := variant(hookUpdP{}, func(c *Client, p *hookUpdP) error { return errOf(c.Webhooks.Update(ctx, testService, testWebhook, p)) })
	sidCall := func(call func(c *Client, sid string) error) func(string) func(*Client) error {
		return func(sid string) func(*Client) error { return func(c *Client) error { return call(c, sid) } }
	}
	fetchFactor := sidCall(func(c *Client, sid string) error { return errOf(c.Factors.Fetch(ctx, testService, testIdentity, sid)) })
	fetchToken := sidCall(func(c *Client, sid string) error { return errOf(c.AccessTokens.Fetch(ctx, testService, sid)) })
	fetchWebhook := sidCall(func(c *Client, sid string) error { return errOf(c.Webhooks.Fetch(ctx, testService, sid)) })
	fetchEntity := sidCall(func(c *Client, service string) error { return errOf(c.Entities.Fetch(ctx, service, testIdentity)) })
	createEntity := sidCall(func(c *Client, identity string) error {
		return errOf(c.Entities.Create(ctx, testService, identity, nil))
	})
	listEntities := variant(ListParams{}, func(c *Client, p *ListParams) error { return errOf(c.Entities.ListPage(ctx, testService, p)) })
	listFactors := variant(ListParams{}, func(c *Client, p *ListParams) error {
		return errOf(c.Factors.ListPage(ctx, testService, testIdentity, p))
	})
	listWebhooks := variant(ListParams{}, func(c *Client, p *ListParams) error { return errOf(c.Webhooks.ListPage(ctx, testService, p)) })
	p384 := p384PublicKey(t)
	n := strings.Repeat

	now := time.Now()
	runRules(t, []validationRule{
		{"service SID prefix", "ServiceSid",
			fetchAt(testService, testIdentity, testChallenge), fetchAt("VB"+testService[2:], testIdentity, testChallenge)},
		{"service SID hex", "ServiceSid",
			fetchAt("VAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", testIdentity, testChallenge), fetchAt("VAgaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", testIdentity, testChallenge)},
		{"service SID length", "ServiceSid",
			fetchAt(testService, testIdentity, testChallenge), fetchAt(testService+"a", testIdentity, testChallenge)},
		{"challenge SID", "Sid",
			fetchAt(testService, testIdentity, testChallenge), fetchAt(testService, testIdentity, "YF"+testChallenge[2:])},
		{"identity min 8", "Identity",
			fetchAt(testService, "abcd-123", testChallenge), fetchAt(testService, "abc-123", testChallenge)},
		{"identity max 64", "Identity",
			fetchAt(testService, strings.Repeat("a", 64), testChallenge), fetchAt(testService, strings.Repeat("a", 65), testChallenge)},
		{"identity charset", "Identity",
			fetchAt(testService, "user-42-abc", testChallenge), fetchAt(testService, "user_42_abc", testChallenge)},
		{"identity dash placement", "Identity",
			fetchAt(testService, "a-b-c-d-e", testChallenge), fetchAt(testService, "a--bcdefgh", testChallenge)},
		{"identity path traversal", "Identity",
			fetchAt(testService, "abcdefgh", testChallenge), fetchAt(testService, "../../x/abcdefgh", testChallenge)},
		{"identity query", "Identity",
			fetchAt(testService, "abcdefgh", testChallenge), fetchAt(testService, "a/b?c=abcdefgh", testChallenge)},
		{"factor SID required", "FactorSid",
			create(CreateChallengeParams{}), create(CreateChallengeParams{FactorSID: "YC" + testFactor[2:]})},
		{"expiration ≤ 60 min", "ExpirationDate",
			create(CreateChallengeParams{ExpirationDate: now.Add(59 * time.Minute)}), create(CreateChallengeParams{ExpirationDate: now.Add(61 * time.Minute)})},
		{"expiration in future", "ExpirationDate",
			create(CreateChallengeParams{ExpirationDate: now.Add(time.Minute)}), create(CreateChallengeParams{ExpirationDate: now.Add(-time.Minute)})},
		{"message required", "Details.Message",
			create(CreateChallengeParams{Details: &Details{Message: "m"}}), create(CreateChallengeParams{Details: &Details{Fields: fields(1)}})},
		{"message ≤ 256", "Details.Message",
			create(CreateChallengeParams{Details: &Details{Message: strings.Repeat("é", 256)}}), create(CreateChallengeParams{Details: &Details{Message: strings.Repeat("m", 257)}})},
		{"fields ≤ 20", "Details.Fields",
			create(CreateChallengeParams{Details: &Details{Message: "m", Fields: fields(20)}}), create(CreateChallengeParams{Details: &Details{Message: "m", Fields: fields(21)}})},
		{"label ≤ 36", "Details.Fields[1].Label",
			create(CreateChallengeParams{Details: &Details{Message: "m", Fields: []Field{{"a", "b"}, {strings.Repeat("l", 36), "v"}}}}),
			create(CreateChallengeParams{Details: &Details{Message: "m", Fields: []Field{{"a", "b"}, {strings.Repeat("l", 37), "v"}}}})},
		{"value ≤ 128", "Details.Fields[0].Value",
			create(CreateChallengeParams{Details: &Details{Message: "m", Fields: []Field{{"a", strings.Repeat("v", 128)}}}}),
			create(CreateChallengeParams{Details: &Details{Message: "m", Fields: []Field{{"a", strings.Repeat("v", 129)}}}})},
		{"message UTF-8", "Details.Message",
			create(CreateChallengeParams{Details: &Details{Message: "héllo"}}), create(CreateChallengeParams{Details: &Details{Message: "h\xffllo"}})},
		{"field UTF-8", "Details.Fields[0]",
			create(CreateChallengeParams{Details: &Details{Message: "m", Fields: []Field{{"é", "ü"}}}}), create(CreateChallengeParams{Details: &Details{Message: "m", Fields: []Field{{"\xc3", "v"}}}})},
		{"hidden details UTF-8", "HiddenDetails",
			create(CreateChallengeParams{HiddenDetails: NewSecretMap(map[string]string{"ip": "∞"})}), create(CreateChallengeParams{HiddenDetails: NewSecretMap(map[string]string{"ip": "\xfe"})})},
		{"hidden details ≤ 1024", "HiddenDetails",
			create(CreateChallengeParams{HiddenDetails: NewSecretMap(bigMap(1024))}), create(CreateChallengeParams{HiddenDetails: NewSecretMap(bigMap(1025))})},
		{"TOTP code ≥ 3", "AuthPayload",
			create(CreateChallengeParams{AuthPayload: NewSecret("123")}), create(CreateChallengeParams{AuthPayload: NewSecret("12")})},
		{"TOTP code ≤ 8", "AuthPayload",
			create(CreateChallengeParams{AuthPayload: NewSecret("12345678")}), create(CreateChallengeParams{AuthPayload: NewSecret("123456789")})},
		{"auth payload ≤ 5456", "AuthPayload",
			update(UpdateChallengeParams{AuthPayload: NewSecret(strings.Repeat("a", 5456))}), update(UpdateChallengeParams{AuthPayload: NewSecret(strings.Repeat("a", 5457))})},
		{"metadata ≤ 1024", "Metadata",
			update(UpdateChallengeParams{AuthPayload: NewSecret("123456"), Metadata: bigMap(1024)}),
			update(UpdateChallengeParams{AuthPayload: NewSecret("123456"), Metadata: bigMap(1025)})},
		{"update AuthPayload required", "AuthPayload",
			update(UpdateChallengeParams{AuthPayload: NewSecret("1")}), update(UpdateChallengeParams{Metadata: map[string]string{"os": "x"}})},
		{"page size ≥ 1", "PageSize",
			list(ListChallengesParams{ListParams: ListParams{PageSize: 1}}), list(ListChallengesParams{ListParams: ListParams{PageSize: -1}})},
		{"page size ≤ 1000", "PageSize",
			list(ListChallengesParams{ListParams: ListParams{PageSize: 1000}}), list(ListChallengesParams{ListParams: ListParams{PageSize: 1001}})},
		{"status filter", "Status",
			list(ListChallengesParams{Status: StatusExpired}), list(ListChallengesParams{Status: "Pending"})},
		{"order", "Order",
			list(ListChallengesParams{Order: OrderAsc}), list(ListChallengesParams{Order: "up"})},
		{"list factor SID", "FactorSid",
			list(ListChallengesParams{FactorSID: testFactor}), list(ListChallengesParams{FactorSID: "YF123"})},
		{"ttl ≥ 0", "Ttl", notify(0), notify(-time.Second)},
		{"ttl ≤ 300 s", "Ttl", notify(5 * time.Minute), notify(301 * time.Second)},
		{"ttl in whole seconds", "Ttl", notify(time.Second), notify(1500 * time.Millisecond)},

		// Enrollment: SIDs and identities.
		{"factor SID prefix", "Sid", fetchFactor(testFactor), fetchFactor("YC" + testFactor[2:])},
		{"access token SID prefix", "Sid", fetchToken(testAccessToken), fetchToken("YF" + testAccessToken[2:])},
		{"webhook SID prefix", "Sid", fetchWebhook(testWebhook), fetchWebhook("YK" + testWebhook[2:])},
		{"webhook SID hex", "Sid", fetchWebhook("YW" + n("F", 32)), fetchWebhook("YW" + n("g", 32))},
		{"entity service SID", "ServiceSid", fetchEntity(testService), fetchEntity("VB" + testService[2:])},
		{"entity identity", "Identity", createEntity("user-0001"), createEntity("user/../0001")},

		// Factors.CreateTOTP.
		{"TOTP friendly name required", "FriendlyName",
			totp(func(p *totpP) {}), totp(func(p *totpP) { p.FriendlyName = "" })},
		{"TOTP friendly name ≤ 64", "FriendlyName",
			totp(func(p *totpP) { p.FriendlyName = n("é", 64) }), totp(func(p *totpP) { p.FriendlyName = n("a", 65) })},
		{"friendly name UTF-8", "FriendlyName",
			totp(func(p *totpP) { p.FriendlyName = "Ada’s" }), totp(func(p *totpP) { p.FriendlyName = "Ada\xffs" })},
		{"TOTP secret base32", "Binding.Secret",
			totp(func(p *totpP) { p.Secret = NewSecret("jbswy3dpehpk3pxp") }), totp(func(p *totpP) { p.Secret = NewSecret("JBSWY3DP EHPK3PXP") })},
		{"TOTP secret padding exact", "Binding.Secret",
			totp(func(p *totpP) { p.Secret = NewSecret("MFRGG===") }), totp(func(p *totpP) { p.Secret = NewSecret("ABCDEFGH=") })},
		{"time step ≥ 20", "Config.TimeStep", totp(func(p *totpP) { p.TimeStep = 20 * time.Second }), totp(func(p *totpP) { p.TimeStep = 19 * time.Second })},
		{"time step in whole seconds", "Config.TimeStep",
			totp(func(p *totpP) { p.TimeStep = 30 * time.Second }), totp(func(p *totpP) { p.TimeStep = 30*time.Second + time.Millisecond })},
		{"time step ≤ 60", "Config.TimeStep", totp(func(p *totpP) { p.TimeStep = time.Minute }), totp(func(p *totpP) { p.TimeStep = 61 * time.Second })},
		{"skew ≥ 0, and 0 is sendable", "Config.Skew", totp(func(p *totpP) { p.Skew = Ptr(0) }), totp(func(p *totpP) { p.Skew = Ptr(-1) })},
		{"skew ≤ 2", "Config.Skew", totp(func(p *totpP) { p.Skew = Ptr(2) }), totp(func(p *totpP) { p.Skew = Ptr(3) })},
		{"code length ≥ 3", "Config.CodeLength", totp(func(p *totpP) { p.CodeLength = 3 }), totp(func(p *totpP) { p.CodeLength = 2 })},
		{"code length ≤ 8", "Config.CodeLength", totp(func(p *totpP) { p.CodeLength = 8 }), totp(func(p *totpP) { p.CodeLength = 9 })},
		{"TOTP algorithm", "Config.Alg",
			totp(func(p *totpP) { p.Alg = TOTPAlgorithmSHA512 }), totp(func(p *totpP) { p.Alg = "SHA1" })},
		{"TOTP metadata ≤ 1024", "Metadata",
			totp(func(p *totpP) { p.Metadata = bigMap(1024) }), totp(func(p *totpP) { p.Metadata = bigMap(1025) })},

		// Factors.CreatePush.
		{"push friendly name ≤ 64", "FriendlyName",
			push(func(p *pushP) { p.FriendlyName = n("b", 64) }), push(func(p *pushP) { p.FriendlyName = n("b", 65) })},
		{"public key required", "Binding.PublicKey", push(func(p *pushP) {}), push(func(p *pushP) { p.PublicKey = "" })},
		{"public key is base64 DER", "Binding.PublicKey",
			push(func(p *pushP) {}), push(func(p *pushP) { p.PublicKey = "dGVzdF9rZXk=" /* the spec's "test_key" */ })},
		{"public key is P-256", "Binding.PublicKey", push(func(p *pushP) {}), push(func(p *pushP) { p.PublicKey = p384 })},
		{"app id required", "Config.AppId", push(func(p *pushP) {}), push(func(p *pushP) { p.AppID = "" })},
		{"app id ≤ 100", "Config.AppId", push(func(p *pushP) { p.AppID = n("a", 100) }), push(func(p *pushP) { p.AppID = n("a", 101) })},
		{"SDK version required", "Config.SdkVersion", push(func(p *pushP) {}), push(func(p *pushP) { p.SDKVersion = "" })},
		{"platform required", "Config.NotificationPlatform", push(func(p *pushP) {}), push(func(p *pushP) { p.NotificationPlatform = "" })},
		{"platform apn, fcm or none", "Config.NotificationPlatform",
			push(func(p *pushP) { p.NotificationPlatform = NotificationPlatformAPN }), push(func(p *pushP) { p.NotificationPlatform = "gcm" })},
		{"notification token ≥ 32", "Config.NotificationToken",
			push(func(p *pushP) { p.NotificationToken = n("t", 32) }), push(func(p *pushP) { p.NotificationToken = n("t", 31) })},
		{"notification token ≤ 255", "Config.NotificationToken",
			push(func(p *pushP) { p.NotificationToken = n("t", 255) }), push(func(p *pushP) { p.NotificationToken = n("t", 256) })},
		{"notification token optional only with none", "Config.NotificationToken",
			push(func(p *pushP) { p.NotificationPlatform, p.NotificationToken = NotificationPlatformNone, "" }),
			push(func(p *pushP) { p.NotificationToken = "" })},
		{"push metadata ≤ 1024", "Metadata",
			push(func(p *pushP) { p.Metadata = bigMap(1024) }), push(func(p *pushP) { p.Metadata = bigMap(1025) })},

		// Factors.Update and Verify.
		{"factor auth payload ≤ 5456", "AuthPayload",
			updateFactor(func(p *updateP) { p.AuthPayload = NewSecret(n("a", 5456)) }), updateFactor(func(p *updateP) { p.AuthPayload = NewSecret(n("a", 5457)) })},
		{"update friendly name ≤ 64", "FriendlyName",
			updateFactor(func(p *updateP) { p.FriendlyName = n("c", 64) }), updateFactor(func(p *updateP) { p.FriendlyName = n("c", 65) })},
		{"update notification token 32–255", "Config.NotificationToken",
			updateFactor(func(p *updateP) { p.NotificationToken = n("t", 32) }), updateFactor(func(p *updateP) { p.NotificationToken = n("t", 31) })},
		{"update platform", "Config.NotificationPlatform",
			updateFactor(func(p *updateP) { p.NotificationPlatform = NotificationPlatformNone }), updateFactor(func(p *updateP) { p.NotificationPlatform = "sms" })},
		{"update time step", "Config.TimeStep",
			updateFactor(func(p *updateP) { p.TimeStep = 45 * time.Second }), updateFactor(func(p *updateP) { p.TimeStep = 90 * time.Second })},
		{"update skew", "Config.Skew",
			updateFactor(func(p *updateP) { p.Skew = Ptr(0) }), updateFactor(func(p *updateP) { p.Skew = Ptr(5) })},
		{"update code length", "Config.CodeLength",
			updateFactor(func(p *updateP) { p.CodeLength = 4 }), updateFactor(func(p *updateP) { p.CodeLength = 10 })},
		{"update algorithm", "Config.Alg",
			updateFactor(func(p *updateP) { p.Alg = TOTPAlgorithmSHA256 }), updateFactor(func(p *updateP) { p.Alg = "md5" })},
		{"verify auth payload required", "AuthPayload", verifyFactor("123456"), verifyFactor("")},

		// AccessTokens.Create.
		{"access token identity", "Identity", tokenFor(testIdentity), tokenFor("abc")},
		{"access token identity required", "Identity", tokenFor(testIdentity), tokenFor("")},
		{"factor friendly name ≤ 64", "FactorFriendlyName",
			token(func(p *tokenP) { p.FactorFriendlyName = n("d", 64) }), token(func(p *tokenP) { p.FactorFriendlyName = n("d", 65) })},
		{"access token ttl ≥ 60", "Ttl", token(func(p *tokenP) { p.TTL = time.Minute }), token(func(p *tokenP) { p.TTL = 59 * time.Second })},
		{"access token ttl ≤ 300", "Ttl", token(func(p *tokenP) { p.TTL = 5 * time.Minute }), token(func(p *tokenP) { p.TTL = 301 * time.Second })},
		{"access token ttl in whole seconds", "Ttl",
			token(func(p *tokenP) { p.TTL = 90 * time.Second }), token(func(p *tokenP) { p.TTL = 90*time.Second + time.Millisecond })},

		// Webhooks.Create and Update.
		{"webhook friendly name required", "FriendlyName", hook(func(p *hookP) {}), hook(func(p *hookP) { p.FriendlyName = "" })},
		{"webhook friendly name ≤ 64", "FriendlyName",
			hook(func(p *hookP) { p.FriendlyName = n("w", 64) }), hook(func(p *hookP) { p.FriendlyName = n("w", 65) })},
		{"webhook URL required", "WebhookUrl", hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "" })},
		{"webhook URL http or https", "WebhookUrl", hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "ftp://example.com/hooks" })},
		{"webhook URL plain http to a public host", "WebhookUrl",
			hook(func(p *hookP) { p.WebhookURL = "http://example.com/hooks" }), hook(func(p *hookP) { p.WebhookURL = "gopher://example.com/hooks" })},
		{"webhook URL plain http to loopback", "WebhookUrl",
			hook(func(p *hookP) { p.WebhookURL = "http://127.0.0.1:8080/hooks" }), hook(func(p *hookP) { p.WebhookURL = "javascript:alert(1)" })},
		{"webhook URL absolute", "WebhookUrl", hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "/hooks/verify" })},
		{"webhook URL scheme-relative", "WebhookUrl", hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "//example.com/hooks" })},
		{"webhook URL with basic auth", "WebhookUrl",
			hook(func(p *hookP) { p.WebhookURL = "https://user:pw@example.com/hooks" }), hook(func(p *hookP) { p.WebhookURL = "https://user:pw@/hooks" })},
		{"webhook URL host", "WebhookUrl",
			hook(func(p *hookP) { p.WebhookURL = "https://example.com:8443/hooks" }), hook(func(p *hookP) { p.WebhookURL = "https://:8443/hooks" })},
		{"webhook URL opaque", "WebhookUrl", hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "https:example.com/hooks" })},
		{"webhook URL without spaces", "WebhookUrl",
			hook(func(p *hookP) { p.WebhookURL = "https://example.com/hooks%20verify" }), hook(func(p *hookP) { p.WebhookURL = "https://example.com/hooks verify" })},
		{"webhook URL without a trailing space", "WebhookUrl", hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "https://example.com/hooks " })},
		{"webhook URL without a line break", "WebhookUrl", hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "https://example.com/hooks\n" })},
		{"webhook URL without control characters", "WebhookUrl",
			hook(func(p *hookP) {}), hook(func(p *hookP) { p.WebhookURL = "https://example.com/ho\x7fks" })},
		{"webhook URL without Unicode spaces", "WebhookUrl",
			hook(func(p *hookP) { p.WebhookURL = "https://example.com/hooks/café" }), hook(func(p *hookP) { p.WebhookURL = "https://example.com/hooks\u00a0" })},
		{"event types at least one", "EventTypes", hook(func(p *hookP) {}), hook(func(p *hookP) { p.EventTypes = nil })},
		{"event types known", "EventTypes",
			hook(func(p *hookP) { p.EventTypes = []EventType{EventAll} }), hook(func(p *hookP) { p.EventTypes = []EventType{"challenge.expired"} })},
		{"webhook status", "Status", hook(func(p *hookP) { p.Status = WebhookStatusDisabled }), hook(func(p *hookP) { p.Status = "paused" })},
		{"webhook version", "Version", hook(func(p *hookP) { p.Version = WebhookVersionV1 }), hook(func(p *hookP) { p.Version = "v3" })},
		{"update webhook URL", "WebhookUrl",
			hookUpdate(func(p *hookUpdP) { p.WebhookURL = "http://user:pw@example.com/x" }), hookUpdate(func(p *hookUpdP) { p.WebhookURL = "mailto:hooks@example.com" })},
		{"update event types", "EventTypes",
			hookUpdate(func(p *hookUpdP) { p.EventTypes = []EventType{EventFactorCreated} }),
			hookUpdate(func(p *hookUpdP) { p.EventTypes = []EventType{"factor.updated"} })},
		{"update webhook friendly name ≤ 64", "FriendlyName",
			hookUpdate(func(p *hookUpdP) { p.FriendlyName = n("u", 64) }), hookUpdate(func(p *hookUpdP) { p.FriendlyName = n("u", 65) })},

		// Entities, Factors and Webhooks lists.
		{"entities page size ≤ 1000", "PageSize",
			listEntities(func(p *ListParams) { p.PageSize = 1000 }), listEntities(func(p *ListParams) { p.PageSize = 1001 })},
		{"factors page size ≥ 1", "PageSize",
			listFactors(func(p *ListParams) { p.PageSize = 1 }), listFactors(func(p *ListParams) { p.PageSize = -1 })},
		{"webhooks limit ≥ 0", "Limit",
			listWebhooks(func(p *ListParams) { p.Limit = 0 }), listWebhooks(func(p *ListParams) { p.Limit = -1 })},
	})
}

// TestServiceAndVerificationValidation is the validation table of Services,
// Verifications and VerificationChecks: a passing and a failing value per
// rule, the failure naming the field as the API does.
func TestServiceAndVerificationValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type (
		svcP    = CreateServiceParams
		svcUpdP = UpdateServiceParams
		verP    = CreateVerificationParams
		chkP    = CheckVerificationParams
	)
	n := strings.Repeat
	svc := variant(svcP{FriendlyName: "Example"}, func(c *Client, p *svcP) error { return errOf(c.Services.Create(ctx, p)) })
	svcUpdate := variant(svcUpdP{}, func(c *Client, p *svcUpdP) error { return errOf(c.Services.Update(ctx, testService, p)) })
	totp := func(edit func(*TOTPSettings)) func(*Client) error {
		return svc(func(p *svcP) { p.TOTP = &TOTPSettings{}; edit(p.TOTP) })
	}
	passkeys := func(edit func(*PasskeySettings)) func(*Client) error {
		return svc(func(p *svcP) { p.Passkeys = &PasskeySettings{}; edit(p.Passkeys) })
	}
	fetchService := func(sid string) func(*Client) error {
		return func(c *Client) error { return errOf(c.Services.Fetch(ctx, sid)) }
	}
	listServices := variant(ListParams{}, func(c *Client, p *ListParams) error { return errOf(c.Services.ListPage(ctx, p)) })
	ver := variant(verP{To: testPhone, Channel: ChannelSMS}, func(c *Client, p *verP) error {
		return errOf(c.Verifications.Create(ctx, testService, p))
	})
	email := func(edit func(*verP)) func(*Client) error {
		return ver(func(p *verP) { p.To, p.Channel = "ada@example.com", ChannelEmail; edit(p) })
	}
	tags := func(count, keyLen int) StringMap {
		m := StringMap{}
		for i := range count {
			m[fmt.Sprintf("%0*d", keyLen, i)] = "v"
		}
		return m
	}
	fetchVerification := func(sid string) func(*Client) error {
		return func(c *Client) error { return errOf(c.Verifications.Fetch(ctx, testService, sid)) }
	}
	updateVerification := func(status VerificationStatus) func(*Client) error {
		return func(c *Client) error {
			return errOf(c.Verifications.Update(ctx, testService, testVerification, &UpdateVerificationParams{Status: status}))
		}
	}
	check := variant(chkP{To: testPhone, Code: NewSecret("123456")}, func(c *Client, p *chkP) error {
		return errOf(c.VerificationChecks.Create(ctx, testService, p))
	})
	runRules(t, []validationRule{
		// Services.
		{"service name required", "FriendlyName", svc(func(p *svcP) {}), svc(func(p *svcP) { p.FriendlyName = "" })},
		{"service name ≤ 30", "FriendlyName", svc(func(p *svcP) { p.FriendlyName = n("é", 30) }), svc(func(p *svcP) { p.FriendlyName = n("a", 31) })},
		{"service name UTF-8", "FriendlyName", svc(func(p *svcP) { p.FriendlyName = "Café" }), svc(func(p *svcP) { p.FriendlyName = "Caf\xe9" })},
		{"code length ≥ 4", "CodeLength", svc(func(p *svcP) { p.CodeLength = 4 }), svc(func(p *svcP) { p.CodeLength = 3 })},
		{"code length ≤ 10", "CodeLength", svc(func(p *svcP) { p.CodeLength = 10 }), svc(func(p *svcP) { p.CodeLength = 11 })},
		{"default template SID", "DefaultTemplateSid",
			svc(func(p *svcP) { p.DefaultTemplateSID = testTemplate }), svc(func(p *svcP) { p.DefaultTemplateSID = "HX" + testTemplate[2:] })},
		{"APN credential SID", "Push.ApnCredentialSid",
			svc(func(p *svcP) { p.Push = &PushSettings{APNCredentialSID: testAPNCred} }), svc(func(p *svcP) { p.Push = &PushSettings{APNCredentialSID: "CR123"} })},
		{"FCM credential SID", "Push.FcmCredentialSid",
			svc(func(p *svcP) { p.Push = &PushSettings{FCMCredentialSID: testFCMCred} }), svc(func(p *svcP) { p.Push = &PushSettings{FCMCredentialSID: testMsgService} })},
		{"service TOTP time step ≥ 20", "Totp.TimeStep",
			totp(func(s *TOTPSettings) { s.TimeStep = 20 * time.Second }), totp(func(s *TOTPSettings) { s.TimeStep = 19 * time.Second })},
		{"service TOTP time step in whole seconds", "Totp.TimeStep",
			totp(func(s *TOTPSettings) { s.TimeStep = 60 * time.Second }), totp(func(s *TOTPSettings) { s.TimeStep = 59500 * time.Millisecond })},
		{"service TOTP skew 0–2, 0 sendable", "Totp.Skew", totp(func(s *TOTPSettings) { s.Skew = Ptr(0) }), totp(func(s *TOTPSettings) { s.Skew = Ptr(3) })},
		{"service TOTP code length 3–8", "Totp.CodeLength",
			totp(func(s *TOTPSettings) { s.CodeLength = 3 }), totp(func(s *TOTPSettings) { s.CodeLength = 9 })},
		{"WhatsApp messaging service SID", "Whatsapp.MsgServiceSid",
			svc(func(p *svcP) { p.WhatsApp = &WhatsAppSettings{MsgServiceSID: testMsgService} }),
			svc(func(p *svcP) { p.WhatsApp = &WhatsAppSettings{MsgServiceSID: testService} })},
		{"passkey origins without commas", "Passkeys.RelyingParty.Origins[1]",
			passkeys(func(s *PasskeySettings) { s.RelyingParty.Origins = []string{"https://a.example", "https://b.example"} }),
			passkeys(func(s *PasskeySettings) {
				s.RelyingParty.Origins = []string{"https://a.example", "https://b.example,https://c.example"}
			})},
		{"passkey origins not empty", "Passkeys.RelyingParty.Origins[0]",
			passkeys(func(s *PasskeySettings) { s.RelyingParty.Origins = []string{"example.com"} }),
			passkeys(func(s *PasskeySettings) { s.RelyingParty.Origins = []string{""} })},
		{"authenticator attachment", "Passkeys.AuthenticatorAttachment",
			passkeys(func(s *PasskeySettings) { s.AuthenticatorAttachment = AuthenticatorAny }),
			passkeys(func(s *PasskeySettings) { s.AuthenticatorAttachment = "roaming" })},
		{"discoverable credentials", "Passkeys.DiscoverableCredentials",
			passkeys(func(s *PasskeySettings) { s.DiscoverableCredentials = PasskeyDiscouraged }),
			passkeys(func(s *PasskeySettings) { s.DiscoverableCredentials = "always" })},
		{"user verification", "Passkeys.UserVerification",
			passkeys(func(s *PasskeySettings) { s.UserVerification = PasskeyRequired }),
			passkeys(func(s *PasskeySettings) { s.UserVerification = "Required" })},
		{"update service name optional, ≤ 30", "FriendlyName",
			svcUpdate(func(p *svcUpdP) {}), svcUpdate(func(p *svcUpdP) { p.FriendlyName = n("u", 31) })},
		{"update service TOTP skew", "Totp.Skew",
			svcUpdate(func(p *svcUpdP) { p.TOTP = &TOTPSettings{Skew: Ptr(2)} }), svcUpdate(func(p *svcUpdP) { p.TOTP = &TOTPSettings{Skew: Ptr(-1)} })},
		{"service SID", "ServiceSid", fetchService(testService), fetchService("VE" + testService[2:])},
		{"services page size", "PageSize",
			listServices(func(p *ListParams) { p.PageSize = 1000 }), listServices(func(p *ListParams) { p.PageSize = 1001 })},

		// Verifications.Create.
		{"channel required", "Channel", ver(func(p *verP) {}), ver(func(p *verP) { p.Channel = "" })},
		{"channel known", "Channel", ver(func(p *verP) { p.Channel = ChannelWhatsApp }), ver(func(p *verP) { p.Channel = "SMS" })},
		{"to required", "To", ver(func(p *verP) {}), ver(func(p *verP) { p.To = "" })},
		{"to E.164 for sms", "To", ver(func(p *verP) { p.To = "+442071838750" }), ver(func(p *verP) { p.To = "+44 20 7183 8750" })},
		{"to E.164 without a national 0", "To", ver(func(p *verP) { p.To = "+12" }), ver(func(p *verP) { p.To = "+0442071838750" })},
		{"to E.164 at most 15 digits", "To", ver(func(p *verP) { p.To = "+" + n("1", 15) }), ver(func(p *verP) { p.To = "+" + n("1", 16) })},
		{"to E.164 for call", "To", ver(func(p *verP) { p.Channel = ChannelCall }), ver(func(p *verP) { p.Channel, p.To = ChannelCall, "15017122661" })},
		{"to E.164 for whatsapp", "To",
			ver(func(p *verP) { p.Channel = ChannelWhatsApp }), ver(func(p *verP) { p.Channel, p.To = ChannelWhatsApp, "whatsapp:"+testPhone })},
		{"to E.164 for sna", "To", ver(func(p *verP) { p.Channel = ChannelSNA }), ver(func(p *verP) { p.Channel, p.To = ChannelSNA, "ada@example.com" })},
		{"to an address for email", "To", email(func(p *verP) {}), email(func(p *verP) { p.To = testPhone })},
		{"to a bare address", "To", email(func(p *verP) { p.To = "ada.l+login@example.co.uk" }), email(func(p *verP) { p.To = "Ada <ada@example.com>" })},
		{"locale documented", "Locale", ver(func(p *verP) { p.Locale = "pt-BR" }), ver(func(p *verP) { p.Locale = "pt-PT" })},
		{"locale any case", "Locale", ver(func(p *verP) { p.Locale = "ZH-hk" }), ver(func(p *verP) { p.Locale = "klingon" })},
		{"custom code ≥ 4", "CustomCode", ver(func(p *verP) { p.CustomCode = NewSecret("1234") }), ver(func(p *verP) { p.CustomCode = NewSecret("123") })},
		{"custom code ≤ 10", "CustomCode",
			ver(func(p *verP) { p.CustomCode = NewSecret("ABCDEFGHIJ") }), ver(func(p *verP) { p.CustomCode = NewSecret("ABCDEFGHIJK") })},
		{"send digits", "SendDigits", ver(func(p *verP) { p.SendDigits = "ww1234#*" }), ver(func(p *verP) { p.SendDigits = "1234 ext" })},
		{"device IP", "DeviceIp", ver(func(p *verP) { p.DeviceIP = "203.0.113.7" }), ver(func(p *verP) { p.DeviceIP = "203.0.113.256" })},
		{"device IP without a zone", "DeviceIp", ver(func(p *verP) { p.DeviceIP = "fe80::1" }), ver(func(p *verP) { p.DeviceIP = "fe80::1%eth0" })},
		{"risk check", "RiskCheck", ver(func(p *verP) { p.RiskCheck = RiskCheckEnable }), ver(func(p *verP) { p.RiskCheck = "off" })},
		{"template SID", "TemplateSid", ver(func(p *verP) { p.TemplateSID = testTemplate }), ver(func(p *verP) { p.TemplateSID = testTemplate + "a" })},
		{"tags ≤ 10", "Tags", ver(func(p *verP) { p.Tags = tags(10, 1) }), ver(func(p *verP) { p.Tags = tags(11, 2) })},
		{"tag key ≤ 128", "Tags", ver(func(p *verP) { p.Tags = tags(1, 128) }), ver(func(p *verP) { p.Tags = tags(1, 129) })},
		{"tag value ≤ 128", "Tags",
			ver(func(p *verP) { p.Tags = StringMap{"k": n("é", 128)} }), ver(func(p *verP) { p.Tags = StringMap{"k": n("v", 129)} })},
		{"tags UTF-8", "Tags", ver(func(p *verP) { p.Tags = StringMap{"k": "∞"} }), ver(func(p *verP) { p.Tags = StringMap{"k": "\xff"} })},
		{"rate limits UTF-8", "RateLimits",
			ver(func(p *verP) { p.RateLimits = StringMap{"ip": "203.0.113.7"} }), ver(func(p *verP) { p.RateLimits = StringMap{"\xfe": "1"} })},
		{"template substitutions UTF-8", "TemplateCustomSubstitutions",
			ver(func(p *verP) { p.TemplateCustomSubstitutions = StringMap{"name": "Zoë"} }),
			ver(func(p *verP) { p.TemplateCustomSubstitutions = StringMap{"name": "Zo\xeb"} })},
		{"channel configuration is JSON", "ChannelConfiguration",
			email(func(p *verP) { p.ChannelConfiguration = JSONObject{"substitutions": map[string]any{"n": 1.5}} }),
			email(func(p *verP) { p.ChannelConfiguration = JSONObject{"substitutions": map[string]any{"n": math.NaN()}} })},
		{"channel configuration from is an address", "ChannelConfiguration",
			email(func(p *verP) {
				p.ChannelConfiguration = JSONObject{"from": "login@example.com", "from_name": "Example"}
			}),
			email(func(p *verP) { p.ChannelConfiguration = JSONObject{"from": "Example"} })},
		{"verification SID", "Sid", fetchVerification(testVerification), fetchVerification("VA" + testVerification[2:])},
		{"verification SID escaped", "Sid", fetchVerification(testVerification), fetchVerification("../" + testVerification[3:])},
		{"update status canceled or approved", "Status", updateVerification(VerificationApproved), updateVerification(VerificationExpired)},
		{"update status required", "Status", updateVerification(VerificationCanceled), updateVerification("")},

		// VerificationChecks.Create.
		{"check names a verification", "To", check(func(p *chkP) {}), check(func(p *chkP) { p.To = "" })},
		{"check by SID", "VerificationSid",
			check(func(p *chkP) { p.To, p.VerificationSID = "", testVerification }), check(func(p *chkP) { p.To, p.VerificationSID = "", testService })},
		{"check by To or SID, not both", "VerificationSid",
			check(func(p *chkP) { p.To, p.VerificationSID = "", testVerification }), check(func(p *chkP) { p.VerificationSID = testVerification })},
		{"check To a number or an address", "To", check(func(p *chkP) { p.To = "ada@example.com" }), check(func(p *chkP) { p.To = "5017122661" })},
		{"check code ≥ 4", "Code", check(func(p *chkP) { p.Code = NewSecret("0000") }), check(func(p *chkP) { p.Code = NewSecret("000") })},
		{"check code ≤ 10", "Code", check(func(p *chkP) { p.Code = NewSecret(n("9", 10)) }), check(func(p *chkP) { p.Code = NewSecret(n("9", 11)) })},
		{"check code UTF-8", "Code", check(func(p *chkP) { p.Code = NewSecret("ÄÖÜß") }), check(func(p *chkP) { p.Code = NewSecret("12\xff34") })},
	})
}

// validationRule is one limit: a call that keeps it and one that breaks it
// on field.
type validationRule struct {
	rule       string
	field      string
	pass, fail func(*Client) error
}

// runRules sends each rule's passing call, which must be sent once, and its
// failing call, which must fail with a *ValidationError naming the field and
// send nothing.
func runRules(t *testing.T, rules []validationRule) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.rule, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, WithMaxRetries(0))
			h.mock.RegisterNoResponder(bodyResponder(200, golden(t, "fetch.json")))
			if err := r.pass(h.client); err != nil {
				t.Errorf("passing value rejected: %v", err)
			}
			if n := len(h.requests()); n != 1 {
				t.Errorf("passing value sent %d requests, want 1", n)
			}
			err := r.fail(h.client)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("failing value: err = %v, want *ValidationError", err)
			}
			if ve.Field != r.field || !strings.Contains(err.Error(), r.field) || ve.Rule == "" {
				t.Errorf("error %q names field %q, want %q", err, ve.Field, r.field)
			}
			if n := len(h.requests()); n != 1 {
				t.Errorf("failing value was sent (%d requests in all)", n)
			}
		})
	}
}

// TestWebhookURLErrorsNameTheRuleNeverTheURL: a refused webhook URL is a
// *ValidationError for WebhookUrl that says which rule it broke, and never
// quotes the URL, whose user info may hold a password.
func TestWebhookURLErrorsNameTheRuleNeverTheURL(t *testing.T) {
	t.Parallel()
	const (
		scheme = "an absolute http or https URL"
		host   = "must name a host"
		chars  = "spaces or control characters"
	)
	for _, tc := range []struct{ url, rule string }{
		{"ftp://ada:s3cr3t-pw@hooks.example.com/verify", scheme},
		{"//ada:s3cr3t-pw@hooks.example.com/verify", scheme},
		{"hooks.example.com/verify?pw=s3cr3t-pw", scheme},
		{"https:ada:s3cr3t-pw@hooks.example.com", scheme},
		{"https://ada:s3cr3t-pw@hooks.example.com:port/verify", scheme},
		{"https://ada:s3cr3t-pw@/verify", host},
		{"https://ada:s3cr3t-pw@:8443/hooks.example.com", host},
		{"https://ada:s3cr3t-pw@hooks.example.com/a b", chars},
		{"https://ada:s3cr3t-pw@hooks.example.com/\x00", chars},
		{"\thttps://ada:s3cr3t-pw@hooks.example.com/verify", chars},
	} {
		h := newHarness(t, WithMaxRetries(0))
		_, createErr := h.client.Webhooks.Create(context.Background(), testService,
			&CreateWebhookParams{FriendlyName: "login", WebhookURL: tc.url, EventTypes: []EventType{EventAll}})
		_, updateErr := h.client.Webhooks.Update(context.Background(), testService, testWebhook, &UpdateWebhookParams{WebhookURL: tc.url})
		for _, err := range []error{createErr, updateErr} {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "WebhookUrl" || !strings.Contains(ve.Rule, tc.rule) {
				t.Errorf("%q: %v, want a WebhookUrl *ValidationError saying %q", tc.url, err, tc.rule)
				continue
			}
			if msg := err.Error(); strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "hooks.example.com") || strings.Contains(msg, "ada") {
				t.Errorf("%q: the error quotes the URL: %s", tc.url, msg)
			}
		}
		if n := len(h.requests()); n != 0 {
			t.Errorf("%q: %d requests sent, want none", tc.url, n)
		}
	}
}

func TestValidationErrorsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	secret := "SECRET-" + strings.Repeat("x", 5460)
	_, err := h.client.Challenges.Update(context.Background(), testService, testIdentity, testChallenge,
		&UpdateChallengeParams{AuthPayload: NewSecret(secret)})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
	_, err = h.client.Challenges.Create(context.Background(), testService, testIdentity,
		&CreateChallengeParams{FactorSID: testFactor, HiddenDetails: NewSecretMap(map[string]string{"k": secret})})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
	// A TOTP secret that is not base32, a factor's payload over its cap.
	_, err = h.client.Factors.CreateTOTP(context.Background(), testService, testIdentity,
		&CreateTOTPFactorParams{FriendlyName: "phone", Secret: NewSecret("SECRET-NOT-BASE32-1")})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
	_, err = h.client.Factors.Verify(context.Background(), testService, testIdentity, testFactor, &VerifyFactorParams{AuthPayload: NewSecret(secret)})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
	// A custom code and a typed code over their caps.
	_, err = h.client.Verifications.Create(context.Background(), testService,
		&CreateVerificationParams{To: testPhone, Channel: ChannelSMS, CustomCode: NewSecret("SECRET-CODE"), CustomMessage: NewSecret(secret)})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
	_, err = h.client.VerificationChecks.Create(context.Background(), testService,
		&CheckVerificationParams{To: testPhone, Code: NewSecret("SECRET-CODE")})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("invalid secrets sent %d requests", n)
	}
}

// variant makes calls that send a copy of base changed by one edit, so a
// validation row names only the field it is about.
func variant[P any](base P, send func(*Client, *P) error) func(edit func(*P)) func(*Client) error {
	return func(edit func(*P)) func(*Client) error {
		return func(c *Client) error {
			p := base
			edit(&p)
			return send(c, &p)
		}
	}
}

// p384PublicKey is base64 DER of a P-384 key: valid SPKI, the wrong curve for ES256.
func p384PublicKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// errOf keeps the error of a call that also returns a value.
func errOf[T any](_ T, err error) error { return err }

// TestNilParamsNameTheMissingField: nil params are the zero params, so the
// first required field is reported and nothing is sent.
func TestNilParamsNameTheMissingField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	for _, tc := range []struct {
		field string
		call  func() error
	}{
		{"FriendlyName", func() error { _, err := h.client.Factors.CreateTOTP(ctx, testService, testIdentity, nil); return err }},
		{"FriendlyName", func() error { _, err := h.client.Factors.CreatePush(ctx, testService, testIdentity, nil); return err }},
		{"Identity", func() error { _, err := h.client.AccessTokens.Create(ctx, testService, "", nil); return err }},
		{"AuthPayload", func() error {
			_, err := h.client.Factors.Verify(ctx, testService, testIdentity, testFactor, nil)
			return err
		}},
		{"FriendlyName", func() error { _, err := h.client.Webhooks.Create(ctx, testService, nil); return err }},
		{"FriendlyName", func() error { _, err := h.client.Services.Create(ctx, nil); return err }},
		{"Channel", func() error { _, err := h.client.Verifications.Create(ctx, testService, nil); return err }},
		{"Status", func() error {
			_, err := h.client.Verifications.Update(ctx, testService, testVerification, nil)
			return err
		}},
		{"To", func() error { _, err := h.client.VerificationChecks.Create(ctx, testService, nil); return err }},
		{"AuthPayload", func() error {
			_, err := h.client.Challenges.Update(ctx, testService, testIdentity, testChallenge, nil)
			return err
		}},
	} {
		var ve *ValidationError
		if err := tc.call(); !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("err = %v, want a *ValidationError for %s", err, tc.field)
		}
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("nil params sent %d requests", n)
	}
}
