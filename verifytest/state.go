package verifytest

import (
	"cmp"
	"crypto/ecdsa"
	"encoding/json"
	"slices"
	"time"

	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
)

// Twilio error codes the fake answers with.
const (
	codeAuthenticate      = 20003
	codeNotFound          = 20404
	codeTooManyRequests   = 20429
	codeInternal          = 20500
	codeInvalidParameter  = 60200 // Services, Verifications, VerificationCheck
	codeMaxCheckAttempts  = 60202
	codeMaxSendAttempts   = 60203
	codeFeatureDisabled   = 60204 // a CustomCode without the service's CustomCodeEnabled
	codeEntityExists      = 60301
	codeInvalidRequest    = 60306
	codeMaxAttempts       = 60308
	codeMaxNotifications  = 60309
	codeMaxFactorAttempts = 60310
	codeFactorVerifyFail  = 60311
	codeFactorNotVerified = 60318
	codeAlreadyResponded  = 60322
	codeExpired           = 60323
	codeVerifyFailed      = 60324
)

const (
	defaultExpiry    = 5 * time.Minute
	maxWrongAttempts = 5 // per challenge or unverified factor; the next try is 60308 or 60310
	maxNotifications = 3 // per challenge; the next is refused with 60309
)

// signatureFields are the challenge fields a push device signs, announced in
// the Twilio-Verify-Signature-Fields header.
var signatureFields = []string{"sid", "service_sid", "entity_sid", "identity", "factor_sid",
	"date_created", "date_updated", "expiration_date", "details"}

type entity struct {
	seq        int64 // creation order, for lists
	sid        string
	serviceSID string
	identity   string
	created    time.Time
	updated    time.Time
	factors    map[string]*factor // by SID
	challenges []*challenge       // in creation order
}

// factor is one factor, whether made by a helper (NewTOTPFactor,
// NewPushDevice) or through the API: both read and change the same state.
type factor struct {
	seq           int64 // creation order, for lists
	sid           string
	entity        *entity
	kind          verify.FactorType
	friendlyName  string
	verified      bool
	created       time.Time
	updated       time.Time
	metadata      map[string]string
	wrongAttempts int // wrong codes sent to verify it; the 6th wrong one is 60310

	// TOTP
	totp   totp.ValidateOpts // algorithm, digits, period and skew, as the factor's config says
	secret string            // base32

	// Push
	publicKey     *ecdsa.PublicKey
	publicKeyText string // base64 DER SubjectPublicKeyInfo, as registered
	push          pushConfig

	// Passkeys
	passkey *passkeyFactor
}

// pushConfig is what a device registers about itself on a push factor.
type pushConfig struct {
	appID, platform, token, sdkVersion string
}

type challenge struct {
	seq           int64
	sid           string
	serviceSID    string
	entity        *entity
	factor        *factor
	created       time.Time
	updated       time.Time
	responded     time.Time
	expires       time.Time
	status        verify.ChallengeStatus
	reason        verify.RespondedReason
	details       *verify.Details
	detailsDate   time.Time
	hidden        map[string]string
	metadata      map[string]string
	wrongAttempts int
	notifications int
	passkey       *passkeyChallenge // a passkeys challenge's options; its factor (and entity) may be unknown until approved
}

// refresh turns a pending challenge past its expiration into an expired one.
func (c *challenge) refresh(now time.Time) {
	if c.status == verify.StatusPending && !now.Before(c.expires) {
		c.status = verify.StatusExpired
		c.updated = c.expires
	}
}

// respond records an answer.
func (c *challenge) respond(status verify.ChallengeStatus, now time.Time) {
	c.status, c.reason, c.responded, c.updated = status, verify.ReasonNone, now, now
}

// challengeJSON is the wire form, with the nulls the API sends.
type challengeJSON struct {
	SID             string            `json:"sid"`
	AccountSID      string            `json:"account_sid"`
	ServiceSID      string            `json:"service_sid"`
	EntitySID       *string           `json:"entity_sid"`
	Identity        *string           `json:"identity"`
	FactorSID       *string           `json:"factor_sid"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	DateResponded   *string           `json:"date_responded"`
	ExpirationDate  *string           `json:"expiration_date"`
	Status          string            `json:"status"`
	RespondedReason string            `json:"responded_reason"`
	Details         *detailsJSON      `json:"details"`
	HiddenDetails   map[string]string `json:"hidden_details"`
	Metadata        map[string]string `json:"metadata"`
	FactorType      string            `json:"factor_type"`
	URL             string            `json:"url"`
	Links           map[string]string `json:"links"`
}

type detailsJSON struct {
	Message string         `json:"message"`
	Date    *string        `json:"date"`
	Fields  []verify.Field `json:"fields"`
}

func date(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// wire renders c as the API would; base is the server's URL. A passkeys
// challenge whose factor (or entity) is not known yet has null for them.
func (c *challenge) wire(accountSID, base string) challengeJSON {
	out := challengeJSON{
		SID: c.sid, AccountSID: accountSID, ServiceSID: c.serviceSID,
		DateCreated: date(c.created), DateUpdated: date(c.updated), DateResponded: date(c.responded),
		ExpirationDate: date(c.expires), Status: string(c.status), RespondedReason: string(c.reason),
		HiddenDetails: c.hidden, Metadata: c.metadata, FactorType: string(verify.FactorTypePasskeys),
		URL: base + "/v2/Services/" + c.serviceSID + "/Passkeys/Challenges",
	}
	if c.entity != nil {
		out.EntitySID, out.Identity = orNull(c.entity.sid), orNull(c.entity.identity)
	}
	if c.factor != nil {
		out.FactorSID, out.FactorType = orNull(c.factor.sid), string(c.factor.kind)
		out.URL = base + "/v2/Services/" + c.serviceSID + "/Entities/" + c.entity.identity + "/Challenges/" + c.sid
	}
	if c.passkey == nil {
		out.Links = map[string]string{"notifications": out.URL + "/Notifications"}
	}
	if c.details != nil {
		fields := c.details.Fields
		if fields == nil {
			fields = []verify.Field{}
		}
		out.Details = &detailsJSON{Message: c.details.Message, Date: date(c.detailsDate), Fields: fields}
	}
	return out
}

// signedView is the challenge as generic JSON values, for comparing the
// fields a device signed.
func (c *challenge) signedView(accountSID, base string) map[string]any {
	raw, _ := json.Marshal(c.wire(accountSID, base))
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// sortedBySeq returns the values of m in creation order.
func sortedBySeq[T any](m map[string]T, seq func(T) int64) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(seq(a), seq(b)) })
	return out
}

// nextSeq numbers a new entity, factor or challenge; the caller holds s.mu.
func (s *Server) nextSeq() int64 {
	s.seq++
	return s.seq
}
