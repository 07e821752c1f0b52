package verify

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// ChallengeStatus is where a challenge stands. Values the SDK does not know
// yet decode as they are.
type ChallengeStatus string

// Challenge statuses.
const (
	StatusPending  ChallengeStatus = "pending"
	StatusExpired  ChallengeStatus = "expired"
	StatusApproved ChallengeStatus = "approved"
	StatusDenied   ChallengeStatus = "denied"
)

// IsPending reports whether the challenge still awaits an answer.
func (s ChallengeStatus) IsPending() bool { return s == StatusPending }

// IsApproved reports whether the user approved the challenge.
func (s ChallengeStatus) IsApproved() bool { return s == StatusApproved }

// IsDenied reports whether the user denied the challenge.
func (s ChallengeStatus) IsDenied() bool { return s == StatusDenied }

// IsExpired reports whether the challenge expired unanswered.
func (s ChallengeStatus) IsExpired() bool { return s == StatusExpired }

// Known reports whether s is one of the statuses this SDK names.
func (s ChallengeStatus) Known() bool {
	switch s {
	case StatusPending, StatusExpired, StatusApproved, StatusDenied:
		return true
	}
	return false
}

// RespondedReason says why a challenge is in its status. Twilio's reference
// lists the three values below but defines none of them; the SDK passes
// them through as they come, and values it does not know decode as they are.
type RespondedReason string

// Responded reasons.
const (
	// ReasonNone: no special reason. The status is what the challenge's own
	// life gave it (pending, the user's answer, or expiry); the value every
	// challenge the fake serves carries.
	ReasonNone RespondedReason = "none"
	// ReasonNotNeeded: listed by the API, not documented; the status was set
	// without the factor being checked. Do not read it as a user's answer.
	ReasonNotNeeded RespondedReason = "not_needed"
	// ReasonNotRequested: listed by the API, not documented; the challenge
	// was never put to the user. Do not read it as a user's answer.
	ReasonNotRequested RespondedReason = "not_requested"
)

// FactorType is the kind of factor a challenge verifies.
type FactorType string

// Factor types. The live API also lists passkeys.
const (
	FactorTypePush     FactorType = "push"
	FactorTypeTOTP     FactorType = "totp"
	FactorTypePasskeys FactorType = "passkeys"
)

// Order sorts List results by creation date.
type Order string

// List orders; the API's default is ascending.
const (
	OrderAsc  Order = "asc"
	OrderDesc Order = "desc"
)

// Challenge is one verification attempt of an entity with a factor.
// Dates the API leaves null are the zero time.Time.
type Challenge struct {
	SID             string          `json:"sid"`              // YC…, 34 characters
	AccountSID      string          `json:"account_sid"`      // AC…, the account that owns it
	ServiceSID      string          `json:"service_sid"`      // VA…, the Verify service
	EntitySID       string          `json:"entity_sid"`       // YE…, the entity challenged
	Identity        string          `json:"identity"`         // your id for the user, 8–64 characters
	FactorSID       string          `json:"factor_sid"`       // YF…, the factor it verifies
	DateCreated     time.Time       `json:"date_created"`     // when it was created
	DateUpdated     time.Time       `json:"date_updated"`     // when it last changed
	DateResponded   time.Time       `json:"date_responded"`   // when it was answered; zero while pending
	ExpirationDate  time.Time       `json:"expiration_date"`  // 5 minutes after creation by default, at most 60
	Status          ChallengeStatus `json:"status"`           // pending, expired, approved or denied
	RespondedReason RespondedReason `json:"responded_reason"` // why it is in its status; see RespondedReason
	Details         Details         `json:"details"`          // what the user was shown
	HiddenDetails   SecretMap       `json:"hidden_details"`   // what you attached and the user was not shown; values redacted in output
	Metadata        StringMap       `json:"metadata"`         // what the device sent with its answer
	FactorType      FactorType      `json:"factor_type"`      // push or totp (passkeys on the live API)
	URL             string          `json:"url"`              // the challenge's absolute API URL
	Links           Links           `json:"links"`            // its nested resources
}

// String is a one-line summary for logs and fmt.Println, without hidden
// details or metadata: "challenge YC… push approved for <identity> (factor
// YF…, expires …)".
func (c Challenge) String() string {
	return "challenge " + c.SID + " " + string(c.FactorType) + " " + string(c.Status) + " for " + c.Identity +
		" (factor " + c.FactorSID + ", expires " + c.ExpirationDate.UTC().Format(time.RFC3339) + ")"
}

// Details is what the user sees on their device: a message and labelled fields.
type Details struct {
	Message string    `json:"message"`          // required for push; at most 256 characters
	Fields  []Field   `json:"fields,omitempty"` // at most 20
	Date    time.Time `json:"date"`             // set by the API; not sent on Create
}

// Field is one labelled line of Details.
type Field struct {
	Label string `json:"label"` // required; at most 36 characters
	Value string `json:"value"` // at most 128 characters
}

// Links are URLs of a challenge's nested resources.
type Links struct {
	Notifications string `json:"notifications"` // the challenge's Notifications list
}

// Notification is a push notification sent again for a pending challenge.
// Its JSON form is the API's, ttl in seconds.
type Notification struct {
	SID          string        `json:"sid"`           // NT…
	AccountSID   string        `json:"account_sid"`   // AC…
	ServiceSID   string        `json:"service_sid"`   // VA…
	EntitySID    string        `json:"entity_sid"`    // YE…
	Identity     string        `json:"identity"`      // the entity's identity
	ChallengeSID string        `json:"challenge_sid"` // YC…, the challenge notified
	Priority     string        `json:"priority"`      // always "high" for push: sent at once, wakes the device
	TTL          time.Duration `json:"-"`             // how long delivery is attempted, 0–300 s
	DateCreated  time.Time     `json:"date_created"`  // when it was sent
}

// CreateChallengeParams are the inputs of Create; zero fields are not sent.
type CreateChallengeParams struct {
	FactorSID      string    `url:"FactorSid"`                // required, YF…
	ExpirationDate time.Time `url:"ExpirationDate,omitempty"` // zero: 5 minutes; at most 60 minutes ahead
	Details        *Details  `url:"Details,omitempty"`        // Message required for push; up to 20 Fields
	HiddenDetails  SecretMap `url:"HiddenDetails,omitempty"`  // not shown to the user; JSON up to 1024 chars
	AuthPayload    Secret    `url:"AuthPayload,omitempty"`    // a TOTP code, 3–8 characters
}

// UpdateChallengeParams are the inputs of Update; zero fields are not sent.
type UpdateChallengeParams struct {
	AuthPayload Secret    `url:"AuthPayload,omitempty"` // required: a TOTP code, or a push JWT up to 5456 characters
	Metadata    StringMap `url:"Metadata,omitempty"`    // device information; JSON up to 1024 chars
}

// ListChallengesParams filter and bound List and ListPage; zero fields are not sent.
type ListChallengesParams struct {
	FactorSID  string          `url:"FactorSid,omitempty"` // only this factor's challenges (YF…)
	Status     ChallengeStatus `url:"Status,omitempty"`    // only challenges in this status
	Order      Order           `url:"Order,omitempty"`     // by creation date; the API's default is asc
	ListParams                 // PageSize and Limit, as for every list
}

// NotifyParams are the inputs of Notify.
type NotifyParams struct {
	// TTL is how long delivery is attempted, 0–300 s in whole seconds. nil
	// sends nothing (the API's default, 300 s); Ptr(time.Duration(0)) sends
	// 0: one immediate try.
	TTL *time.Duration `url:"-"`
}

// Ptr returns a pointer to v, for optional parameters such as
// NotifyParams.TTL: Ptr(30 * time.Second).
func Ptr[T any](v T) *T { return &v }

// ChallengeService holds the Challenge operations; use Client.Challenges.
type ChallengeService struct {
	client *Client
}

// Create starts a challenge for a factor: a push notification to the user's
// device, or (with AuthPayload) a TOTP code check.
func (s *ChallengeService) Create(ctx context.Context, serviceSID, identity string, params *CreateChallengeParams) (*Challenge, error) {
	u, err := s.client.challengesURL(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	if params == nil {
		return nil, invalid("FactorSid", "is required")
	}
	if err := params.validate(time.Now()); err != nil {
		return nil, err
	}
	wire := *params
	wire.ExpirationDate = wire.ExpirationDate.UTC()
	return postForm[Challenge](ctx, s.client, u, &wire)
}

// Fetch reads one challenge.
func (s *ChallengeService) Fetch(ctx context.Context, serviceSID, identity, challengeSID string) (*Challenge, error) {
	u, err := s.client.challengeURL(serviceSID, identity, challengeSID)
	if err != nil {
		return nil, err
	}
	return get[Challenge](ctx, s.client, u)
}

// Update answers a challenge with an AuthPayload: a TOTP code, or the JWT a
// push device signed. The returned status says whether it verified.
func (s *ChallengeService) Update(ctx context.Context, serviceSID, identity, challengeSID string, params *UpdateChallengeParams) (*Challenge, error) {
	u, err := s.client.challengeURL(serviceSID, identity, challengeSID)
	if err != nil {
		return nil, err
	}
	return postValid[Challenge](ctx, s.client, u, params) // nil too: AuthPayload is required
}

// Notify sends the push notification of a pending challenge again.
func (s *ChallengeService) Notify(ctx context.Context, serviceSID, identity, challengeSID string, params *NotifyParams) (*Notification, error) {
	u, err := s.client.challengeURL(serviceSID, identity, challengeSID)
	if err != nil {
		return nil, err
	}
	return postValid[Notification](ctx, s.client, u+"/Notifications", params)
}

// addForm sends TTL in whole seconds.
func (p *NotifyParams) addForm(form url.Values) {
	setSeconds(form, "Ttl", p.TTL)
}

// postValid validates params, nil counting as the zero params (so a missing
// required field is named), then posts them to rawURL with postForm.
func postValid[T, P any, PP interface {
	*P
	Validate() error
}](ctx context.Context, c *Client, rawURL string, params PP, fixed ...string) (*T, error) {
	if params == nil {
		params = new(P)
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	return postForm[T](ctx, c, rawURL, params, fixed...)
}

// postForm form-encodes params, adds the fixed form values, given as key,
// value pairs (such as FactorType for a factor), sends them to rawURL (a URL
// under the client's base, see entityChildURL) and decodes the T the API
// returns.
func postForm[T any](ctx context.Context, c *Client, rawURL string, params any, fixed ...string) (*T, error) {
	form, err := formValues(params)
	if err != nil {
		return nil, err
	}
	var out T
	if err := c.do(ctx, http.MethodPost, rawURL, c.pathOf(rawURL), encodeForm(form, fixed...), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// challengesURL is the URL of an entity's challenges, with every segment
// validated and escaped.
func (c *Client) challengesURL(serviceSID, identity string) (string, error) {
	return c.entityChildURL(serviceSID, identity, "/Challenges", "", "")
}

// challengeURL is one challenge's URL.
func (c *Client) challengeURL(serviceSID, identity, challengeSID string) (string, error) {
	return c.entityChildURL(serviceSID, identity, "/Challenges", "YC", challengeSID)
}
