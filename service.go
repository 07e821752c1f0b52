package verify

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on services the API enforces; the SDK checks them before sending.
const (
	MaxServiceNameLength = 30 // FriendlyName, in characters
	MinCodeLength        = 4  // characters of a code: CodeLength, CustomCode and a checked Code
	MaxCodeLength        = 10
)

// Service is a Verify service: the name your users see in their messages
// and the settings of every verification, factor and challenge under it.
// Dates the API leaves null are the zero time.Time; settings it leaves null
// are zero (nil for the pointers).
type Service struct {
	SID                            string           `json:"sid"`                               // VA…, 34 characters
	AccountSID                     string           `json:"account_sid"`                       // AC…
	FriendlyName                   string           `json:"friendly_name"`                     // shown in verification messages; up to 30 characters
	CodeLength                     int              `json:"code_length"`                       // digits of the codes sent, 4–10
	LookupEnabled                  bool             `json:"lookup_enabled"`                    // a carrier lookup with each verification
	PSD2Enabled                    bool             `json:"psd2_enabled"`                      // verifications carry an Amount and a Payee
	SkipSMSToLandlines             bool             `json:"skip_sms_to_landlines"`             // refuse SMS to landlines (ErrLandline); needs LookupEnabled
	DTMFInputRequired              bool             `json:"dtmf_input_required"`               // calls ask for a key press before reading the code
	TTSName                        string           `json:"tts_name"`                          // the text-to-speech name calls use
	DoNotShareWarningEnabled       bool             `json:"do_not_share_warning_enabled"`      // SMS end with a "do not share" warning
	CustomCodeEnabled              bool             `json:"custom_code_enabled"`               // verifications may carry your own CustomCode
	Push                           PushSettings     `json:"push"`                              // push factors' settings
	TOTP                           TOTPSettings     `json:"totp"`                              // TOTP factors' settings
	WhatsApp                       WhatsAppSettings `json:"whatsapp"`                          // the WhatsApp sender
	Passkeys                       PasskeySettings  `json:"passkeys"`                          // the WebAuthn relying party
	DefaultTemplateSID             string           `json:"default_template_sid"`              // HJ…, the message template SMS use unless a verification names one
	VerifyEventSubscriptionEnabled bool             `json:"verify_event_subscription_enabled"` // verifications reach your Event Streams sinks
	DateCreated                    time.Time        `json:"date_created"`                      // when it was created
	DateUpdated                    time.Time        `json:"date_updated"`                      // when it last changed
	URL                            string           `json:"url"`                               // the service's absolute API URL
	Links                          ServiceLinks     `json:"links"`                             // its nested resources
}

// String is a one-line summary for logs and fmt.Println: "service VA… "Example"".
func (s Service) String() string { return "service " + s.SID + " " + strconv.Quote(s.FriendlyName) }

// ServiceLinks are URLs of a service's nested resources.
type ServiceLinks struct {
	Verifications           string `json:"verifications"`            // where verifications are started
	VerificationChecks      string `json:"verification_checks"`      // where codes are checked
	Entities                string `json:"entities"`                 // the users of push and TOTP factors
	Webhooks                string `json:"webhooks"`                 // where events are configured
	AccessTokens            string `json:"access_tokens"`            // where push enrollment tokens are made
	RateLimits              string `json:"rate_limits"`              // your programmable rate limits
	MessagingConfigurations string `json:"messaging_configurations"` // per-country messaging services
}

// PushSettings configure the push factors of a service. In params, zero
// fields are not sent; IncludeDate is a pointer so that false can be.
type PushSettings struct {
	// IncludeDate puts the date in a challenge's details. Deprecated by the
	// API: read Challenge.DateCreated instead.
	IncludeDate      *bool  `json:"include_date" url:"IncludeDate,omitempty"`
	APNCredentialSID string `json:"apn_credential_sid" url:"ApnCredentialSid,omitempty"` // CR…, the credential pushes to iOS go with
	FCMCredentialSID string `json:"fcm_credential_sid" url:"FcmCredentialSid,omitempty"` // CR…, the credential pushes to Android go with
}

// TOTPSettings are the defaults of a service's TOTP factors. In params,
// zero fields are not sent; Skew is a pointer so that 0 can be. Its JSON
// form is the API's, time_step in seconds.
type TOTPSettings struct {
	Issuer     string        `json:"issuer" url:"Issuer,omitempty"`          // the issuer in otpauth:// URIs; the API's default is the service's name
	TimeStep   time.Duration `json:"-" url:"-"`                              // how long each code lasts, 20–60 s in whole seconds
	CodeLength int           `json:"code_length" url:"CodeLength,omitempty"` // digits, 3–8
	Skew       *int          `json:"skew" url:"Skew,omitempty"`              // steps accepted either side of now, 0–2; Ptr(0) sends 0
}

// WhatsAppSettings name the sender of a service's WhatsApp verifications.
type WhatsAppSettings struct {
	MsgServiceSID string `json:"msg_service_sid" url:"MsgServiceSid,omitempty"` // MG…, the Messaging Service holding the WhatsApp senders
	From          string `json:"from" url:"From,omitempty"`                     // the sender, one of that service's WhatsApp numbers
}

// PasskeySettings describe the WebAuthn relying party a service's passkeys
// are created for.
type PasskeySettings struct {
	RelyingParty            PasskeyRelyingParty     `json:"relying_party" url:"RelyingParty"`                                 // who the passkeys are for
	AuthenticatorAttachment AuthenticatorAttachment `json:"authenticator_attachment" url:"AuthenticatorAttachment,omitempty"` // platform, cross-platform or any
	DiscoverableCredentials PasskeyRequirement      `json:"discoverable_credentials" url:"DiscoverableCredentials,omitempty"` // whether passkeys must be discoverable
	UserVerification        PasskeyRequirement      `json:"user_verification" url:"UserVerification,omitempty"`               // whether the authenticator must verify the user
}

// PasskeyRelyingParty is your application as WebAuthn names it.
type PasskeyRelyingParty struct {
	ID   string `json:"id" url:"Id,omitempty"`     // your domain, such as example.com
	Name string `json:"name" url:"Name,omitempty"` // your application's name, such as Example
	// Origins are where passkeys may be used, such as login.example.com. The
	// API takes them as one comma-separated value, so none may hold a comma.
	Origins []string `json:"origins" url:"Origins,comma,omitempty"`
}

// AuthenticatorAttachment says which authenticators may hold a passkey.
type AuthenticatorAttachment string

// Authenticator attachments.
const (
	AuthenticatorPlatform      AuthenticatorAttachment = "platform"       // built into the device: Touch ID, Windows Hello
	AuthenticatorCrossPlatform AuthenticatorAttachment = "cross-platform" // roaming: a security key, a phone
	AuthenticatorAny           AuthenticatorAttachment = "any"            // either
)

// Known reports whether a is one of the attachments this SDK names.
func (a AuthenticatorAttachment) Known() bool {
	switch a {
	case AuthenticatorPlatform, AuthenticatorCrossPlatform, AuthenticatorAny:
		return true
	}
	return false
}

// PasskeyRequirement is how strongly WebAuthn asks for a property, as for
// discoverable credentials and user verification.
type PasskeyRequirement string

// Passkey requirements.
const (
	PasskeyRequired    PasskeyRequirement = "required"
	PasskeyPreferred   PasskeyRequirement = "preferred"
	PasskeyDiscouraged PasskeyRequirement = "discouraged"
)

// Known reports whether r is one of the requirements this SDK names.
func (r PasskeyRequirement) Known() bool {
	switch r {
	case PasskeyRequired, PasskeyPreferred, PasskeyDiscouraged:
		return true
	}
	return false
}

// CreateServiceParams are the inputs of Services.Create; zero fields are
// not sent and take the API's defaults. The booleans are pointers so that
// false can be sent: verify.Ptr(false).
type CreateServiceParams struct {
	FriendlyName                   string            `url:"FriendlyName,omitempty"`                   // required on Create; up to 30 characters, shown to users; no PII
	CodeLength                     int               `url:"CodeLength,omitempty"`                     // digits of the codes sent, 4–10
	LookupEnabled                  *bool             `url:"LookupEnabled,omitempty"`                  // a carrier lookup with each verification
	SkipSMSToLandlines             *bool             `url:"SkipSmsToLandlines,omitempty"`             // refuse SMS to landlines; needs LookupEnabled
	DTMFInputRequired              *bool             `url:"DtmfInputRequired,omitempty"`              // calls ask for a key press first
	TTSName                        string            `url:"TtsName,omitempty"`                        // the text-to-speech name calls use
	PSD2Enabled                    *bool             `url:"Psd2Enabled,omitempty"`                    // verifications carry an Amount and a Payee
	DoNotShareWarningEnabled       *bool             `url:"DoNotShareWarningEnabled,omitempty"`       // SMS end with a "do not share" warning
	CustomCodeEnabled              *bool             `url:"CustomCodeEnabled,omitempty"`              // verifications may carry your own CustomCode
	DefaultTemplateSID             string            `url:"DefaultTemplateSid,omitempty"`             // HJ…, the default SMS template
	VerifyEventSubscriptionEnabled *bool             `url:"VerifyEventSubscriptionEnabled,omitempty"` // verifications reach your Event Streams sinks
	Push                           *PushSettings     `url:"Push,omitempty"`                           // sent as Push.IncludeDate, Push.ApnCredentialSid, …
	TOTP                           *TOTPSettings     `url:"Totp,omitempty"`                           // sent as Totp.Issuer, Totp.TimeStep, …
	WhatsApp                       *WhatsAppSettings `url:"Whatsapp,omitempty"`                       // sent as Whatsapp.MsgServiceSid, Whatsapp.From
	Passkeys                       *PasskeySettings  `url:"Passkeys,omitempty"`                       // sent as Passkeys.RelyingParty.Id, …
}

// UpdateServiceParams are the inputs of Services.Update: the fields of
// CreateServiceParams, none required. Only what is set is sent; everything
// else keeps its value. Set a boolean to Ptr(false) or Skew to Ptr(0) to
// send false or 0.
type UpdateServiceParams CreateServiceParams

// EncodeValues sends the settings as Push.IncludeDate, Push.ApnCredentialSid
// and Push.FcmCredentialSid; the SDK's form encoder calls it.
func (s *PushSettings) EncodeValues(key string, v *url.Values) error { return encodeDotted(key, s, v) }

// EncodeValues sends the settings as Totp.Issuer, Totp.TimeStep (in whole
// seconds), Totp.CodeLength and Totp.Skew; the SDK's form encoder calls it.
func (s *TOTPSettings) EncodeValues(key string, v *url.Values) error { return encodeDotted(key, s, v) }

// EncodeValues sends the settings as Whatsapp.MsgServiceSid and
// Whatsapp.From; the SDK's form encoder calls it.
func (s *WhatsAppSettings) EncodeValues(key string, v *url.Values) error {
	return encodeDotted(key, s, v)
}

// EncodeValues sends the settings as Passkeys.RelyingParty.Id, .Name and
// .Origins (one comma-separated value), Passkeys.AuthenticatorAttachment,
// Passkeys.DiscoverableCredentials and Passkeys.UserVerification; the SDK's
// form encoder calls it.
func (s *PasskeySettings) EncodeValues(key string, v *url.Values) error {
	return encodeDotted(key, s, v)
}

// EncodeValues sends the relying party as key.Id, key.Name and key.Origins;
// the SDK's form encoder calls it.
func (p PasskeyRelyingParty) EncodeValues(key string, v *url.Values) error {
	return encodeDotted(key, &p, v)
}

// addForm sends TimeStep in whole seconds.
func (s *TOTPSettings) addForm(form url.Values) {
	setSeconds(form, "TimeStep", nonZero(s.TimeStep))
}

// encodeDotted sends the fields of nested settings as the API names them,
// key and field joined by a dot: "Totp" and "Skew" give "Totp.Skew". A nil
// pointer sends nothing.
func encodeDotted[T any](key string, settings *T, v *url.Values) error {
	if settings == nil {
		return nil
	}
	form, err := formValues(settings)
	if err != nil {
		return err
	}
	for name, values := range form {
		(*v)[key+"."+name] = append((*v)[key+"."+name], values...)
	}
	return nil
}

// ServiceService creates, fetches, updates, deletes and lists Verify
// services; use Client.Services.
type ServiceService struct {
	client *Client
}

// Create makes a Verify service. FriendlyName is required: it is the name
// your users read in their messages.
func (s *ServiceService) Create(ctx context.Context, params *CreateServiceParams) (*Service, error) {
	return postValid[Service](ctx, s.client, s.client.baseURL+"/v2/Services", params)
}

// Fetch reads one service.
func (s *ServiceService) Fetch(ctx context.Context, serviceSID string) (*Service, error) {
	path, err := s.client.serviceSIDURL(serviceSID)
	if err != nil {
		return nil, err
	}
	return get[Service](ctx, s.client, path)
}

// Update changes the settings that params sets and keeps the others.
func (s *ServiceService) Update(ctx context.Context, serviceSID string, params *UpdateServiceParams) (*Service, error) {
	path, err := s.client.serviceSIDURL(serviceSID)
	if err != nil {
		return nil, err
	}
	return postValid[Service](ctx, s.client, path, params)
}

// Delete removes a service with everything under it; deleting twice
// deletes once, as for EntityService.Delete.
func (s *ServiceService) Delete(ctx context.Context, serviceSID string) error {
	path, err := s.client.serviceSIDURL(serviceSID)
	if err != nil {
		return err
	}
	return s.client.delete(ctx, path)
}

// ListPage fetches the first page of the account's services; page.Next goes on.
func (s *ServiceService) ListPage(ctx context.Context, params *ListParams) (*Page[Service], error) {
	return listPage[Service](ctx, s.client, s.client.baseURL+"/v2/Services", params)
}

// List iterates over the account's services, as ChallengeService.List does.
func (s *ServiceService) List(ctx context.Context, params *ListParams) iter.Seq2[*Service, error] {
	p := copyListParams(params)
	return listAll(ctx, p.Limit, func(ctx context.Context) (*Page[Service], error) {
		return s.ListPage(ctx, &p)
	})
}

// Validate checks every limit the API enforces on a new service; the error
// is a *ValidationError naming the field as the API does ("Totp.Skew").
func (p *CreateServiceParams) Validate() error { return p.validate(true) }

// Validate checks whatever fields of a service update are set.
func (p *UpdateServiceParams) Validate() error { return (*CreateServiceParams)(p).validate(false) }

// validate checks the settings; create requires FriendlyName.
func (p *CreateServiceParams) validate(create bool) error {
	if err := checkText("FriendlyName", p.FriendlyName, MaxServiceNameLength, create); err != nil {
		return err
	}
	if p.CodeLength != 0 && (p.CodeLength < MinCodeLength || p.CodeLength > MaxCodeLength) {
		return invalid("CodeLength", "must be between 4 and 10 digits")
	}
	if err := checkOptionalSID("DefaultTemplateSid", p.DefaultTemplateSID, "HJ"); err != nil {
		return err
	}
	if s := p.Push; s != nil {
		if err := checkOptionalSID("Push.ApnCredentialSid", s.APNCredentialSID, "CR"); err != nil {
			return err
		}
		if err := checkOptionalSID("Push.FcmCredentialSid", s.FCMCredentialSID, "CR"); err != nil {
			return err
		}
	}
	if s := p.TOTP; s != nil {
		if err := checkTOTPConfig("Totp", s.TimeStep, s.Skew, s.CodeLength, ""); err != nil {
			return err
		}
	}
	if s := p.WhatsApp; s != nil {
		if err := checkOptionalSID("Whatsapp.MsgServiceSid", s.MsgServiceSID, "MG"); err != nil {
			return err
		}
	}
	if s := p.Passkeys; s != nil {
		return s.validate()
	}
	return nil
}

// validate checks the relying party's origins and the enums of a
// service's settings.
func (s *PasskeySettings) validate() error { return s.check(servicePasskeyFields) }

// passkeyFields spell the settings' fields as one request names them.
type passkeyFields struct {
	origins, attachment, discoverable, userVerification string
	// oneValue: the origins travel as one comma-separated value (a form).
	oneValue bool
}

var (
	// servicePasskeyFields name the settings in a Service's form.
	servicePasskeyFields = passkeyFields{"Passkeys.RelyingParty.Origins", "Passkeys.AuthenticatorAttachment",
		"Passkeys.DiscoverableCredentials", "Passkeys.UserVerification", true}
	// factorPasskeyFields name them in a passkey factor's JSON config.
	factorPasskeyFields = passkeyFields{"config.relying_party.origins", "config.authenticator_attachment",
		"config.discoverable_credentials", "config.user_verification", false}
)

// check validates the settings, naming each field as names spell it.
func (s *PasskeySettings) check(names passkeyFields) error {
	for i, o := range s.RelyingParty.Origins {
		field := names.origins + "[" + strconv.Itoa(i) + "]"
		switch {
		case names.oneValue && (o == "" || strings.ContainsAny(o, ", \t\r\n")):
			return invalid(field, "must be a non-empty origin without commas or spaces: the API takes the list as one comma-separated value")
		case o == "" || strings.ContainsAny(o, " \t\r\n"):
			return invalid(field, "must be a non-empty origin without spaces, such as https://example.com")
		}
	}
	switch {
	case s.AuthenticatorAttachment != "" && !s.AuthenticatorAttachment.Known():
		return invalid(names.attachment, "must be platform, cross-platform or any")
	case s.DiscoverableCredentials != "" && !s.DiscoverableCredentials.Known():
		return invalid(names.discoverable, "must be required, preferred or discouraged")
	case s.UserVerification != "" && !s.UserVerification.Known():
		return invalid(names.userVerification, "must be required, preferred or discouraged")
	}
	return nil
}

// checkOptionalSID checks a SID that may be left empty.
func checkOptionalSID(field, sid, prefix string) error {
	if sid == "" {
		return nil
	}
	return checkSID(field, sid, prefix)
}
