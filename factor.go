package verify

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// FactorStatus says whether a factor has proved it works.
type FactorStatus string

// Factor statuses. A factor is unverified until its first code (TOTP) or
// signature (push) checks out; challenges on it fail with
// ErrFactorNotVerified until then.
const (
	FactorStatusUnverified FactorStatus = "unverified"
	FactorStatusVerified   FactorStatus = "verified"
)

// TOTPAlgorithm is the HMAC a TOTP factor's codes are computed with.
type TOTPAlgorithm string

// TOTP algorithms; authenticator apps all support SHA1, the API's default.
const (
	TOTPAlgorithmSHA1   TOTPAlgorithm = "sha1"
	TOTPAlgorithmSHA256 TOTPAlgorithm = "sha256"
	TOTPAlgorithmSHA512 TOTPAlgorithm = "sha512"
)

// NotificationPlatform is how pushes reach a device.
type NotificationPlatform string

// Notification platforms: Apple, Firebase, or none (the app polls).
const (
	NotificationPlatformAPN  NotificationPlatform = "apn"
	NotificationPlatformFCM  NotificationPlatform = "fcm"
	NotificationPlatformNone NotificationPlatform = "none"
)

// Limits on factors the API enforces; the SDK checks them before sending.
const (
	MaxFriendlyNameLength      = 64
	MinTOTPTimeStep            = 20 * time.Second
	MaxTOTPTimeStep            = 60 * time.Second
	MaxTOTPSkew                = 2 // steps either side
	MaxAppIDLength             = 100
	MinNotificationTokenLength = 32
	MaxNotificationTokenLength = 255
)

// Factor is one way an entity proves who they are: a TOTP app, a push
// device or a passkey. Its secret is not part of it; see NewFactor.
type Factor struct {
	SID          string       `json:"sid"`           // YF…, 34 characters
	AccountSID   string       `json:"account_sid"`   // AC…
	ServiceSID   string       `json:"service_sid"`   // VA…
	EntitySID    string       `json:"entity_sid"`    // YE…
	Identity     string       `json:"identity"`      // the entity's identity
	DateCreated  time.Time    `json:"date_created"`  // when it was created
	DateUpdated  time.Time    `json:"date_updated"`  // when it last changed
	FriendlyName string       `json:"friendly_name"` // up to 64 characters, such as a device name
	Status       FactorStatus `json:"status"`        // unverified until its first code or signature
	FactorType   FactorType   `json:"factor_type"`   // push or totp (passkeys on the live API)
	Config       FactorConfig `json:"config"`        // the settings of its type
	Metadata     StringMap    `json:"metadata"`      // what the device attached, such as {"os":"Android"}
	URL          string       `json:"url"`           // the factor's absolute API URL
}

// String is a one-line summary for logs and fmt.Println: "factor YF… totp
// verified "Ada's phone" for <identity>". A NewFactor prints the same,
// without its Binding.
func (f Factor) String() string {
	return "factor " + f.SID + " " + string(f.FactorType) + " " + string(f.Status) + " " +
		strconv.Quote(f.FriendlyName) + " for " + f.Identity
}

// FactorConfig holds a factor's settings; only the fields of its type are
// set. Its JSON form is the API's, time_step in seconds. RelyingParty is a
// pointer so that configs stay comparable with ==; compare two passkey
// configs' relying parties by value.
type FactorConfig struct {
	// TOTP
	Alg        TOTPAlgorithm `json:"alg"`         // sha1, sha256 or sha512
	Skew       int           `json:"skew"`        // steps accepted either side of now, 0–2
	CodeLength int           `json:"code_length"` // digits, 3–8
	TimeStep   time.Duration `json:"-"`           // how long each code lasts, 20–60 s

	// Push
	SDKVersion           string               `json:"sdk_version"`           // the Verify Push SDK on the device
	AppID                string               `json:"app_id"`                // the app's store id, such as com.example.myapp
	NotificationPlatform NotificationPlatform `json:"notification_platform"` // apn, fcm or none
	NotificationToken    string               `json:"notification_token"`    // the device's push token

	// Passkeys
	RelyingParty            *PasskeyRelyingParty    `json:"relying_party"`            // who the passkey is for; nil for other types
	AuthenticatorAttachment AuthenticatorAttachment `json:"authenticator_attachment"` // platform, cross-platform or any
	DiscoverableCredentials PasskeyRequirement      `json:"discoverable_credentials"` // required, preferred or discouraged
	UserVerification        PasskeyRequirement      `json:"user_verification"`        // required, preferred or discouraged
}

// NewFactor is a factor as Create returns it: with its Binding, which the
// API returns only then. Keep the secret only as long as enrollment needs it.
type NewFactor struct {
	Factor
	Binding Binding `json:"binding"` // returned by Create only; never by Fetch, Update or List
}

// Binding is a factor's key material, returned only when the factor is
// created. It never appears in errors, logs or %v output.
type Binding struct {
	Secret    Secret `json:"secret"`     // TOTP: the base32 seed for an authenticator app
	URI       Secret `json:"uri"`        // TOTP: the otpauth:// URI to show as a QR code; it holds the seed
	PublicKey string `json:"public_key"` // push: the device's key, base64 DER SubjectPublicKeyInfo
	Alg       string `json:"alg"`        // push: ES256
}

// CreateTOTPFactorParams are the inputs of Factors.CreateTOTP; zero fields
// are not sent and take the service's defaults.
type CreateTOTPFactorParams struct {
	FriendlyName string        `url:"FriendlyName"`                // required, up to 64 characters; the account name in the URI
	Secret       Secret        `url:"Binding.Secret,omitempty"`    // base32 seed; empty: the API makes one
	TimeStep     time.Duration `url:"-"`                           // how long each code lasts, 20–60 s in whole seconds
	Skew         *int          `url:"Config.Skew,omitempty"`       // steps either side, 0–2; nil: the service's default, Ptr(0) sends 0
	CodeLength   int           `url:"Config.CodeLength,omitempty"` // digits, 3–8
	Alg          TOTPAlgorithm `url:"Config.Alg,omitempty"`        // sha1, sha256 or sha512
	Metadata     StringMap     `url:"Metadata,omitempty"`          // JSON up to 1024 characters
}

// CreatePushFactorParams are the inputs of Factors.CreatePush: what the
// mobile SDK sends when a device enrolls itself, usually with an access
// token rather than your credentials.
type CreatePushFactorParams struct {
	FriendlyName         string               `url:"FriendlyName"`                       // required, up to 64 characters
	PublicKey            string               `url:"Binding.PublicKey"`                  // required: base64 DER SubjectPublicKeyInfo of a P-256 key
	AppID                string               `url:"Config.AppId"`                       // required, up to 100 characters
	NotificationPlatform NotificationPlatform `url:"Config.NotificationPlatform"`        // required: apn, fcm or none
	NotificationToken    string               `url:"Config.NotificationToken,omitempty"` // 32–255 characters; required unless the platform is none
	SDKVersion           string               `url:"Config.SdkVersion"`                  // required
	Metadata             StringMap            `url:"Metadata,omitempty"`                 // JSON up to 1024 characters
}

// UpdateFactorParams are the inputs of Factors.Update; zero fields are not sent.
type UpdateFactorParams struct {
	AuthPayload          Secret               `url:"AuthPayload,omitempty"`                 // verifies the factor; Factors.Verify sends only this
	FriendlyName         string               `url:"FriendlyName,omitempty"`                // up to 64 characters
	NotificationToken    string               `url:"Config.NotificationToken,omitempty"`    // push: 32–255 characters
	SDKVersion           string               `url:"Config.SdkVersion,omitempty"`           // push
	NotificationPlatform NotificationPlatform `url:"Config.NotificationPlatform,omitempty"` // push: apn, fcm or none
	TimeStep             time.Duration        `url:"-"`                                     // TOTP: 20–60 s in whole seconds
	Skew                 *int                 `url:"Config.Skew,omitempty"`                 // TOTP: 0–2; Ptr(0) sends 0
	CodeLength           int                  `url:"Config.CodeLength,omitempty"`           // TOTP: 3–8
	Alg                  TOTPAlgorithm        `url:"Config.Alg,omitempty"`                  // TOTP: sha1, sha256 or sha512
}

// addForm sends TimeStep in whole seconds.
func (p *CreateTOTPFactorParams) addForm(form url.Values) {
	setSeconds(form, "Config.TimeStep", nonZero(p.TimeStep))
}

// addForm sends TimeStep in whole seconds.
func (p *UpdateFactorParams) addForm(form url.Values) {
	setSeconds(form, "Config.TimeStep", nonZero(p.TimeStep))
}

// FactorService enrolls, verifies, updates, deletes and lists factors; use Client.Factors.
type FactorService struct {
	client *Client
}

// CreateTOTP enrolls a TOTP factor for identity (creating the entity if
// needed). Show f.Binding.URI as a QR code, then Verify the first code the
// user's app shows: until then the factor is unverified.
func (s *FactorService) CreateTOTP(ctx context.Context, serviceSID, identity string, params *CreateTOTPFactorParams) (*NewFactor, error) {
	u, err := s.client.factorsURL(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	return postValid[NewFactor](ctx, s.client, u, params, "FactorType", string(FactorTypeTOTP))
}

// CreatePush enrolls a push factor with a device's public key. The mobile
// SDK normally does this itself with an access token (AccessTokens.Create);
// this is for servers and tests that hold the key.
func (s *FactorService) CreatePush(ctx context.Context, serviceSID, identity string, params *CreatePushFactorParams) (*NewFactor, error) {
	u, err := s.client.factorsURL(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	return postValid[NewFactor](ctx, s.client, u, params, "FactorType", string(FactorTypePush), "Binding.Alg", "ES256")
}

// Fetch reads one factor (without its Binding).
func (s *FactorService) Fetch(ctx context.Context, serviceSID, identity, factorSID string) (*Factor, error) {
	u, err := s.client.factorURL(serviceSID, identity, factorSID)
	if err != nil {
		return nil, err
	}
	return get[Factor](ctx, s.client, u)
}

// Update changes a factor's name or settings, or verifies it with AuthPayload.
func (s *FactorService) Update(ctx context.Context, serviceSID, identity, factorSID string, params *UpdateFactorParams) (*Factor, error) {
	u, err := s.client.factorURL(serviceSID, identity, factorSID)
	if err != nil {
		return nil, err
	}
	return postValid[Factor](ctx, s.client, u, params)
}

// VerifyFactorParams are the inputs of Factors.Verify.
type VerifyFactorParams struct {
	AuthPayload Secret `url:"AuthPayload"` // required: the first code the app shows (TOTP), or the payload the device signed (push)
}

// Validate checks that AuthPayload is there and within the API's limit.
func (p *VerifyFactorParams) Validate() error {
	if p.AuthPayload.IsZero() {
		return invalid("AuthPayload", "is required: the first code the authenticator app shows, or the payload the device signed")
	}
	if utf8.RuneCountInString(p.AuthPayload.Reveal()) > MaxAuthPayloadLength {
		return invalid("AuthPayload", "must be at most 5456 characters")
	}
	return nil
}

// Verify proves a new factor with its first code (TOTP) or signed payload
// (push). The factor comes back verified when it checked out, and still
// unverified when it did not: check Status.
func (s *FactorService) Verify(ctx context.Context, serviceSID, identity, factorSID string, params *VerifyFactorParams) (*Factor, error) {
	u, err := s.client.factorURL(serviceSID, identity, factorSID)
	if err != nil {
		return nil, err
	}
	return postValid[Factor](ctx, s.client, u, params)
}

// Delete removes a factor and its challenges; deleting twice deletes once,
// as for EntityService.Delete.
func (s *FactorService) Delete(ctx context.Context, serviceSID, identity, factorSID string) error {
	u, err := s.client.factorURL(serviceSID, identity, factorSID)
	if err != nil {
		return err
	}
	return s.client.delete(ctx, u)
}

// ListPage fetches the first page of an entity's factors; page.Next goes on.
func (s *FactorService) ListPage(ctx context.Context, serviceSID, identity string, params *ListParams) (*Page[Factor], error) {
	u, err := s.client.factorsURL(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	return listPage[Factor](ctx, s.client, u, params)
}

// List iterates over an entity's factors, as ChallengeService.List does.
func (s *FactorService) List(ctx context.Context, serviceSID, identity string, params *ListParams) iter.Seq2[*Factor, error] {
	p := copyListParams(params)
	return listAll(ctx, p.Limit, func(ctx context.Context) (*Page[Factor], error) {
		return s.ListPage(ctx, serviceSID, identity, &p)
	})
}

// factorsURL is the URL of an entity's factors.
func (c *Client) factorsURL(serviceSID, identity string) (string, error) {
	return c.entityChildURL(serviceSID, identity, "/Factors", "", "")
}

// factorURL is one factor's URL.
func (c *Client) factorURL(serviceSID, identity, factorSID string) (string, error) {
	return c.entityChildURL(serviceSID, identity, "/Factors", "YF", factorSID)
}
