package verifytest

import (
	"cmp"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	verify "github.com/verifykit/verify-go"
)

// Verifications as the API runs them: a code of the service's CodeLength
// (or the CustomCode, on a service with CustomCodeEnabled) sent to To over
// the channel and kept in the outbox (Outbox, LastCode); a second Create
// for the same To while one is pending sends the same code again, up to
// maxSends times; the code expires verificationTTL after the first send;
// maxChecks wrong checks leave it max_attempts_reached. Verify forgets a
// verification once it is approved, canceled or expired, or out of checks:
// a Fetch, an Update or a check then answers 20404.
const (
	verificationTTL = 10 * time.Minute
	maxSends        = 5 // per verification; the 6th Create for its To is 60203
	maxChecks       = 5 // per verification; the 5th wrong one leaves it max_attempts_reached, a 6th is 60202
)

// verification is one code on its way to a phone number or an address.
type verification struct {
	sid     string
	svc     *service
	to      string
	channel verify.Channel // the channel of the latest send
	status  verify.VerificationStatus
	code    string
	amount  string // PSD2, as sent
	payee   string
	created time.Time
	updated time.Time
	expires time.Time
	sends   []sendAttempt // oldest first
	checks  int           // wrong codes checked
}

// sendAttempt is one sending of a verification's code.
type sendAttempt struct {
	sid     string // VL…
	time    time.Time
	channel verify.Channel
}

// verificationBaseJSON are the fields a verification and a check's answer
// share on the wire.
type verificationBaseJSON struct {
	SID         string  `json:"sid"`
	ServiceSID  string  `json:"service_sid"`
	AccountSID  string  `json:"account_sid"`
	To          string  `json:"to"`
	Channel     string  `json:"channel"`
	Status      string  `json:"status"`
	Valid       bool    `json:"valid"`
	Amount      *string `json:"amount"`
	Payee       *string `json:"payee"`
	DateCreated *string `json:"date_created"`
	DateUpdated *string `json:"date_updated"`
}

// verificationJSON is a verification on the wire. The fake looks nothing up
// (lookup is {}) and runs no Silent Network Auth (sna is null).
type verificationJSON struct {
	verificationBaseJSON
	Lookup           map[string]any    `json:"lookup"`
	SendCodeAttempts []sendAttemptJSON `json:"send_code_attempts"`
	SNA              *struct{}         `json:"sna"`
	URL              string            `json:"url"`
}

type sendAttemptJSON struct {
	Time       *string `json:"time"`
	Channel    string  `json:"channel"`
	AttemptSID string  `json:"attempt_sid"`
}

// verificationCheckJSON is a check's answer on the wire.
type verificationCheckJSON struct {
	verificationBaseJSON
	SNAAttemptsErrorCodes []any `json:"sna_attempts_error_codes"`
}

// baseWire is what v's wire forms share.
func (s *Server) baseWire(v *verification) verificationBaseJSON {
	return verificationBaseJSON{
		SID: v.sid, ServiceSID: v.svc.sid, AccountSID: s.accountSID, To: v.to, Channel: string(v.channel),
		Status: string(v.status), Valid: v.status == verify.VerificationApproved,
		Amount: orNull(v.amount), Payee: orNull(v.payee), DateCreated: date(v.created), DateUpdated: date(v.updated),
	}
}

// verificationWire is v on the wire. A send attempt's channel is written
// as the API's examples write it: SMS, CALL and EMAIL in upper case,
// whatsapp in lower case.
func (s *Server) verificationWire(v *verification) verificationJSON {
	out := verificationJSON{
		verificationBaseJSON: s.baseWire(v), Lookup: map[string]any{}, SendCodeAttempts: []sendAttemptJSON{},
		URL: s.URL + "/v2/Services/" + v.svc.sid + "/Verifications/" + v.sid,
	}
	for _, a := range v.sends {
		ch := string(a.channel)
		if a.channel != verify.ChannelWhatsApp {
			ch = strings.ToUpper(ch)
		}
		out.SendCodeAttempts = append(out.SendCodeAttempts, sendAttemptJSON{Time: date(a.time), Channel: ch, AttemptSID: a.sid})
	}
	return out
}

// checkWire is the answer to a check of v.
func (s *Server) checkWire(v *verification) verificationCheckJSON {
	return verificationCheckJSON{verificationBaseJSON: s.baseWire(v), SNAAttemptsErrorCodes: []any{}}
}

// parseVerification reads and checks a verification's Create form with the
// SDK's rules; a parameter it breaks is 60200, as the API answers.
func parseVerification(form url.Values) (*verify.CreateVerificationParams, *apiError) {
	r := formReader{form: form}
	p := &verify.CreateVerificationParams{
		To: form.Get("To"), Channel: verify.Channel(form.Get("Channel")),
		CustomFriendlyName: form.Get("CustomFriendlyName"), CustomMessage: verify.NewSecret(form.Get("CustomMessage")),
		SendDigits: form.Get("SendDigits"), Locale: form.Get("Locale"), CustomCode: verify.NewSecret(form.Get("CustomCode")),
		Amount: form.Get("Amount"), Payee: form.Get("Payee"), AppHash: form.Get("AppHash"),
		TemplateSID: form.Get("TemplateSid"), DeviceIP: form.Get("DeviceIp"), RiskCheck: verify.RiskCheck(form.Get("RiskCheck")),
		RateLimits: r.stringMap("RateLimits"), TemplateCustomSubstitutions: r.stringMap("TemplateCustomSubstitutions"),
		Tags: r.stringMap("Tags"), ChannelConfiguration: r.object("ChannelConfiguration"),
	}
	if b := r.boolean("EnableSnaClientToken"); b != nil {
		p.EnableSNAClientToken = *b
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := invalidParameter(p.Validate()); err != nil {
		return nil, err
	}
	if p.Channel == verify.ChannelSNA {
		return nil, parameterError("Channel", "sna is not available to this account (the fake does not run Silent Network Auth); use sms, call, email, whatsapp or auto")
	}
	return p, nil
}

// stringMap reads key as one JSON object of strings; absent, nil.
func (r *formReader) stringMap(key string) verify.StringMap {
	m, err := decodeStringMap(r.form, key)
	if err != nil {
		r.refuse(key, "must be one JSON object with string values")
	}
	return m
}

// object reads key as one JSON object; absent, nil.
func (r *formReader) object(key string) verify.JSONObject {
	v, ok := r.form[key]
	if !ok {
		return nil
	}
	var m map[string]any
	if len(v) != 1 || json.Unmarshal([]byte(v[0]), &m) != nil || m == nil {
		r.refuse(key, "must be one JSON object")
		return nil
	}
	return m
}

// createVerification sends a code to p.To: a new verification, or the
// pending one for To again. The caller holds s.mu.
func (s *Server) createVerification(r *http.Request, p *verify.CreateVerificationParams) (any, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	if !p.CustomCode.IsZero() && !svc.cfg.CustomCodeEnabled {
		return nil, fail(http.StatusForbidden, codeFeatureDisabled,
			"Service %s does not support this feature: CustomCode needs CustomCodeEnabled on the service", svc.sid)
	}
	now := s.now()
	channel := p.Channel
	if channel == verify.ChannelAuto {
		channel = verify.ChannelSMS // no Silent Network Auth here: Verify falls back to SMS
	}
	v := svc.liveVerification(p.To, now)
	switch {
	case v != nil && v.status == verify.VerificationMaxAttemptsReached:
		return nil, fail(http.StatusTooManyRequests, codeMaxCheckAttempts,
			"Max check attempts reached for the verification to this number or address; wait until it expires (10 minutes)")
	case v != nil && len(v.sends) >= maxSends:
		return nil, fail(http.StatusTooManyRequests, codeMaxSendAttempts, "Max send attempts reached")
	case v == nil:
		v = &verification{sid: newSID("VE"), svc: svc, to: p.To, status: verify.VerificationPending,
			code: randomDigits(svc.cfg.CodeLength), amount: p.Amount, payee: p.Payee,
			created: now, expires: now.Add(verificationTTL)}
		svc.verifications = append(svc.verifications, v)
	}
	if !p.CustomCode.IsZero() {
		v.code = p.CustomCode.Reveal() // on a resend too: the message carries the code the caller chose
	}
	v.channel, v.updated = channel, now
	v.sends = append(v.sends, sendAttempt{sid: newSID("VL"), time: now, channel: channel})
	name := cmp.Or(p.CustomFriendlyName, svc.cfg.FriendlyName)
	s.send(Message{ServiceSID: svc.sid, VerificationSID: v.sid, Channel: channel, To: v.to,
		Body: messageBody(name, v.code, channel, svc.cfg.DoNotShareWarningEnabled, p.AppHash), Code: v.code, Time: now})
	return s.verificationWire(v), nil
}

// messageBody is the text Verify sends by default, in English: "Your
// Example verification code is: 123456", with the "do not share" warning
// for SMS on a service that has it, and an SMS Retriever AppHash.
func messageBody(name, code string, channel verify.Channel, warn bool, appHash string) string {
	body := "Your " + name + " verification code is: " + code
	if channel != verify.ChannelSMS {
		return body
	}
	if warn {
		body += ". Don't share this code with anyone; our employees will never ask for the code."
	}
	if appHash != "" {
		body = "<#> " + body + " " + appHash
	}
	return body
}

// randomDigits is a random code of n decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic("verifytest: reading random bytes: " + err.Error())
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// liveVerification is the latest verification for to that Verify still
// keeps (pending, or out of checks until it expires), or nil; the caller
// holds s.mu.
func (svc *service) liveVerification(to string, now time.Time) *verification {
	svc.forgetExpired(now)
	for _, v := range slices.Backward(svc.verifications) {
		if v.to == to {
			return v
		}
	}
	return nil
}

// forgetExpired drops the verifications whose code expired; the caller
// holds s.mu.
func (svc *service) forgetExpired(now time.Time) {
	svc.verifications = slices.DeleteFunc(svc.verifications, func(v *verification) bool { return !now.Before(v.expires) })
}

// forget drops v, approved or canceled; the caller holds s.mu.
func (svc *service) forget(v *verification) {
	svc.verifications = slices.DeleteFunc(svc.verifications, func(x *verification) bool { return x == v })
}

// verificationFor finds the pending verification the path names; one that
// Verify forgot, or that is out of checks, is 20404. The caller holds s.mu.
func (s *Server) verificationFor(r *http.Request) (*verification, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	v := svc.verificationBySID(r.PathValue("sid"), s.now())
	if v == nil || v.status != verify.VerificationPending {
		return nil, notFound("Verification " + r.PathValue("sid"))
	}
	return v, nil
}

// verificationBySID is the live verification sid, or nil; the caller holds s.mu.
func (svc *service) verificationBySID(sid string, now time.Time) *verification {
	svc.forgetExpired(now)
	if i := slices.IndexFunc(svc.verifications, func(v *verification) bool { return v.sid == sid }); i >= 0 {
		return svc.verifications[i]
	}
	return nil
}

// parseVerificationUpdate reads and checks a verification's Update form.
func parseVerificationUpdate(form url.Values) (*verify.UpdateVerificationParams, *apiError) {
	p := &verify.UpdateVerificationParams{Status: verify.VerificationStatus(form.Get("Status"))}
	return p, invalidParameter(p.Validate())
}

// patchVerification cancels or approves the path's pending verification,
// which Verify then forgets. The caller holds s.mu.
func (s *Server) patchVerification(r *http.Request, p *verify.UpdateVerificationParams) (any, *apiError) {
	v, err := s.verificationFor(r)
	if err != nil {
		return nil, err
	}
	v.status, v.updated = p.Status, s.now()
	v.svc.forget(v)
	return s.verificationWire(v), nil
}

// parseVerificationCheck reads and checks a check's form. A code is
// required: there is no Silent Network Auth here, whose check has none.
func parseVerificationCheck(form url.Values) (*verify.CheckVerificationParams, *apiError) {
	p := &verify.CheckVerificationParams{
		Code: verify.NewSecret(form.Get("Code")), To: form.Get("To"), VerificationSID: form.Get("VerificationSid"),
		Amount: form.Get("Amount"), Payee: form.Get("Payee"), SNAClientToken: verify.NewSecret(form.Get("SnaClientToken")),
	}
	if err := invalidParameter(p.Validate()); err != nil {
		return nil, err
	}
	if p.Code.IsZero() {
		return nil, parameterError("Code", "is required: the code the user received")
	}
	return p, nil
}

// checkVerification checks a code against the verification named by SID,
// or the latest one for To: right, it is approved and forgotten; wrong, it
// stays pending, or turns max_attempts_reached at the 5th wrong code; a
// check after that is 60202. The caller holds s.mu.
func (s *Server) checkVerification(r *http.Request, p *verify.CheckVerificationParams) (any, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var v *verification
	if p.VerificationSID != "" {
		v = svc.verificationBySID(p.VerificationSID, now)
	} else {
		v = svc.liveVerification(p.To, now)
	}
	switch {
	case v == nil:
		return nil, notFound("VerificationCheck")
	case v.status == verify.VerificationMaxAttemptsReached:
		return nil, fail(http.StatusTooManyRequests, codeMaxCheckAttempts, "Max check attempts reached")
	}
	v.updated = now
	if p.Code.Reveal() == v.code {
		v.status = verify.VerificationApproved
		svc.forget(v)
	} else if v.checks++; v.checks >= maxChecks {
		v.status = verify.VerificationMaxAttemptsReached
	}
	return s.checkWire(v), nil
}
