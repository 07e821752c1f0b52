package verifytest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
)

// factorJSON is a factor on the wire, without its binding.
type factorJSON struct {
	SID          string            `json:"sid"`
	AccountSID   string            `json:"account_sid"`
	ServiceSID   string            `json:"service_sid"`
	EntitySID    string            `json:"entity_sid"`
	Identity     string            `json:"identity"`
	DateCreated  *string           `json:"date_created"`
	DateUpdated  *string           `json:"date_updated"`
	FriendlyName string            `json:"friendly_name"`
	Status       string            `json:"status"`
	FactorType   string            `json:"factor_type"`
	Config       any               `json:"config"`
	Metadata     map[string]string `json:"metadata"`
	URL          string            `json:"url"`
}

// newFactorJSON is a factor as Create answers: the only time its binding
// (the TOTP secret, or the push key) is sent.
type newFactorJSON struct {
	factorJSON
	Binding map[string]string `json:"binding"`
	Options any               `json:"options"`
}

type totpConfigJSON struct {
	Alg        string `json:"alg"`
	Skew       int    `json:"skew"`
	CodeLength int    `json:"code_length"`
	TimeStep   int    `json:"time_step"`
}

type pushConfigJSON struct {
	SDKVersion           string `json:"sdk_version"`
	AppID                string `json:"app_id"`
	NotificationPlatform string `json:"notification_platform"`
	NotificationToken    string `json:"notification_token"`
}

func (s *Server) factorWire(f *factor) factorJSON {
	status := verify.FactorStatusUnverified
	if f.verified {
		status = verify.FactorStatusVerified
	}
	out := factorJSON{
		SID: f.sid, AccountSID: s.accountSID, ServiceSID: f.entity.serviceSID, EntitySID: f.entity.sid,
		Identity: f.entity.identity, DateCreated: date(f.created), DateUpdated: date(f.updated),
		FriendlyName: f.friendlyName, Status: string(status), FactorType: string(f.kind),
		Metadata: f.metadata, URL: f.entity.url(s.URL) + "/Factors/" + f.sid,
	}
	switch f.kind {
	case verify.FactorTypeTOTP:
		out.Config = totpConfigJSON{Alg: string(algorithmName(f.totp.Algorithm)), Skew: int(f.totp.Skew),
			CodeLength: f.totp.Digits.Length(), TimeStep: int(f.totp.Period)}
	case verify.FactorTypePasskeys:
		out.Config = configWire(f.passkey.settings)
	default:
		out.Config = pushConfigJSON{SDKVersion: f.push.sdkVersion, AppID: f.push.appID,
			NotificationPlatform: f.push.platform, NotificationToken: f.push.token}
	}
	return out
}

// newFactorWire is f as Create answers, with its binding (null for
// passkeys); a TOTP factor's URI names its service's issuer. The caller
// holds s.mu.
func (s *Server) newFactorWire(f *factor) newFactorJSON {
	var binding map[string]string
	switch f.kind {
	case verify.FactorTypeTOTP:
		binding = map[string]string{"secret": f.secret, "uri": f.totpURI(s.services[f.entity.serviceSID].totpIssuer())}
	case verify.FactorTypePush:
		binding = map[string]string{"alg": "ES256", "public_key": f.publicKeyText}
	}
	return newFactorJSON{factorJSON: s.factorWire(f), Binding: binding}
}

// attachFactor numbers f, stores it on ent and raises factor.created (and
// factor.verified for a helper's factor born verified); the caller holds s.mu.
func (s *Server) attachFactor(ent *entity, f *factor) {
	f.seq, f.entity = s.nextSeq(), ent
	f.created = s.now()
	f.updated = f.created
	ent.factors[f.sid] = f
	s.factorCreated(f)
}

// factorFor finds the factor a path names; the caller holds s.mu.
func (s *Server) factorFor(r *http.Request) (*factor, *apiError) {
	ent, err := s.entityFor(r)
	if err != nil {
		return nil, err
	}
	f := ent.factors[r.PathValue("sid")]
	if f == nil {
		return nil, notFound("Factor " + r.PathValue("sid"))
	}
	return f, nil
}

// newFactor is a factor's checked Create form: the factor, and for TOTP the
// config it asks for, applied to its service's defaults once the service
// is known.
type newFactor struct {
	f    *factor
	totp totpConfig
}

// totpConfig is the TOTP config a form or a helper asks for; zero values
// (nil skew, empty alg) keep the base's.
type totpConfig struct {
	timeStep   time.Duration
	skew       *int
	codeLength int
	alg        verify.TOTPAlgorithm
}

// on is the config c asks for on top of base.
func (c totpConfig) on(base totp.ValidateOpts) totp.ValidateOpts {
	return totpOpts(base, c.timeStep, c.skew, c.codeLength, c.alg)
}

// parseFactor reads and checks a factor's Create form.
func parseFactor(form url.Values) (*newFactor, *apiError) {
	switch kind := verify.FactorType(form.Get("FactorType")); kind {
	case verify.FactorTypeTOTP:
		return parseTOTPFactor(form)
	case verify.FactorTypePush:
		f, err := parsePushFactor(form)
		return &newFactor{f: f}, err
	default:
		return nil, badRequest("FactorType must be totp or push, not %q", kind)
	}
}

// createFactor stores a new factor on the path's entity, creating the
// entity for a first factor; with an access token, only as its one
// enrollment. A TOTP factor takes its service's defaults for what its
// Config leaves out. The caller holds s.mu.
func (s *Server) createFactor(r *http.Request, nf *newFactor) (any, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	f := nf.f
	if f.kind == verify.FactorTypeTOTP {
		f.totp = nf.totp.on(svc.totpDefaults())
	}
	tok := callerOf(r).token
	if tok != nil {
		if err := s.usableFor(tok, f); err != nil {
			return nil, err
		}
	}
	ent, err := s.entityOrNew(svc, r.PathValue("identity"))
	if err != nil {
		return nil, err
	}
	if tok != nil {
		tok.spend(f)
	}
	s.attachFactor(ent, f)
	return s.newFactorWire(f), nil
}

// parseTOTPFactor reads and checks a TOTP factor's Create form.
func parseTOTPFactor(form url.Values) (*newFactor, *apiError) {
	p := verify.CreateTOTPFactorParams{
		FriendlyName: form.Get("FriendlyName"), Secret: verify.NewSecret(form.Get("Binding.Secret")),
		Alg: verify.TOTPAlgorithm(form.Get("Config.Alg")),
	}
	var err *apiError
	if p.TimeStep, p.Skew, p.CodeLength, err = totpConfigForm(form); err != nil {
		return nil, err
	}
	if p.Metadata, err = decodeStringMap(form, "Metadata"); err != nil {
		return nil, err
	}
	if err := validation(p.Validate()); err != nil {
		return nil, err
	}
	secret := p.Secret.Reveal()
	if secret == "" {
		secret = newTOTPSecret()
	}
	return &newFactor{
		f:    &factor{sid: newSID("YF"), kind: verify.FactorTypeTOTP, friendlyName: p.FriendlyName, metadata: p.Metadata, secret: secret},
		totp: totpConfig{timeStep: p.TimeStep, skew: p.Skew, codeLength: p.CodeLength, alg: p.Alg},
	}, nil
}

// parsePushFactor reads and checks a push factor's Create form.
func parsePushFactor(form url.Values) (*factor, *apiError) {
	if alg := form.Get("Binding.Alg"); alg != "ES256" {
		return nil, badRequest("Binding.Alg must be ES256 for push factors, not %q", alg)
	}
	p := verify.CreatePushFactorParams{
		FriendlyName: form.Get("FriendlyName"), PublicKey: form.Get("Binding.PublicKey"),
		AppID: form.Get("Config.AppId"), NotificationPlatform: verify.NotificationPlatform(form.Get("Config.NotificationPlatform")),
		NotificationToken: form.Get("Config.NotificationToken"), SDKVersion: form.Get("Config.SdkVersion"),
	}
	var err *apiError
	if p.Metadata, err = decodeStringMap(form, "Metadata"); err != nil {
		return nil, err
	}
	if err := validation(p.Validate()); err != nil {
		return nil, err
	}
	pub, perr := parsePublicKey(p.PublicKey)
	if perr != nil {
		return nil, badRequest("Binding.PublicKey: %v", perr)
	}
	return &factor{
		sid: newSID("YF"), kind: verify.FactorTypePush, friendlyName: p.FriendlyName, metadata: p.Metadata,
		publicKey: pub, publicKeyText: p.PublicKey,
		push: pushConfig{appID: p.AppID, platform: string(p.NotificationPlatform), token: p.NotificationToken, sdkVersion: p.SDKVersion},
	}, nil
}

// totpConfigForm reads Config.TimeStep, Config.Skew and Config.CodeLength;
// absent ones are zero (nil for skew), as the SDK's params have them.
func totpConfigForm(form url.Values) (timeStep time.Duration, skew *int, codeLength int, err *apiError) {
	read := func(key string) (*int, *apiError) {
		v, ok := form[key]
		if !ok {
			return nil, nil
		}
		n, convErr := strconv.Atoi(v[0])
		if len(v) != 1 || convErr != nil {
			return nil, badRequest("%s must be one integer", key)
		}
		return &n, nil
	}
	var step, length *int
	if step, err = read("Config.TimeStep"); err != nil {
		return
	}
	if skew, err = read("Config.Skew"); err != nil {
		return
	}
	if length, err = read("Config.CodeLength"); err != nil {
		return
	}
	if step != nil {
		timeStep = time.Duration(*step) * time.Second
	}
	if length != nil {
		codeLength = *length
	}
	return
}

// parseFactorUpdate reads and checks a factor's Update form.
func parseFactorUpdate(form url.Values) (*verify.UpdateFactorParams, *apiError) {
	p := &verify.UpdateFactorParams{
		AuthPayload: verify.NewSecret(form.Get("AuthPayload")), FriendlyName: form.Get("FriendlyName"),
		NotificationToken: form.Get("Config.NotificationToken"), SDKVersion: form.Get("Config.SdkVersion"),
		NotificationPlatform: verify.NotificationPlatform(form.Get("Config.NotificationPlatform")),
		Alg:                  verify.TOTPAlgorithm(form.Get("Config.Alg")),
	}
	var err *apiError
	if p.TimeStep, p.Skew, p.CodeLength, err = totpConfigForm(form); err != nil {
		return nil, err
	}
	return p, validation(p.Validate())
}

// patchFactor applies an Update to the path's factor; the caller holds s.mu.
func (s *Server) patchFactor(r *http.Request, p *verify.UpdateFactorParams) (any, *apiError) {
	f, err := s.factorFor(r)
	if err == nil {
		err = s.updateFactor(f, p)
	}
	if err != nil {
		return nil, err
	}
	return s.factorWire(f), nil
}

// updateFactor applies an Update: settings of the factor's own type, and
// the AuthPayload that verifies it. A failed verification (a wrong code, a
// code of the wrong length, too many tries, a bad push signature) changes
// nothing but the count of wrong codes: the settings are applied only with
// a payload that verifies, or none, and the code is checked with the
// config the Update sets. The caller holds s.mu.
func (s *Server) updateFactor(f *factor, p *verify.UpdateFactorParams) *apiError {
	totpFields := p.TimeStep != 0 || p.Skew != nil || p.CodeLength != 0 || p.Alg != ""
	pushFields := p.NotificationToken != "" || p.SDKVersion != "" || p.NotificationPlatform != ""
	switch {
	case f.kind != verify.FactorTypePush && pushFields:
		return badRequest("Config.NotificationToken, Config.SdkVersion and Config.NotificationPlatform are for push factors; %s is %s", f.sid, f.kind)
	case f.kind != verify.FactorTypeTOTP && totpFields:
		return badRequest("Config.TimeStep, Config.Skew, Config.CodeLength and Config.Alg are for totp factors; %s is %s", f.sid, f.kind)
	case f.kind == verify.FactorTypePasskeys && !p.AuthPayload.IsZero() && !f.verified:
		return badRequest("A passkeys factor is verified with POST /v2/Services/%s/Passkeys/VerifyFactor, not an AuthPayload", f.entity.serviceSID)
	}
	now := s.now()
	next := *f // the factor as the Update would leave it
	if p.FriendlyName != "" {
		next.friendlyName = p.FriendlyName
	}
	if totpFields {
		next.totp = totpConfig{timeStep: p.TimeStep, skew: p.Skew, codeLength: p.CodeLength, alg: p.Alg}.on(f.totp)
	}
	if p.NotificationPlatform != "" {
		next.push.platform = string(p.NotificationPlatform)
	}
	if p.NotificationToken != "" {
		next.push.token = p.NotificationToken
	}
	if p.SDKVersion != "" {
		next.push.sdkVersion = p.SDKVersion
	}
	next.updated = now
	if p.AuthPayload.IsZero() || f.verified {
		*f = next // a verified factor stays verified; its AuthPayload is not checked again
		return nil
	}
	ok, err := s.checkFactorPayload(f, &next, p.AuthPayload.Reveal(), now)
	if !ok {
		return err // nil for a wrong code: 200 with the factor unchanged, as the API has done since 2021
	}
	next.verified = true
	*f = next
	s.factorEvent(verify.EventFactorVerified, f)
	return nil
}

// checkFactorPayload reports whether the AuthPayload that verifies f is
// right, checked as next (f with the Update's settings) would check it. A
// wrong TOTP code is counted on f and reported as false with no error,
// until it is one too many (60310); a refused payload is false with the
// error to answer. The caller holds s.mu.
func (s *Server) checkFactorPayload(f, next *factor, payload string, now time.Time) (bool, *apiError) {
	if f.kind == verify.FactorTypePush {
		if err := checkFactorSignature(next, payload); err != nil {
			return false, fail(http.StatusForbidden, codeFactorVerifyFail, "Factor verification failed: %v", err)
		}
		return true, nil
	}
	if err := checkTOTPCodeLength(payload); err != nil {
		return false, err
	}
	tooMany := fail(http.StatusTooManyRequests, codeMaxFactorAttempts,
		"Max verification attempts reached for factor %s; delete it and enroll again", f.sid)
	if f.wrongAttempts > maxWrongAttempts {
		return false, tooMany
	}
	if s.totpValid(next, payload, now) {
		return true, nil
	}
	// The 6th wrong one is 60310, like 60308 on challenges.
	if f.wrongAttempts++; f.wrongAttempts > maxWrongAttempts {
		return false, tooMany
	}
	return false, nil
}

// checkFactorSignature checks a push factor's verification payload: the
// base64 ES256 (ASN.1 DER) signature of the factor's SID by its key, as the
// Verify Push SDKs send it.
func checkFactorSignature(f *factor, payload string) error {
	sig, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return errors.New("AuthPayload is not base64")
	}
	digest := sha256.Sum256([]byte(f.sid))
	if !ecdsa.VerifyASN1(f.publicKey, digest[:], sig) {
		return errors.New("AuthPayload is not the factor SID signed by the factor's key")
	}
	return nil
}

// removeFactor deletes the factor and its challenges and raises
// factor.deleted; the caller holds s.mu.
func (s *Server) removeFactor(f *factor) {
	s.factorEvent(verify.EventFactorDeleted, f)
	ent := f.entity
	if svc := s.services[ent.serviceSID]; svc != nil {
		for key, c := range svc.passkeyChallenges {
			if c.factor == f || slices.Contains(c.passkey.allowed, f) {
				delete(svc.passkeyChallenges, key)
			}
		}
	}
	delete(ent.factors, f.sid)
	kept := ent.challenges[:0]
	for _, c := range ent.challenges {
		if c.factor != f {
			kept = append(kept, c)
		}
	}
	clear(ent.challenges[len(kept):])
	ent.challenges = kept
}

// factorsOf lists the path's entity's factors in creation order; the
// caller holds s.mu.
func (s *Server) factorsOf(r *http.Request) ([]*factor, *apiError) {
	ent, err := s.entityFor(r)
	if err != nil {
		return nil, err
	}
	return sortedBySeq(ent.factors, func(f *factor) int64 { return f.seq }), nil
}
