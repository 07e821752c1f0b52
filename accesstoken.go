package verify

import (
	"context"
	"net/url"
	"time"
)

// Limits on access tokens.
const (
	MinAccessTokenTTL = 60 * time.Second
	MaxAccessTokenTTL = 300 * time.Second
)

// AccessToken lets your mobile app enroll a push factor for one identity
// without your credentials: hand Token.Reveal() to the app, whose Verify
// Push SDK creates and verifies the factor with it. Its JSON form is the
// API's, ttl in seconds and the token redacted.
type AccessToken struct {
	SID                string        `json:"sid"`                  // YK…, 34 characters
	AccountSID         string        `json:"account_sid"`          // AC…
	ServiceSID         string        `json:"service_sid"`          // VA…
	EntityIdentity     string        `json:"entity_identity"`      // the identity the app may enroll
	FactorType         FactorType    `json:"factor_type"`          // always push
	FactorFriendlyName string        `json:"factor_friendly_name"` // the name the new factor will get
	Token              Secret        `json:"token"`                // the secret to hand to the app: Token.Reveal()
	TTL                time.Duration `json:"-"`                    // how long the token is valid, 60–300 s
	DateCreated        time.Time     `json:"date_created"`         // when it was created
	URL                string        `json:"url"`                  // the access token's absolute API URL
}

// String is a one-line summary for logs and fmt.Println, without the token.
func (t AccessToken) String() string {
	return "access token " + t.SID + " for " + t.EntityIdentity + " (" + string(t.FactorType) + ", ttl " + t.TTL.String() + ")"
}

// CreateAccessTokenParams are the inputs of AccessTokens.Create beside the
// identity; zero fields are not sent. The factor type is always push.
type CreateAccessTokenParams struct {
	FactorFriendlyName string        `url:"FactorFriendlyName,omitempty"` // up to 64 characters, such as "Ada's phone"
	TTL                time.Duration `url:"-"`                            // 60–300 s in whole seconds; 0: the API's default, 60 s
}

// addForm sends TTL in whole seconds.
func (p *CreateAccessTokenParams) addForm(form url.Values) {
	setSeconds(form, "Ttl", nonZero(p.TTL))
}

// AccessTokenService creates and fetches enrollment tokens; use Client.AccessTokens.
type AccessTokenService struct {
	client *Client
}

// Create makes a token your app uses to enroll a push factor for identity.
// The token is a secret: send it to that user's app only. params may be nil.
func (s *AccessTokenService) Create(ctx context.Context, serviceSID, identity string, params *CreateAccessTokenParams) (*AccessToken, error) {
	u, err := s.client.serviceURL(serviceSID, "AccessTokens")
	if err != nil {
		return nil, err
	}
	if err := ValidateIdentity(identity); err != nil {
		return nil, err
	}
	return postValid[AccessToken](ctx, s.client, u, params, "Identity", identity, "FactorType", string(FactorTypePush))
}

// Fetch reads an access token.
func (s *AccessTokenService) Fetch(ctx context.Context, serviceSID, tokenSID string) (*AccessToken, error) {
	u, err := s.client.serviceURL(serviceSID, "AccessTokens")
	if err != nil {
		return nil, err
	}
	if err := checkSID("Sid", tokenSID, "YK"); err != nil {
		return nil, err
	}
	return get[AccessToken](ctx, s.client, u+"/"+url.PathEscape(tokenSID))
}
