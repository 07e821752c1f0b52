package verify

import (
	"context"
	"errors"
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
	notify := func(ttl int) func(*Client) error {
		return func(c *Client) error {
			_, err := c.Challenges.Notify(ctx, testService, testIdentity, testChallenge, &NotifyParams{TTL: &ttl})
			return err
		}
	}
	now := time.Now()
	rules := []struct {
		rule       string
		field      string
		pass, fail func(*Client) error
	}{
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
			create(CreateChallengeParams{HiddenDetails: map[string]string{"ip": "∞"}}), create(CreateChallengeParams{HiddenDetails: map[string]string{"ip": "\xfe"}})},
		{"hidden details ≤ 1024", "HiddenDetails",
			create(CreateChallengeParams{HiddenDetails: bigMap(1024)}), create(CreateChallengeParams{HiddenDetails: bigMap(1025)})},
		{"TOTP code ≥ 3", "AuthPayload",
			create(CreateChallengeParams{AuthPayload: "123"}), create(CreateChallengeParams{AuthPayload: "12"})},
		{"TOTP code ≤ 8", "AuthPayload",
			create(CreateChallengeParams{AuthPayload: "12345678"}), create(CreateChallengeParams{AuthPayload: "123456789"})},
		{"auth payload ≤ 5456", "AuthPayload",
			update(UpdateChallengeParams{AuthPayload: strings.Repeat("a", 5456)}), update(UpdateChallengeParams{AuthPayload: strings.Repeat("a", 5457)})},
		{"metadata ≤ 1024", "Metadata",
			update(UpdateChallengeParams{AuthPayload: "123456", Metadata: bigMap(1024)}),
			update(UpdateChallengeParams{AuthPayload: "123456", Metadata: bigMap(1025)})},
		{"update AuthPayload required", "AuthPayload",
			update(UpdateChallengeParams{AuthPayload: "1"}), update(UpdateChallengeParams{Metadata: map[string]string{"os": "x"}})},
		{"page size ≥ 1", "PageSize",
			list(ListChallengesParams{PageSize: 1}), list(ListChallengesParams{PageSize: -1})},
		{"page size ≤ 1000", "PageSize",
			list(ListChallengesParams{PageSize: 1000}), list(ListChallengesParams{PageSize: 1001})},
		{"status filter", "Status",
			list(ListChallengesParams{Status: StatusExpired}), list(ListChallengesParams{Status: "Pending"})},
		{"order", "Order",
			list(ListChallengesParams{Order: OrderAsc}), list(ListChallengesParams{Order: "up"})},
		{"list factor SID", "FactorSid",
			list(ListChallengesParams{FactorSID: testFactor}), list(ListChallengesParams{FactorSID: "YF123"})},
		{"ttl ≥ 0", "Ttl", notify(0), notify(-1)},
		{"ttl ≤ 300", "Ttl", notify(300), notify(301)},
	}
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

func TestValidationErrorsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	secret := "SECRET-" + strings.Repeat("x", 5460)
	_, err := h.client.Challenges.Update(context.Background(), testService, testIdentity, testChallenge,
		&UpdateChallengeParams{AuthPayload: secret})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
	_, err = h.client.Challenges.Create(context.Background(), testService, testIdentity,
		&CreateChallengeParams{FactorSID: testFactor, HiddenDetails: map[string]string{"k": secret}})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %.80v", err)
	}
}
