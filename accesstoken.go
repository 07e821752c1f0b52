package verify

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Limits on access tokens.
const (
	MinAccessTokenTTL = 60  // seconds
	MaxAccessTokenTTL = 300 // seconds
)

// AccessToken lets your mobile app enroll a push factor for one identity
// without your credentials: hand Token to the app, whose Verify Push SDK
// creates and verifies the factor with it.
type AccessToken struct {
	SID                string     `json:"sid"`                  // YK…, 34 characters
	AccountSID         string     `json:"account_sid"`          // AC…
	ServiceSID         string     `json:"service_sid"`          // VA…
	EntityIdentity     string     `json:"entity_identity"`      // the identity the app may enroll
	FactorType         FactorType `json:"factor_type"`          // always push
	FactorFriendlyName string     `json:"factor_friendly_name"` // the name the new factor will get
	Token              string     `json:"token"`                // the secret to hand to the app; never logged or printed
	TTL                int        `json:"ttl"`                  // seconds the token is valid, 60–300
	DateCreated        time.Time  `json:"date_created"`         // when it was created
	URL                string     `json:"url"`                  // the access token's absolute API URL
}

// Format prints an AccessToken with its Token redacted, whatever the verb.
func (t AccessToken) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "verify.AccessToken{SID: %s, AccountSID: %s, ServiceSID: %s, EntityIdentity: %s, FactorType: %s, "+
		"FactorFriendlyName: %q, Token: %q, TTL: %d, DateCreated: %s, URL: %s}",
		t.SID, t.AccountSID, t.ServiceSID, t.EntityIdentity, t.FactorType,
		t.FactorFriendlyName, redacted(t.Token), t.TTL, t.DateCreated.Format(time.RFC3339), t.URL)
}

// LogValue gives log/slog an AccessToken with its Token redacted, so that
// no handler (a JSON one included) writes it out.
func (t AccessToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sid", t.SID), slog.String("entity_identity", t.EntityIdentity),
		slog.String("factor_type", string(t.FactorType)), slog.String("factor_friendly_name", t.FactorFriendlyName),
		slog.String("token", redacted(t.Token)), slog.Int("ttl", t.TTL), slog.Time("date_created", t.DateCreated))
}

// CreateAccessTokenParams are the inputs of AccessTokens.Create; zero fields
// are not sent. The factor type is always push.
type CreateAccessTokenParams struct {
	Identity           string `url:"Identity"`                     // required: the entity the app enrolls for
	FactorFriendlyName string `url:"FactorFriendlyName,omitempty"` // up to 64 characters, such as "Ada's phone"
	TTL                int    `url:"Ttl,omitempty"`                // seconds, 60–300; 0: the API's default, 60
}

// AccessTokenService creates and fetches enrollment tokens; use Client.AccessTokens.
type AccessTokenService struct {
	client *Client
}

// Create makes a token your app uses to enroll a push factor for
// params.Identity. The token is a secret: send it to that user's app only.
func (s *AccessTokenService) Create(ctx context.Context, serviceSID string, params *CreateAccessTokenParams) (*AccessToken, error) {
	path, err := servicePath(serviceSID, "AccessTokens")
	if err != nil {
		return nil, err
	}
	return postValid[AccessToken](ctx, s.client, path, params, "FactorType", string(FactorTypePush))
}

// Fetch reads an access token.
func (s *AccessTokenService) Fetch(ctx context.Context, serviceSID, tokenSID string) (*AccessToken, error) {
	path, err := servicePath(serviceSID, "AccessTokens")
	if err != nil {
		return nil, err
	}
	if err := checkSID("Sid", tokenSID, "YK"); err != nil {
		return nil, err
	}
	return get[AccessToken](ctx, s.client, path+"/"+url.PathEscape(tokenSID))
}
