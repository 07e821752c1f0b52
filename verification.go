package verify

import (
	"context"
	"encoding/json"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel is how a verification reaches the user. Values the SDK does not
// know decode as they are, in lower case (the API writes some of
// SendCodeAttempt's in upper case: "SMS").
type Channel string

// Channels.
const (
	ChannelSMS      Channel = "sms"      // a text message to a phone number in E.164 form
	ChannelCall     Channel = "call"     // a voice call that reads the code
	ChannelEmail    Channel = "email"    // an email, through the service's email integration
	ChannelWhatsApp Channel = "whatsapp" // a WhatsApp message
	ChannelSNA      Channel = "sna"      // Silent Network Auth: the phone proves its number over the mobile network, no code
	// ChannelAuto lets Verify choose: Silent Network Auth where it can, SMS
	// otherwise. Create only: the verification names the channel it used.
	ChannelAuto Channel = "auto"
)

// Known reports whether c is one of the channels this SDK names.
func (c Channel) Known() bool {
	switch c {
	case ChannelSMS, ChannelCall, ChannelEmail, ChannelWhatsApp, ChannelSNA, ChannelAuto:
		return true
	}
	return false
}

// UnmarshalJSON reads a channel in lower case, as the constants are.
func (c *Channel) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s != nil {
		*c = Channel(strings.ToLower(*s))
	}
	return nil
}

// VerificationStatus is where a verification stands. Values the SDK does not
// know yet decode as they are.
type VerificationStatus string

// Verification statuses.
const (
	VerificationPending            VerificationStatus = "pending"              // sent; no right code yet
	VerificationApproved           VerificationStatus = "approved"             // the right code was checked (or you approved it)
	VerificationCanceled           VerificationStatus = "canceled"             // you canceled it
	VerificationMaxAttemptsReached VerificationStatus = "max_attempts_reached" // too many wrong codes
	VerificationDeleted            VerificationStatus = "deleted"              // removed by the API
	VerificationFailed             VerificationStatus = "failed"               // it could not be completed
	VerificationExpired            VerificationStatus = "expired"              // no right code within its lifetime (10 minutes by default)
)

// IsApproved reports whether the verification succeeded: the user proved
// they hold the phone number or email address.
func (s VerificationStatus) IsApproved() bool { return s == VerificationApproved }

// IsPending reports whether the verification still waits for the right code.
func (s VerificationStatus) IsPending() bool { return s == VerificationPending }

// Known reports whether s is one of the statuses this SDK names.
func (s VerificationStatus) Known() bool {
	switch s {
	case VerificationPending, VerificationApproved, VerificationCanceled, VerificationMaxAttemptsReached,
		VerificationDeleted, VerificationFailed, VerificationExpired:
		return true
	}
	return false
}

// RiskCheck turns Verify's fraud prevention (Fraud Guard, Geo Permissions)
// on or off for one SMS verification.
type RiskCheck string

// Risk checks; enable is the API's default.
const (
	RiskCheckEnable  RiskCheck = "enable"
	RiskCheckDisable RiskCheck = "disable" // bypass the protections: only for users you trust
)

// Verification is a one-time code sent to a phone number or an email
// address (or, for sna, a silent check of the number). Dates the API leaves
// null are the zero time.Time.
type Verification struct {
	SID              string             `json:"sid"`                // VE…, 34 characters
	ServiceSID       string             `json:"service_sid"`        // VA…
	AccountSID       string             `json:"account_sid"`        // AC…
	To               string             `json:"to"`                 // the phone number (E.164) or email address verified
	Channel          Channel            `json:"channel"`            // the channel used
	Status           VerificationStatus `json:"status"`             // pending until the right code is checked
	Valid            bool               `json:"valid"`              // legacy: true when approved; read Status instead
	Lookup           Lookup             `json:"lookup"`             // the carrier of the number, when the service looks it up
	Amount           string             `json:"amount"`             // PSD2: the amount of the transaction
	Payee            string             `json:"payee"`              // PSD2: who is paid
	SendCodeAttempts []SendCodeAttempt  `json:"send_code_attempts"` // every time the code was sent, oldest first
	SNA              SNA                `json:"sna"`                // sna: the URL the phone must open
	DateCreated      time.Time          `json:"date_created"`       // when it was created
	DateUpdated      time.Time          `json:"date_updated"`       // when it last changed
	URL              string             `json:"url"`                // the verification's absolute API URL
}

// String is a one-line summary for logs and fmt.Println, without the
// number or address: "verification VE… sms pending (1 send)".
func (v Verification) String() string {
	sends := "sends"
	if len(v.SendCodeAttempts) == 1 {
		sends = "send"
	}
	return "verification " + v.SID + " " + string(v.Channel) + " " + string(v.Status) +
		" (" + strconv.Itoa(len(v.SendCodeAttempts)) + " " + sends + ")"
}

// SendCodeAttempt is one sending of a verification's code.
type SendCodeAttempt struct {
	Time       time.Time `json:"time"`        // when it was sent
	Channel    Channel   `json:"channel"`     // how
	AttemptSID string    `json:"attempt_sid"` // VL…, the attempt in Verify's logs
}

// Lookup is what the API learned of a phone number when it started the
// verification; empty unless the service has LookupEnabled.
type Lookup struct {
	Carrier LookupCarrier `json:"carrier"` // the number's network
}

// LookupCarrier is the network a phone number belongs to.
type LookupCarrier struct {
	Name              string `json:"name"`                // such as "T-Mobile USA, Inc."
	Type              string `json:"type"`                // mobile, landline or voip
	MobileCountryCode string `json:"mobile_country_code"` // MCC, such as 311
	MobileNetworkCode string `json:"mobile_network_code"` // MNC, such as 180
	ErrorCode         int    `json:"error_code"`          // why the lookup failed; 0 when it did not
}

// SNA is what a Silent Network Auth verification needs from the phone.
type SNA struct {
	// URL is the address the phone must open over its mobile data
	// connection (not Wi-Fi), once, within 10 minutes; then check the
	// verification with VerificationChecks.Create.
	URL string `json:"url"`
}

// CreateVerificationParams are the inputs of Verifications.Create; zero
// fields are not sent.
type CreateVerificationParams struct {
	To      string  `url:"To"`      // required: a phone number in E.164 form (+15017122661), or an email address for email
	Channel Channel `url:"Channel"` // required: sms, call, email, whatsapp, sna or auto

	CustomFriendlyName string `url:"CustomFriendlyName,omitempty"` // replaces the service's name in this message
	// CustomMessage is the message text. Deprecated by the API: use a
	// template (TemplateSID). It is a Secret since it may hold the code.
	CustomMessage Secret `url:"CustomMessage,omitempty"`
	SendDigits    string `url:"SendDigits,omitempty"` // call: keys to press once answered, such as an extension: 0–9, #, * and w (wait)
	Locale        string `url:"Locale,omitempty"`     // the message's language, such as es or pt-BR; empty: from the number's country
	// CustomCode is the code to send instead of one Verify makes, 4–10
	// characters. The service must have CustomCodeEnabled: the API refuses
	// it otherwise (the SDK cannot tell without fetching the service).
	CustomCode                  Secret     `url:"CustomCode,omitempty"`
	Amount                      string     `url:"Amount,omitempty"`                      // PSD2 (service with PSD2Enabled): the transaction's amount
	Payee                       string     `url:"Payee,omitempty"`                       // PSD2: who is paid
	RateLimits                  StringMap  `url:"RateLimits,omitempty"`                  // your programmable rate limits' unique names and the values limited on
	ChannelConfiguration        JSONObject `url:"ChannelConfiguration,omitempty"`        // email: from, from_name, template_id, substitutions
	AppHash                     string     `url:"AppHash,omitempty"`                     // sms: the Android app hash for the SMS Retriever API
	TemplateSID                 string     `url:"TemplateSid,omitempty"`                 // HJ…, the message template (sms and call)
	TemplateCustomSubstitutions StringMap  `url:"TemplateCustomSubstitutions,omitempty"` // the template's variables and their values
	DeviceIP                    string     `url:"DeviceIp,omitempty"`                    // the user's IP address, IPv4 or IPv6; advised with auto
	EnableSNAClientToken        bool       `url:"EnableSnaClientToken,omitempty"`        // sna: the URL's answer carries a token the check must repeat
	RiskCheck                   RiskCheck  `url:"RiskCheck,omitempty"`                   // sms: enable (the API's default) or disable fraud prevention
	Tags                        StringMap  `url:"Tags,omitempty"`                        // up to 10 tags, each key and value up to 128 characters; no PII
}

// UpdateVerificationParams are the inputs of Verifications.Update.
type UpdateVerificationParams struct {
	// Status is required: VerificationCanceled to end a verification, or
	// VerificationApproved when you checked a CustomCode yourself.
	Status VerificationStatus `url:"Status"`
}

// JSONObject is a JSON object sent as one form value, encoded once, such as
// CreateVerificationParams.ChannelConfiguration. Values may be anything
// encoding/json encodes: strings, numbers, nested maps and slices.
type JSONObject map[string]any

// EncodeValues sets key to the object's compact JSON; the SDK's form
// encoder calls it.
func (o JSONObject) EncodeValues(key string, v *url.Values) error {
	if len(o) == 0 {
		return nil
	}
	return setJSON(v, key, map[string]any(o))
}

// VerificationService starts, fetches and ends verifications: codes sent by
// SMS, call, email or WhatsApp, and Silent Network Auth; use
// Client.Verifications. Check the code with Client.VerificationChecks.
type VerificationService struct {
	client *Client
}

// Create sends a code to params.To over params.Channel. Like every POST it
// is sent once: it is retried only on proof that nothing reached the API,
// since a second Create sends a second message (ErrOutcomeUnknown says
// when that is not known).
func (s *VerificationService) Create(ctx context.Context, serviceSID string, params *CreateVerificationParams) (*Verification, error) {
	path, err := s.client.serviceURL(serviceSID, "Verifications")
	if err != nil {
		return nil, err
	}
	return postValid[Verification](ctx, s.client, path, params)
}

// Fetch reads one verification. Verify forgets a verification once it is
// approved, canceled, expired or out of attempts: Fetch then fails with
// ErrVerificationNotFound.
func (s *VerificationService) Fetch(ctx context.Context, serviceSID, verificationSID string) (*Verification, error) {
	path, err := s.client.verificationURL(serviceSID, verificationSID)
	if err != nil {
		return nil, err
	}
	return get[Verification](ctx, s.client, path)
}

// Update cancels a verification, or approves one whose CustomCode you
// checked yourself.
func (s *VerificationService) Update(ctx context.Context, serviceSID, verificationSID string, params *UpdateVerificationParams) (*Verification, error) {
	path, err := s.client.verificationURL(serviceSID, verificationSID)
	if err != nil {
		return nil, err
	}
	return postValid[Verification](ctx, s.client, path, params)
}

// verificationURL is one verification's URL, with both SIDs validated.
func (c *Client) verificationURL(serviceSID, verificationSID string) (string, error) {
	if err := checkSID("ServiceSid", serviceSID, "VA"); err != nil {
		return "", err
	}
	if err := checkSID("Sid", verificationSID, "VE"); err != nil {
		return "", err
	}
	return c.baseURL + "/v2/Services/" + url.PathEscape(serviceSID) + "/Verifications/" + url.PathEscape(verificationSID), nil
}

// VerificationCheck is the answer to a code check. A wrong code is not an
// error: the check comes back with Status pending.
type VerificationCheck struct {
	SID                   string             `json:"sid"`                      // VE…, the verification checked
	ServiceSID            string             `json:"service_sid"`              // VA…
	AccountSID            string             `json:"account_sid"`              // AC…
	To                    string             `json:"to"`                       // the phone number or email address verified
	Channel               Channel            `json:"channel"`                  // the channel the code went over
	Status                VerificationStatus `json:"status"`                   // approved when the code was right
	Valid                 bool               `json:"valid"`                    // legacy: true when approved; read Status instead
	Amount                string             `json:"amount"`                   // PSD2: the transaction's amount
	Payee                 string             `json:"payee"`                    // PSD2: who is paid
	SNAAttemptsErrorCodes []SNAAttemptError  `json:"sna_attempts_error_codes"` // sna: why each attempt failed; empty when none did
	DateCreated           time.Time          `json:"date_created"`             // when the verification was created
	DateUpdated           time.Time          `json:"date_updated"`             // when it last changed
}

// Approved reports whether the code was right: the user proved they hold
// the phone number or email address.
func (c VerificationCheck) Approved() bool { return c.Status.IsApproved() }

// String is a one-line summary for logs and fmt.Println, without the
// number or address: "verification check VE… sms approved".
func (c VerificationCheck) String() string {
	return "verification check " + c.SID + " " + string(c.Channel) + " " + string(c.Status)
}

// SNAAttemptError is one failed Silent Network Auth attempt.
type SNAAttemptError struct {
	AttemptSID string `json:"attempt_sid"` // VL…
	Code       int    `json:"code"`        // the Twilio error code, such as 60001
}

// CheckVerificationParams are the inputs of VerificationChecks.Create; zero
// fields are not sent. Name the verification by exactly one of To and
// VerificationSID.
type CheckVerificationParams struct {
	Code            Secret `url:"Code,omitempty"`            // the code the user typed, 4–10 characters; none for sna
	To              string `url:"To,omitempty"`              // the phone number or email address the code went to
	VerificationSID string `url:"VerificationSid,omitempty"` // or the verification, VE…
	Amount          string `url:"Amount,omitempty"`          // PSD2: the amount the verification was started with
	Payee           string `url:"Payee,omitempty"`           // PSD2: the payee it was started with
	SNAClientToken  Secret `url:"SnaClientToken,omitempty"`  // sna with EnableSNAClientToken: the token the SNA URL answered
}

// VerificationCheckService checks the codes users type; use
// Client.VerificationChecks.
type VerificationCheckService struct {
	client *Client
}

// Create checks a code. The check's Status says whether it was right; a
// wrong code is a check with Status pending, not an error. A verification
// that is no longer pending (approved, expired, canceled or out of
// attempts) gives ErrVerificationNotFound, and a check beyond the allowed
// attempts (5) ErrMaxCheckAttempts.
//
// A check that may have reached the API used up one of the verification's
// attempts, so it is never sent twice blindly: it is retried only on proof
// that nothing was sent, and otherwise fails with ErrOutcomeUnknown.
func (s *VerificationCheckService) Create(ctx context.Context, serviceSID string, params *CheckVerificationParams) (*VerificationCheck, error) {
	path, err := s.client.serviceURL(serviceSID, "VerificationCheck")
	if err != nil {
		return nil, err
	}
	return postValid[VerificationCheck](ctx, s.client, path, params)
}

// Limits on verifications the API enforces; the SDK checks them before sending.
const (
	MaxTags      = 10  // Tags per verification
	MaxTagLength = 128 // characters of a tag's key and of its value
)

// e164MaxDigits is how many digits E.164 allows after the +.
const e164MaxDigits = 15

// supportedLocales are the language tags Verify documents for Locale
// (https://www.twilio.com/docs/verify/supported-languages); the API answers
// an unknown one with 404. Compared case-insensitively.
var supportedLocales = map[string]bool{
	"af": true, "ar": true, "ca": true, "zh": true, "zh-cn": true, "zh-hk": true, "hr": true, "cs": true,
	"da": true, "nl": true, "en": true, "en-gb": true, "et": true, "fi": true, "fr": true, "de": true,
	"el": true, "he": true, "hi": true, "hu": true, "id": true, "it": true, "ja": true, "kn": true,
	"ko": true, "lt": true, "ms": true, "mr": true, "nb": true, "pl": true, "pt-br": true, "pt": true,
	"ro": true, "ru": true, "sk": true, "es": true, "sv": true, "tl": true, "te": true, "th": true,
	"tr": true, "uk": true, "vi": true,
}

// Validate checks every limit the API enforces on a new verification; the
// error is a *ValidationError naming the field, never quoting a code.
func (p *CreateVerificationParams) Validate() error {
	switch {
	case p.Channel == "":
		return invalid("Channel", "is required: sms, call, email, whatsapp, sna or auto")
	case !p.Channel.Known():
		return invalid("Channel", "must be sms, call, email, whatsapp, sna or auto")
	case p.To == "":
		return invalid("To", "is required: the phone number in E.164 form, or the email address for email")
	case p.Channel == ChannelEmail && !isEmailAddress(p.To):
		return invalid("To", "must be an email address, such as ada@example.com, for the email channel")
	case p.Channel != ChannelEmail && !isE164(p.To):
		return invalid("To", "must be a phone number in E.164 form, such as +15017122661, for the %s channel", p.Channel)
	case p.Locale != "" && !supportedLocales[strings.ToLower(p.Locale)]:
		return invalid("Locale", "must be one of the language tags Verify supports, such as en, es or pt-BR (see docs/verifications.md)")
	case !p.CustomCode.IsZero() && !runesBetween(p.CustomCode.Reveal(), MinCodeLength, MaxCodeLength):
		return invalid("CustomCode", "must be 4 to 10 characters")
	case strings.ContainsFunc(p.SendDigits, func(r rune) bool { return !strings.ContainsRune("0123456789#*wW", r) }):
		return invalid("SendDigits", "must hold only the digits 0–9, #, * and w (wait half a second)")
	case p.DeviceIP != "" && !isIPAddress(p.DeviceIP):
		return invalid("DeviceIp", "must be an IPv4 or IPv6 address")
	case p.RiskCheck != "" && p.RiskCheck != RiskCheckEnable && p.RiskCheck != RiskCheckDisable:
		return invalid("RiskCheck", "must be enable or disable")
	case len(p.Tags) > MaxTags:
		return invalid("Tags", "must hold at most 10 tags")
	}
	if err := checkOptionalSID("TemplateSid", p.TemplateSID, "HJ"); err != nil {
		return err
	}
	for k, v := range p.Tags {
		if utf8.RuneCountInString(k) > MaxTagLength || utf8.RuneCountInString(v) > MaxTagLength {
			return invalid("Tags", "keys and values must be at most 128 characters")
		}
	}
	for _, m := range []struct {
		field string
		m     StringMap
	}{{"RateLimits", p.RateLimits}, {"TemplateCustomSubstitutions", p.TemplateCustomSubstitutions}, {"Tags", p.Tags}} {
		if err := checkUTF8Map(m.field, m.m, plainText); err != nil {
			return err
		}
	}
	return p.ChannelConfiguration.validate("ChannelConfiguration")
}

// Validate checks that Status is canceled or approved, the two an update
// may set.
func (p *UpdateVerificationParams) Validate() error {
	if p.Status != VerificationCanceled && p.Status != VerificationApproved {
		return invalid("Status", "must be canceled or approved")
	}
	return nil
}

// Validate checks that the verification is named once, by To or by
// VerificationSid, and that the code has a length the API accepts.
func (p *CheckVerificationParams) Validate() error {
	switch {
	case p.To == "" && p.VerificationSID == "":
		return invalid("To", "or VerificationSid is required: name the verification checked")
	case p.To != "" && p.VerificationSID != "":
		return invalid("VerificationSid", "must not be set with To: name the verification by one of them")
	case p.To != "" && !isE164(p.To) && !isEmailAddress(p.To):
		return invalid("To", "must be a phone number in E.164 form, such as +15017122661, or an email address")
	case !p.Code.IsZero() && !runesBetween(p.Code.Reveal(), MinCodeLength, MaxCodeLength):
		return invalid("Code", "must be 4 to 10 characters")
	}
	return checkOptionalSID("VerificationSid", p.VerificationSID, "VE")
}

// validate requires the object to encode as JSON and, as the spec says of
// an email channel configuration, its "from", when set, to be an address.
func (o JSONObject) validate(field string) error {
	if _, err := compactJSON(map[string]any(o)); err != nil {
		return invalid(field, "must encode as a JSON object (no NaN, infinity, channel or function values)")
	}
	if from, ok := o["from"]; ok {
		if s, isString := from.(string); !isString || !isEmailAddress(s) {
			return invalid(field, `"from" must be an email address`)
		}
	}
	return nil
}

// isE164 reports whether s is + and 2 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 1+e164MaxDigits || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isEmailAddress reports whether s is a bare address, local@domain, with no
// display name or angle brackets.
func isEmailAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && strings.Contains(s, "@")
}

// isIPAddress reports whether s is an IPv4 or IPv6 address without a zone.
func isIPAddress(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// runesBetween reports whether s is valid UTF-8 of lo to hi characters.
func runesBetween(s string, lo, hi int) bool {
	n := utf8.RuneCountInString(s)
	return utf8.ValidString(s) && n >= lo && n <= hi
}
