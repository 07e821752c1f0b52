package verify

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"strconv"
	"time"
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
	MinTOTPTimeStep            = 20 // seconds
	MaxTOTPTimeStep            = 60
	MaxTOTPSkew                = 2 // steps either side
	MaxAppIDLength             = 100
	MinNotificationTokenLength = 32
	MaxNotificationTokenLength = 255
)

// Factor is one way an entity proves who they are: a TOTP app or a push
// device. Its secret is not part of it; see NewFactor.
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

// FactorConfig holds a factor's settings; only the fields of its type are set.
type FactorConfig struct {
	// TOTP
	Alg        TOTPAlgorithm `json:"alg"`         // sha1, sha256 or sha512
	Skew       int           `json:"skew"`        // steps accepted either side of now, 0–2
	CodeLength int           `json:"code_length"` // digits, 3–8
	TimeStep   int           `json:"time_step"`   // seconds per code, 20–60

	// Push
	SDKVersion           string               `json:"sdk_version"`           // the Verify Push SDK on the device
	AppID                string               `json:"app_id"`                // the app's store id, such as com.example.myapp
	NotificationPlatform NotificationPlatform `json:"notification_platform"` // apn, fcm or none
	NotificationToken    string               `json:"notification_token"`    // the device's push token
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
	Secret    string `json:"secret"`     // TOTP: the base32 seed for an authenticator app
	URI       string `json:"uri"`        // TOTP: the otpauth:// URI to show as a QR code
	PublicKey string `json:"public_key"` // push: the device's key, base64 DER SubjectPublicKeyInfo
	Alg       string `json:"alg"`        // push: ES256
}

// Format prints a Binding with its secret and URI redacted, whatever the verb.
func (b Binding) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "verify.Binding{Secret: %q, URI: %q, PublicKey: %q, Alg: %q}",
		redacted(b.Secret), redacted(b.URI), b.PublicKey, b.Alg)
}

// LogValue gives log/slog a Binding with its secret and URI redacted, so
// that no handler (a JSON one included) writes them out.
func (b Binding) LogValue() slog.Value {
	return slog.GroupValue(slog.String("secret", redacted(b.Secret)), slog.String("uri", redacted(b.URI)),
		slog.String("public_key", b.PublicKey), slog.String("alg", b.Alg))
}

// LogValue gives log/slog a new factor without its Binding's secret; a JSON
// handler would otherwise marshal the whole struct, secret included.
func (n NewFactor) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sid", n.SID), slog.String("identity", n.Identity),
		slog.String("factor_type", string(n.FactorType)), slog.String("status", string(n.Status)),
		slog.String("friendly_name", n.FriendlyName), slog.Any("binding", n.Binding))
}

// redacted stands in for a secret in formatted output; empty stays empty.
func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// CreateTOTPFactorParams are the inputs of Factors.CreateTOTP; zero fields
// are not sent and take the service's defaults.
type CreateTOTPFactorParams struct {
	FriendlyName string        `url:"FriendlyName"`                // required, up to 64 characters; the account name in the URI
	Secret       string        `url:"Binding.Secret,omitempty"`    // base32 seed; empty: the API makes one
	TimeStep     int           `url:"Config.TimeStep,omitempty"`   // seconds per code, 20–60
	Skew         *int          `url:"Config.Skew,omitempty"`       // steps either side, 0–2; nil: the service's default, Ptr(0) sends 0
	CodeLength   int           `url:"Config.CodeLength,omitempty"` // digits, 3–8
	Alg          TOTPAlgorithm `url:"Config.Alg,omitempty"`        // sha1, sha256 or sha512
	Metadata     StringMap     `url:"Metadata,omitempty"`          // JSON up to 1024 characters
}

// Format prints the params with Secret redacted, whatever the verb.
func (p CreateTOTPFactorParams) Format(f fmt.State, _ rune) {
	skew := "nil"
	if p.Skew != nil {
		skew = strconv.Itoa(*p.Skew)
	}
	fmt.Fprintf(f, "verify.CreateTOTPFactorParams{FriendlyName: %q, Secret: %q, TimeStep: %d, Skew: %s, CodeLength: %d, Alg: %q, Metadata: %v}",
		p.FriendlyName, redacted(p.Secret), p.TimeStep, skew, p.CodeLength, p.Alg, map[string]string(p.Metadata))
}

// LogValue gives log/slog the params with Secret redacted, so that no
// handler (a JSON one included) writes it out.
func (p CreateTOTPFactorParams) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("friendly_name", p.FriendlyName), slog.String("secret", redacted(p.Secret)),
		slog.Int("time_step", p.TimeStep), slog.Int("code_length", p.CodeLength), slog.String("alg", string(p.Alg))}
	if p.Skew != nil {
		attrs = append(attrs, slog.Int("skew", *p.Skew))
	}
	return slog.GroupValue(attrs...)
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
	AuthPayload          string               `url:"AuthPayload,omitempty"`                 // verifies the factor; Factors.Verify sends only this
	FriendlyName         string               `url:"FriendlyName,omitempty"`                // up to 64 characters
	NotificationToken    string               `url:"Config.NotificationToken,omitempty"`    // push: 32–255 characters
	SDKVersion           string               `url:"Config.SdkVersion,omitempty"`           // push
	NotificationPlatform NotificationPlatform `url:"Config.NotificationPlatform,omitempty"` // push: apn, fcm or none
	TimeStep             int                  `url:"Config.TimeStep,omitempty"`             // TOTP: 20–60
	Skew                 *int                 `url:"Config.Skew,omitempty"`                 // TOTP: 0–2; Ptr(0) sends 0
	CodeLength           int                  `url:"Config.CodeLength,omitempty"`           // TOTP: 3–8
	Alg                  TOTPAlgorithm        `url:"Config.Alg,omitempty"`                  // TOTP: sha1, sha256 or sha512
}

// FactorService enrolls, verifies, updates, deletes and lists factors; use Client.Factors.
type FactorService struct {
	client *Client
}

// CreateTOTP enrolls a TOTP factor for identity (creating the entity if
// needed). Show f.Binding.URI as a QR code, then Verify the first code the
// user's app shows: until then the factor is unverified.
func (s *FactorService) CreateTOTP(ctx context.Context, serviceSID, identity string, params *CreateTOTPFactorParams) (*NewFactor, error) {
	path, err := factorsPath(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	return postValid[NewFactor](ctx, s.client, path, params, "FactorType", string(FactorTypeTOTP))
}

// CreatePush enrolls a push factor with a device's public key. The mobile
// SDK normally does this itself with an access token (AccessTokens.Create);
// this is for servers and tests that hold the key.
func (s *FactorService) CreatePush(ctx context.Context, serviceSID, identity string, params *CreatePushFactorParams) (*NewFactor, error) {
	path, err := factorsPath(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	return postValid[NewFactor](ctx, s.client, path, params, "FactorType", string(FactorTypePush), "Binding.Alg", "ES256")
}

// Fetch reads one factor (without its Binding).
func (s *FactorService) Fetch(ctx context.Context, serviceSID, identity, factorSID string) (*Factor, error) {
	path, err := factorPath(serviceSID, identity, factorSID)
	if err != nil {
		return nil, err
	}
	return get[Factor](ctx, s.client, path)
}

// Update changes a factor's name or settings, or verifies it with AuthPayload.
func (s *FactorService) Update(ctx context.Context, serviceSID, identity, factorSID string, params *UpdateFactorParams) (*Factor, error) {
	path, err := factorPath(serviceSID, identity, factorSID)
	if err != nil {
		return nil, err
	}
	return postValid[Factor](ctx, s.client, path, params)
}

// Verify proves a new factor with its first code (TOTP) or signed payload
// (push). The factor comes back verified when it checked out, and still
// unverified when it did not: check Status.
func (s *FactorService) Verify(ctx context.Context, serviceSID, identity, factorSID, authPayload string) (*Factor, error) {
	if authPayload == "" {
		return nil, invalid("AuthPayload", "is required: the first code the authenticator app shows, or the payload the device signed")
	}
	return s.Update(ctx, serviceSID, identity, factorSID, &UpdateFactorParams{AuthPayload: authPayload})
}

// Delete removes a factor and its challenges; deleting twice deletes once,
// as for EntityService.Delete.
func (s *FactorService) Delete(ctx context.Context, serviceSID, identity, factorSID string) error {
	path, err := factorPath(serviceSID, identity, factorSID)
	if err != nil {
		return err
	}
	return s.client.delete(ctx, path)
}

// ListPage fetches the first page of an entity's factors; page.Next goes on.
func (s *FactorService) ListPage(ctx context.Context, serviceSID, identity string, params *ListParams) (*Page[Factor], error) {
	path, err := factorsPath(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	return listPage[Factor](ctx, s.client, path, params)
}

// List iterates over an entity's factors, as ChallengeService.List does.
func (s *FactorService) List(ctx context.Context, serviceSID, identity string, params *ListParams) iter.Seq2[*Factor, error] {
	p := copyListParams(params)
	return listAll(ctx, p.Limit, func(ctx context.Context) (*Page[Factor], error) {
		return s.ListPage(ctx, serviceSID, identity, &p)
	})
}

// factorsPath is an entity's Factors path.
func factorsPath(serviceSID, identity string) (string, error) {
	path, err := entityPath(serviceSID, identity)
	return path + "/Factors", err
}

// factorPath is one factor's path.
func factorPath(serviceSID, identity, factorSID string) (string, error) {
	path, err := factorsPath(serviceSID, identity)
	if err != nil {
		return "", err
	}
	if err := checkSID("Sid", factorSID, "YF"); err != nil {
		return "", err
	}
	return path + "/" + url.PathEscape(factorSID), nil
}
