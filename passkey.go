package verify

import (
	"context"
	"encoding/json"
)

// PasskeyFactor is a passkey factor as the Passkeys endpoints return it:
// the Factor, and from CreateFactor the WebAuthn options the browser
// registers the passkey with.
type PasskeyFactor struct {
	Factor
	Options PasskeyCreationOptions `json:"options"` // CreateFactor only: hand Options.BrowserJSON() to the browser
}

// PasskeyChallenge is a passkey login as the Passkeys endpoints return it:
// the Challenge, and the WebAuthn options the browser signs it with.
type PasskeyChallenge struct {
	Challenge
	Options PasskeyRequestOptions `json:"options"` // hand Options.BrowserJSON() to the browser
}

// SignedIn is who an approved challenge proves signed in: its Identity,
// with ok true only when the challenge is approved and names one. In a
// usernameless login this is the only place the user is named; never log
// in an empty identity.
func (c *PasskeyChallenge) SignedIn() (identity string, ok bool) {
	if c == nil || !c.Status.IsApproved() || c.Identity == "" {
		return "", false
	}
	return c.Identity, true
}

// CreatePasskeyFactorParams are the inputs of Passkeys.CreateFactor.
type CreatePasskeyFactorParams struct {
	Identity     string           // required: your id for the user, 8–64 dash-separated letters and digits
	FriendlyName string           // required, up to 64 characters: the passkey's name, such as "laptop"
	Config       *PasskeySettings // nil or empty: the service's settings; else it needs all three criteria
}

// CreatePasskeyChallengeParams are the inputs of Passkeys.CreateChallenge;
// empty fields are not sent. With neither set (or nil params) the login is
// usernameless: any passkey the service registered may answer, and the
// approved challenge says whose it was.
type CreatePasskeyChallengeParams struct {
	Identity  string // the user signing in, as at CreateFactor
	FactorSID string // YF…: only this passkey may answer
}

// PasskeyService registers passkeys and logs users in with them; use
// Client.Passkeys. Its endpoints take JSON bodies; the retry, timeout and
// logging rules are those of every other call.
type PasskeyService struct {
	client *Client
}

// CreateFactor starts registering a passkey for params.Identity (creating
// the entity if needed). The factor is unverified until VerifyFactor gets
// the browser's answer to f.Options.
func (s *PasskeyService) CreateFactor(ctx context.Context, serviceSID string, params *CreatePasskeyFactorParams) (*PasskeyFactor, error) {
	u, err := s.client.serviceURL(serviceSID, "Passkeys/Factors")
	if err != nil {
		return nil, err
	}
	if params == nil {
		params = new(CreatePasskeyFactorParams)
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(params.wire())
	if err != nil {
		return nil, err
	}
	return postJSON[PasskeyFactor](ctx, s.client, u, body)
}

// VerifyFactor completes a registration with registration, the browser's
// credential.toJSON() after navigator.credentials.create(), sent as it is
// once ValidatePasskeyRegistration accepts it. The factor comes back
// verified when Verify accepted the passkey.
func (s *PasskeyService) VerifyFactor(ctx context.Context, serviceSID string, registration json.RawMessage) (*PasskeyFactor, error) {
	u, err := s.client.serviceURL(serviceSID, "Passkeys/VerifyFactor")
	if err != nil {
		return nil, err
	}
	if err := ValidatePasskeyRegistration(registration); err != nil {
		return nil, err
	}
	return postJSON[PasskeyFactor](ctx, s.client, u, registration)
}

// CreateChallenge starts a passkey login: for params.Identity, for one
// factor, or (nil params) usernameless. Hand ch.Options.BrowserJSON() to
// the browser's navigator.credentials.get().
func (s *PasskeyService) CreateChallenge(ctx context.Context, serviceSID string, params *CreatePasskeyChallengeParams) (*PasskeyChallenge, error) {
	u, err := s.client.serviceURL(serviceSID, "Passkeys/Challenges")
	if err != nil {
		return nil, err
	}
	if params == nil {
		params = new(CreatePasskeyChallengeParams)
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(params.wire())
	if err != nil {
		return nil, err
	}
	return postJSON[PasskeyChallenge](ctx, s.client, u, body)
}

// ApproveChallenge answers a login with assertion, the browser's
// credential.toJSON() after navigator.credentials.get(), sent as it is once
// ValidatePasskeyAssertion accepts it. A signature that does not verify is
// an error matching ErrVerificationFailed; on success ch.SignedIn() names
// the user, usernameless logins included.
func (s *PasskeyService) ApproveChallenge(ctx context.Context, serviceSID string, assertion json.RawMessage) (*PasskeyChallenge, error) {
	u, err := s.client.serviceURL(serviceSID, "Passkeys/ApproveChallenge")
	if err != nil {
		return nil, err
	}
	if err := ValidatePasskeyAssertion(assertion); err != nil {
		return nil, err
	}
	return postJSON[PasskeyChallenge](ctx, s.client, u, assertion)
}

// Validate checks the identity, the name and the config, naming fields as
// the JSON body does ("config.user_verification").
func (p *CreatePasskeyFactorParams) Validate() error {
	if err := checkJSONIdentity(p.Identity, true); err != nil {
		return err
	}
	if err := checkText("friendly_name", p.FriendlyName, MaxFriendlyNameLength, true); err != nil {
		return err
	}
	c := p.Config
	if c == nil {
		return nil
	}
	if err := c.check(factorPasskeyFields); err != nil {
		return err
	}
	if c.RelyingParty.ID == "" && c.RelyingParty.Name == "" && len(c.RelyingParty.Origins) == 0 &&
		c.AuthenticatorAttachment == "" && c.DiscoverableCredentials == "" && c.UserVerification == "" {
		return nil // not sent: the service's settings apply
	}
	// With a config Verify takes the authenticator criteria from it alone,
	// not from the service (error 60393).
	const rule = "is required when Config is set: Verify then reads none of the service's passkey settings"
	switch {
	case c.AuthenticatorAttachment == "":
		return invalid("config.authenticator_attachment", rule)
	case c.DiscoverableCredentials == "":
		return invalid("config.discoverable_credentials", rule)
	case c.UserVerification == "":
		return invalid("config.user_verification", rule)
	}
	return nil
}

// Validate checks whichever of the identity and the factor SID are set.
func (p *CreatePasskeyChallengeParams) Validate() error {
	if err := checkJSONIdentity(p.Identity, false); err != nil {
		return err
	}
	return checkOptionalSID("factor_sid", p.FactorSID, "YF")
}

// checkJSONIdentity is ValidateIdentity for the identity of a JSON body.
func checkJSONIdentity(identity string, required bool) error {
	switch {
	case identity == "" && required:
		return invalid("identity", "is required: your id for the user, 8 to 64 dash-separated letters and digits")
	case identity == "":
		return nil
	}
	if err := ValidateIdentity(identity); err != nil {
		return invalid("identity", "%s", err.(*ValidationError).Rule)
	}
	return nil
}

// passkeyFactorBody is CreateFactor's JSON body; unset fields are left out.
type passkeyFactorBody struct {
	FriendlyName string             `json:"friendly_name"`
	Identity     string             `json:"identity"`
	Config       *passkeyConfigBody `json:"config,omitempty"`
}

type passkeyConfigBody struct {
	RelyingParty            *passkeyRelyingPartyBody `json:"relying_party,omitempty"`
	AuthenticatorAttachment AuthenticatorAttachment  `json:"authenticator_attachment,omitempty"`
	DiscoverableCredentials PasskeyRequirement       `json:"discoverable_credentials,omitempty"`
	UserVerification        PasskeyRequirement       `json:"user_verification,omitempty"`
}

type passkeyRelyingPartyBody struct {
	ID      string   `json:"id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Origins []string `json:"origins,omitempty"`
}

func (p *CreatePasskeyFactorParams) wire() passkeyFactorBody {
	body := passkeyFactorBody{FriendlyName: p.FriendlyName, Identity: p.Identity}
	c := p.Config
	if c == nil {
		return body
	}
	cfg := passkeyConfigBody{AuthenticatorAttachment: c.AuthenticatorAttachment,
		DiscoverableCredentials: c.DiscoverableCredentials, UserVerification: c.UserVerification}
	if rp := c.RelyingParty; rp.ID != "" || rp.Name != "" || len(rp.Origins) > 0 {
		cfg.RelyingParty = &passkeyRelyingPartyBody{ID: rp.ID, Name: rp.Name, Origins: rp.Origins}
	}
	if cfg != (passkeyConfigBody{}) {
		// An empty config is not sent: Verify reads a config that is there,
		// even empty, instead of the service's settings.
		body.Config = &cfg
	}
	return body
}

// passkeyChallengeBody is CreateChallenge's JSON body: {} when usernameless.
type passkeyChallengeBody struct {
	Identity  string `json:"identity,omitempty"`
	FactorSID string `json:"factor_sid,omitempty"`
}

func (p *CreatePasskeyChallengeParams) wire() passkeyChallengeBody {
	return passkeyChallengeBody{Identity: p.Identity, FactorSID: p.FactorSID}
}
