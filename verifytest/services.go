package verifytest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
)

// serviceHelperName is the friendly name of the services NewServer and
// NewService make: it is what their messages say ("Your verifytest
// verification code is: …") and the issuer of their TOTP factors.
const serviceHelperName = "verifytest"

// The API's defaults for a new service: codes of 6 digits, and TOTP
// factors of 6 digits every 30 s with one step of skew either side.
const (
	defaultCodeLength = 6
	defaultTOTPStep   = 30 * time.Second
	defaultTOTPDigits = 6
	defaultTOTPSkew   = 1
)

// service is one Verify service: its settings and everything under it.
type service struct {
	seq          int64 // creation order, for lists
	sid          string
	created      time.Time
	updated      time.Time
	cfg          verify.Service          // the settings: FriendlyName, CodeLength, Push, TOTP, …; SID and dates unused
	entities     map[string]*entity      // by identity
	accessTokens map[string]*accessToken // by SID
	webhooks     []*webhook              // in creation order
	// passkeyChallenges are the service's passkeys challenges, by the
	// WebAuthn challenge their options carry.
	passkeyChallenges map[string]*challenge
	// verifications are the live ones (pending, or out of checks until
	// they expire), in creation order: Verify forgets one once it is
	// approved, canceled or expired.
	verifications []*verification
}

// addService stores a new service with the API's defaults, then p's
// settings; the caller holds s.mu and has checked p.
func (s *Server) addService(p *verify.CreateServiceParams) *service {
	now := s.now()
	svc := &service{
		seq: s.nextSeq(), sid: newSID("VA"), created: now, updated: now,
		cfg: verify.Service{CodeLength: defaultCodeLength,
			Push: verify.PushSettings{IncludeDate: verify.Ptr(false)},
			TOTP: verify.TOTPSettings{TimeStep: defaultTOTPStep, CodeLength: defaultTOTPDigits, Skew: verify.Ptr(defaultTOTPSkew)}},
		entities: map[string]*entity{}, accessTokens: map[string]*accessToken{},
		passkeyChallenges: map[string]*challenge{},
	}
	applyService(&svc.cfg, p)
	s.services[svc.sid] = svc
	return svc
}

// NewService adds a Verify service named "verifytest", with the API's
// defaults, and returns its SID. It is the same as Services.Create: the
// service is listed, fetched, updated and deleted through the API.
func (s *Server) NewService() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addService(&verify.CreateServiceParams{FriendlyName: serviceHelperName}).sid
}

// applyService sets the settings p sets and keeps the others.
func applyService(c *verify.Service, p *verify.CreateServiceParams) {
	setString(&c.FriendlyName, p.FriendlyName)
	if p.CodeLength != 0 {
		c.CodeLength = p.CodeLength
	}
	for _, b := range []struct {
		to   *bool
		from *bool
	}{
		{&c.LookupEnabled, p.LookupEnabled}, {&c.SkipSMSToLandlines, p.SkipSMSToLandlines},
		{&c.DTMFInputRequired, p.DTMFInputRequired}, {&c.PSD2Enabled, p.PSD2Enabled},
		{&c.DoNotShareWarningEnabled, p.DoNotShareWarningEnabled}, {&c.CustomCodeEnabled, p.CustomCodeEnabled},
		{&c.VerifyEventSubscriptionEnabled, p.VerifyEventSubscriptionEnabled},
	} {
		if b.from != nil {
			*b.to = *b.from
		}
	}
	setString(&c.TTSName, p.TTSName)
	setString(&c.DefaultTemplateSID, p.DefaultTemplateSID)
	if q := p.Push; q != nil {
		if q.IncludeDate != nil {
			c.Push.IncludeDate = verify.Ptr(*q.IncludeDate)
		}
		setString(&c.Push.APNCredentialSID, q.APNCredentialSID)
		setString(&c.Push.FCMCredentialSID, q.FCMCredentialSID)
	}
	if q := p.TOTP; q != nil {
		setString(&c.TOTP.Issuer, q.Issuer)
		if q.TimeStep != 0 {
			c.TOTP.TimeStep = q.TimeStep
		}
		if q.CodeLength != 0 {
			c.TOTP.CodeLength = q.CodeLength
		}
		if q.Skew != nil {
			c.TOTP.Skew = verify.Ptr(*q.Skew)
		}
	}
	if q := p.WhatsApp; q != nil {
		setString(&c.WhatsApp.MsgServiceSID, q.MsgServiceSID)
		setString(&c.WhatsApp.From, q.From)
	}
	if q := p.Passkeys; q != nil {
		setString(&c.Passkeys.RelyingParty.ID, q.RelyingParty.ID)
		setString(&c.Passkeys.RelyingParty.Name, q.RelyingParty.Name)
		if q.RelyingParty.Origins != nil {
			c.Passkeys.RelyingParty.Origins = append([]string(nil), q.RelyingParty.Origins...)
		}
		if q.AuthenticatorAttachment != "" {
			c.Passkeys.AuthenticatorAttachment = q.AuthenticatorAttachment
		}
		if q.DiscoverableCredentials != "" {
			c.Passkeys.DiscoverableCredentials = q.DiscoverableCredentials
		}
		if q.UserVerification != "" {
			c.Passkeys.UserVerification = q.UserVerification
		}
	}
}

// setString sets *to to from, unless from is empty (not sent).
func setString(to *string, from string) {
	if from != "" {
		*to = from
	}
}

// totpDefaults is the config of a new TOTP factor of svc that asks for
// nothing else: the service's time step, code length and skew, SHA-1.
func (svc *service) totpDefaults() totp.ValidateOpts {
	return totp.ValidateOpts{
		Period: uint(svc.cfg.TOTP.TimeStep / time.Second), Skew: uint(*svc.cfg.TOTP.Skew),
		Digits: otp.Digits(svc.cfg.TOTP.CodeLength), Algorithm: otp.AlgorithmSHA1,
	}
}

// totpIssuer is the issuer in the otpauth:// URIs of svc's TOTP factors:
// its TOTP issuer, or its friendly name when it has none, as the API does.
func (svc *service) totpIssuer() string {
	if svc.cfg.TOTP.Issuer != "" {
		return svc.cfg.TOTP.Issuer
	}
	return svc.cfg.FriendlyName
}

// serviceJSON is a service on the wire, with the nulls the API sends for
// settings never set.
type serviceJSON struct {
	SID                            string            `json:"sid"`
	AccountSID                     string            `json:"account_sid"`
	FriendlyName                   string            `json:"friendly_name"`
	CodeLength                     int               `json:"code_length"`
	LookupEnabled                  bool              `json:"lookup_enabled"`
	PSD2Enabled                    bool              `json:"psd2_enabled"`
	SkipSMSToLandlines             bool              `json:"skip_sms_to_landlines"`
	DTMFInputRequired              bool              `json:"dtmf_input_required"`
	TTSName                        *string           `json:"tts_name"`
	DoNotShareWarningEnabled       bool              `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled              bool              `json:"custom_code_enabled"`
	Push                           servicePushJSON   `json:"push"`
	TOTP                           serviceTOTPJSON   `json:"totp"`
	DefaultTemplateSID             *string           `json:"default_template_sid"`
	WhatsApp                       serviceWAJSON     `json:"whatsapp"`
	Passkeys                       servicePasskeys   `json:"passkeys"`
	VerifyEventSubscriptionEnabled bool              `json:"verify_event_subscription_enabled"`
	DateCreated                    *string           `json:"date_created"`
	DateUpdated                    *string           `json:"date_updated"`
	URL                            string            `json:"url"`
	Links                          map[string]string `json:"links"`
}

type servicePushJSON struct {
	IncludeDate      bool    `json:"include_date"`
	APNCredentialSID *string `json:"apn_credential_sid"`
	FCMCredentialSID *string `json:"fcm_credential_sid"`
}

type serviceTOTPJSON struct {
	Issuer     *string `json:"issuer"`
	TimeStep   int     `json:"time_step"`
	CodeLength int     `json:"code_length"`
	Skew       int     `json:"skew"`
}

type serviceWAJSON struct {
	MsgServiceSID *string `json:"msg_service_sid"`
	From          *string `json:"from"`
}

type servicePasskeys struct {
	RelyingParty struct {
		ID      *string  `json:"id"`
		Name    *string  `json:"name"`
		Origins []string `json:"origins"`
	} `json:"relying_party"`
	AuthenticatorAttachment *string `json:"authenticator_attachment"`
	DiscoverableCredentials *string `json:"discoverable_credentials"`
	UserVerification        *string `json:"user_verification"`
}

// orNull is s, or JSON null when s is empty.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// serviceWire is svc on the wire.
func (s *Server) serviceWire(svc *service) serviceJSON {
	c := &svc.cfg
	u := s.URL + "/v2/Services/" + svc.sid
	out := serviceJSON{
		SID: svc.sid, AccountSID: s.accountSID, FriendlyName: c.FriendlyName, CodeLength: c.CodeLength,
		LookupEnabled: c.LookupEnabled, PSD2Enabled: c.PSD2Enabled, SkipSMSToLandlines: c.SkipSMSToLandlines,
		DTMFInputRequired: c.DTMFInputRequired, TTSName: orNull(c.TTSName),
		DoNotShareWarningEnabled: c.DoNotShareWarningEnabled, CustomCodeEnabled: c.CustomCodeEnabled,
		Push: servicePushJSON{IncludeDate: *c.Push.IncludeDate,
			APNCredentialSID: orNull(c.Push.APNCredentialSID), FCMCredentialSID: orNull(c.Push.FCMCredentialSID)},
		TOTP: serviceTOTPJSON{Issuer: orNull(c.TOTP.Issuer), TimeStep: int(c.TOTP.TimeStep / time.Second),
			CodeLength: c.TOTP.CodeLength, Skew: *c.TOTP.Skew},
		DefaultTemplateSID:             orNull(c.DefaultTemplateSID),
		WhatsApp:                       serviceWAJSON{MsgServiceSID: orNull(c.WhatsApp.MsgServiceSID), From: orNull(c.WhatsApp.From)},
		VerifyEventSubscriptionEnabled: c.VerifyEventSubscriptionEnabled,
		DateCreated:                    date(svc.created), DateUpdated: date(svc.updated), URL: u,
		Links: map[string]string{
			"verification_checks": u + "/VerificationCheck", "verifications": u + "/Verifications",
			"rate_limits": u + "/RateLimits", "messaging_configurations": u + "/MessagingConfigurations",
			"entities": u + "/Entities", "webhooks": u + "/Webhooks", "access_tokens": u + "/AccessTokens",
		},
	}
	pk := &out.Passkeys
	pk.RelyingParty.ID, pk.RelyingParty.Name = orNull(c.Passkeys.RelyingParty.ID), orNull(c.Passkeys.RelyingParty.Name)
	pk.RelyingParty.Origins = append([]string{}, c.Passkeys.RelyingParty.Origins...)
	pk.AuthenticatorAttachment = orNull(string(c.Passkeys.AuthenticatorAttachment))
	pk.DiscoverableCredentials = orNull(string(c.Passkeys.DiscoverableCredentials))
	pk.UserVerification = orNull(string(c.Passkeys.UserVerification))
	return out
}

// parseServiceCreate reads and checks a new service's form: FriendlyName
// is required.
func parseServiceCreate(form url.Values) (*verify.CreateServiceParams, *apiError) {
	p, err := parseServiceForm(form)
	if err != nil {
		return nil, err
	}
	return p, invalidParameter(p.Validate())
}

// parseServiceUpdate reads and checks a service's Update form.
func parseServiceUpdate(form url.Values) (*verify.CreateServiceParams, *apiError) {
	p, err := parseServiceForm(form)
	if err != nil {
		return nil, err
	}
	return p, invalidParameter((*verify.UpdateServiceParams)(p).Validate())
}

// parseServiceForm reads the settings a service's form sends, by the API's
// dotted names, as the SDK's params hold them: what is absent stays zero
// (nil for the booleans, Skew and each settings group).
func parseServiceForm(form url.Values) (*verify.CreateServiceParams, *apiError) {
	r := formReader{form: form}
	p := &verify.CreateServiceParams{
		FriendlyName: form.Get("FriendlyName"), TTSName: form.Get("TtsName"), DefaultTemplateSID: form.Get("DefaultTemplateSid"),
		CodeLength:         r.integer("CodeLength", 1),
		LookupEnabled:      r.boolean("LookupEnabled"),
		SkipSMSToLandlines: r.boolean("SkipSmsToLandlines"),
		DTMFInputRequired:  r.boolean("DtmfInputRequired"),
		PSD2Enabled:        r.boolean("Psd2Enabled"),
		CustomCodeEnabled:  r.boolean("CustomCodeEnabled"),

		DoNotShareWarningEnabled:       r.boolean("DoNotShareWarningEnabled"),
		VerifyEventSubscriptionEnabled: r.boolean("VerifyEventSubscriptionEnabled"),
	}
	if r.any("Push.") {
		p.Push = &verify.PushSettings{IncludeDate: r.boolean("Push.IncludeDate"),
			APNCredentialSID: form.Get("Push.ApnCredentialSid"), FCMCredentialSID: form.Get("Push.FcmCredentialSid")}
	}
	if r.any("Totp.") {
		p.TOTP = &verify.TOTPSettings{Issuer: form.Get("Totp.Issuer"), TimeStep: time.Duration(r.integer("Totp.TimeStep", 1)) * time.Second,
			CodeLength: r.integer("Totp.CodeLength", 1)}
		if _, ok := form["Totp.Skew"]; ok {
			p.TOTP.Skew = verify.Ptr(r.integer("Totp.Skew", 0))
		}
	}
	if r.any("Whatsapp.") {
		p.WhatsApp = &verify.WhatsAppSettings{MsgServiceSID: form.Get("Whatsapp.MsgServiceSid"), From: form.Get("Whatsapp.From")}
	}
	if r.any("Passkeys.") {
		p.Passkeys = &verify.PasskeySettings{
			RelyingParty:            verify.PasskeyRelyingParty{ID: form.Get("Passkeys.RelyingParty.Id"), Name: form.Get("Passkeys.RelyingParty.Name")},
			AuthenticatorAttachment: verify.AuthenticatorAttachment(form.Get("Passkeys.AuthenticatorAttachment")),
			DiscoverableCredentials: verify.PasskeyRequirement(form.Get("Passkeys.DiscoverableCredentials")),
			UserVerification:        verify.PasskeyRequirement(form.Get("Passkeys.UserVerification")),
		}
		if origins, ok := form["Passkeys.RelyingParty.Origins"]; ok {
			p.Passkeys.RelyingParty.Origins = strings.Split(strings.Join(origins, ","), ",")
		}
	}
	return p, r.err
}

// formReader reads typed form values; the first value that does not parse
// is kept in err, a 60200 naming it, and reads as zero.
type formReader struct {
	form url.Values
	err  *apiError
}

// integer reads key as one integer of at least minimum; absent, 0.
func (r *formReader) integer(key string, minimum int) int {
	v, ok := r.form[key]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v[0])
	if len(v) != 1 || err != nil || n < minimum {
		r.refuse(key, "must be one integer of at least "+strconv.Itoa(minimum))
		return 0
	}
	return n
}

// boolean reads key as true or false; absent, nil.
func (r *formReader) boolean(key string) *bool {
	v, ok := r.form[key]
	if !ok {
		return nil
	}
	if len(v) != 1 || (v[0] != "true" && v[0] != "false") {
		r.refuse(key, "must be true or false")
		return nil
	}
	return verify.Ptr(v[0] == "true")
}

// any reports whether a key starting with prefix was sent.
func (r *formReader) any(prefix string) bool {
	for k := range r.form {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// refuse records the first bad value.
func (r *formReader) refuse(key, rule string) {
	if r.err == nil {
		r.err = parameterError(key, rule)
	}
}

// createService stores a new service; the caller holds s.mu.
func (s *Server) createService(_ *http.Request, p *verify.CreateServiceParams) (any, *apiError) {
	return s.serviceWire(s.addService(p)), nil
}

// patchService applies an Update to the path's service: what it sends
// changes, the rest stays. The caller holds s.mu.
func (s *Server) patchService(r *http.Request, p *verify.CreateServiceParams) (any, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	applyService(&svc.cfg, p)
	svc.updated = s.now()
	return s.serviceWire(svc), nil
}

// removeService deletes the service with everything under it: entities,
// factors, challenges, access tokens, webhooks and verifications. No event
// is raised: its webhooks go with it. The caller holds s.mu.
func (s *Server) removeService(svc *service) {
	for _, t := range svc.accessTokens {
		delete(s.tokens, t.token)
	}
	delete(s.services, svc.sid)
}

// servicesOf lists the account's services in creation order; the caller
// holds s.mu.
func (s *Server) servicesOf(*http.Request) ([]*service, *apiError) {
	return sortedBySeq(s.services, func(svc *service) int64 { return svc.seq }), nil
}
