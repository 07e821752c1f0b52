package verifytest

import (
	"crypto/ecdsa"
	"encoding/json"
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
	codeInvalidRequest    = 60306
	codeMaxAttempts       = 60308
	codeMaxNotifications  = 60309
	codeFactorNotVerified = 60318
	codeAlreadyResponded  = 60322
	codeExpired           = 60323
	codeVerifyFailed      = 60324
)

const (
	defaultExpiry    = 5 * time.Minute
	maxWrongAttempts = 5 // the next wrong code is refused with 60308
	maxNotifications = 3 // per challenge; the next is refused with 60309
)

// signatureFields are the challenge fields a push device signs, announced in
// the Twilio-Verify-Signature-Fields header.
var signatureFields = []string{"sid", "service_sid", "entity_sid", "identity", "factor_sid",
	"date_created", "date_updated", "expiration_date", "details"}

type service struct {
	sid      string
	entities map[string]*entity // by identity
}

type entity struct {
	sid        string
	identity   string
	factors    map[string]*factor
	challenges []*challenge // in creation order
}

type factor struct {
	sid       string
	kind      verify.FactorType
	verified  bool
	totp      totp.ValidateOpts // TOTP only, checked when the factor was made
	secret    string            // base32, TOTP only
	publicKey *ecdsa.PublicKey  // push only
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
	EntitySID       string            `json:"entity_sid"`
	Identity        string            `json:"identity"`
	FactorSID       string            `json:"factor_sid"`
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

// wire renders c as the API would; base is the server's URL.
func (c *challenge) wire(accountSID, base string) challengeJSON {
	url := base + "/v2/Services/" + c.serviceSID + "/Entities/" + c.entity.identity + "/Challenges/" + c.sid
	out := challengeJSON{
		SID: c.sid, AccountSID: accountSID, ServiceSID: c.serviceSID, EntitySID: c.entity.sid,
		Identity: c.entity.identity, FactorSID: c.factor.sid,
		DateCreated: date(c.created), DateUpdated: date(c.updated), DateResponded: date(c.responded),
		ExpirationDate: date(c.expires), Status: string(c.status), RespondedReason: string(c.reason),
		HiddenDetails: c.hidden, Metadata: c.metadata, FactorType: string(c.factor.kind),
		URL: url, Links: map[string]string{"notifications": url + "/Notifications"},
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
