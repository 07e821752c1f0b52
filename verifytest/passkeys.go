package verifytest

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	verify "github.com/verifykit/verify-go"
)

// Passkeys error codes (Twilio's error pages name them; their HTTP statuses
// are the fake's choice).
const (
	codeRelyingParty      = 60371 // no usable relying party (ID, origins)
	codeAuthenticatorData = 60379 // response.authenticatorData missing or unreadable
	codeSignatureMissing  = 60381 // response.signature missing
	codeRelyingPartyMatch = 60382 // the credential's factor is for another relying party than the challenge
	codeAttestation       = 60386 // the registration credential is missing or unreadable
	codeChallengeNotFound = 60391 // no passkeys challenge with the clientDataJSON's challenge
	codeMissingCriteria   = 60393 // no authenticator attachment, discoverable credentials or user verification
)

const (
	passkeyTimeout     = 10 * time.Minute // the options' timeout, and how long their challenge is good for
	maxPasskeyBody     = 64 << 10         // bytes of JSON a Passkeys request may send
	maxFriendlyNameLen = 64
)

// passkeyFactor is what a passkeys factor holds beyond any factor's fields.
type passkeyFactor struct {
	settings   verify.PasskeySettings // complete: the service's settings under the request's config
	challenge  string                 // the registration challenge (base64url), until verified
	expires    time.Time              // when the registration options stop being good
	credential *webauthn.Credential   // the registered credential, once verified
}

// passkeyChallenge is what a passkeys challenge holds beyond any challenge's
// fields.
type passkeyChallenge struct {
	challenge string                 // base64url, as the options carry it
	settings  verify.PasskeySettings // the relying party and user verification it asks for
	allowed   []*factor              // the factors whose credentials may answer; none: any discoverable one
	entity    *entity                // the identity it was made for; nil when usernameless
}

// passkeyUser is a factor as go-webauthn sees its user: the user handle is
// the entity SID, as Verify's options carry it.
type passkeyUser struct{ f *factor }

func (u passkeyUser) WebAuthnID() []byte          { return []byte(u.f.entity.sid) }
func (u passkeyUser) WebAuthnName() string        { return u.f.friendlyName }
func (u passkeyUser) WebAuthnDisplayName() string { return u.f.friendlyName }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	if u.f.passkey.credential == nil {
		return nil
	}
	return []webauthn.Credential{*u.f.passkey.credential}
}

// passkeyConfigJSON is a passkeys factor's config, as requests send it and
// responses carry it.
type passkeyConfigJSON struct {
	RelyingParty            *relyingPartyJSON `json:"relying_party,omitempty"`
	AuthenticatorAttachment string            `json:"authenticator_attachment,omitempty"`
	DiscoverableCredentials string            `json:"discoverable_credentials,omitempty"`
	UserVerification        string            `json:"user_verification,omitempty"`
}

type relyingPartyJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Origins []string `json:"origins"`
}

// configWire is settings as a factor's config.
func configWire(p verify.PasskeySettings) passkeyConfigJSON {
	return passkeyConfigJSON{
		RelyingParty: &relyingPartyJSON{ID: p.RelyingParty.ID, Name: p.RelyingParty.Name,
			Origins: append([]string{}, p.RelyingParty.Origins...)},
		AuthenticatorAttachment: string(p.AuthenticatorAttachment),
		DiscoverableCredentials: string(p.DiscoverableCredentials),
		UserVerification:        string(p.UserVerification),
	}
}

// readBody reads a Passkeys request's JSON body, at most maxPasskeyBody
// bytes.
func readBody(r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPasskeyBody+1))
	if err != nil {
		return nil, badRequest("Reading the request body: %v", err)
	}
	if len(body) > maxPasskeyBody {
		return nil, badRequest("The request body is over %d bytes", maxPasskeyBody)
	}
	return body, nil
}

// readJSON reads a Passkeys request's JSON body into v.
func readJSON(r *http.Request, v any) *apiError {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("The request body is not the JSON object this endpoint takes: %v", err)
	}
	return nil
}

// newChallenge is 32 random bytes, base64url, as WebAuthn challenges go.
func newChallenge() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// factorSettings merges a Create's config over the service's passkeys
// settings and checks the result is complete.
func factorSettings(svc verify.PasskeySettings, cfg *passkeyConfigJSON) (verify.PasskeySettings, *apiError) {
	p := svc
	p.RelyingParty.Origins = slices.Clone(svc.RelyingParty.Origins)
	if cfg != nil {
		if rp := cfg.RelyingParty; rp != nil {
			setString(&p.RelyingParty.ID, rp.ID)
			setString(&p.RelyingParty.Name, rp.Name)
			if rp.Origins != nil {
				p.RelyingParty.Origins = slices.Clone(rp.Origins)
			}
		}
		if cfg.AuthenticatorAttachment != "" {
			p.AuthenticatorAttachment = verify.AuthenticatorAttachment(cfg.AuthenticatorAttachment)
		}
		if cfg.DiscoverableCredentials != "" {
			p.DiscoverableCredentials = verify.PasskeyRequirement(cfg.DiscoverableCredentials)
		}
		if cfg.UserVerification != "" {
			p.UserVerification = verify.PasskeyRequirement(cfg.UserVerification)
		}
	}
	if err := validation((&verify.UpdateServiceParams{Passkeys: &p}).Validate()); err != nil {
		return p, err
	}
	if err := checkRelyingParty(p.RelyingParty); err != nil {
		return p, err
	}
	var missing []string
	for _, m := range []struct{ name, value string }{
		{"authenticator_attachment", string(p.AuthenticatorAttachment)},
		{"discoverable_credentials", string(p.DiscoverableCredentials)},
		{"user_verification", string(p.UserVerification)},
	} {
		if m.value == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return p, fail(http.StatusBadRequest, codeMissingCriteria,
			"Authenticator criteria are missing from the request and the service: %v", missing)
	}
	return p, nil
}

// checkRelyingParty requires an ID and at least one origin go-webauthn
// accepts.
func checkRelyingParty(rp verify.PasskeyRelyingParty) *apiError {
	if rp.ID == "" || len(rp.Origins) == 0 {
		return fail(http.StatusBadRequest, codeRelyingParty,
			"Relying party invalid or not provided: set Passkeys.RelyingParty.Id and .Origins on the service, or config.relying_party")
	}
	if _, err := relyingParty(rp); err != nil {
		return fail(http.StatusBadRequest, codeRelyingParty, "Relying party invalid: %v", err)
	}
	return nil
}

// relyingParty is a go-webauthn relying party for rp.
func relyingParty(rp verify.PasskeyRelyingParty) (*webauthn.WebAuthn, error) {
	name := rp.Name
	if name == "" {
		name = rp.ID
	}
	return webauthn.New(&webauthn.Config{RPID: rp.ID, RPDisplayName: name, RPOrigins: rp.Origins})
}

// createPasskeyFactorRequest is the body of POST …/Passkeys/Factors.
type createPasskeyFactorRequest struct {
	FriendlyName string             `json:"friendly_name"`
	Identity     string             `json:"identity"`
	Config       *passkeyConfigJSON `json:"config"`
}

// handleCreatePasskeyFactor creates an unverified passkeys factor and
// answers with its creation options.
func (s *Server) handleCreatePasskeyFactor(w http.ResponseWriter, r *http.Request) {
	var req createPasskeyFactorRequest
	if err := readJSON(r, &req); err != nil {
		reply(w, 0, nil, err)
		return
	}
	switch {
	case req.FriendlyName == "":
		reply(w, 0, nil, badRequest("friendly_name is required"))
		return
	case utf8.RuneCountInString(req.FriendlyName) > maxFriendlyNameLen:
		reply(w, 0, nil, badRequest("friendly_name must be at most %d characters", maxFriendlyNameLen))
		return
	}
	if err := validation(verify.ValidateIdentity(req.Identity)); err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.serviceFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	settings, err := factorSettings(svc.cfg.Passkeys, req.Config)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	ent, err := s.entityOrNew(svc, req.Identity)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	f := &factor{sid: newSID("YF"), kind: verify.FactorTypePasskeys, friendlyName: req.FriendlyName,
		passkey: &passkeyFactor{settings: settings, challenge: newChallenge(), expires: s.now().Add(passkeyTimeout)}}
	s.attachFactor(ent, f)
	out := s.newFactorWire(f)
	out.Options = map[string]any{"publicKey": s.creationOptions(f)}
	reply(w, http.StatusCreated, out, nil)
}

// creationOptions are the PublicKeyCredentialCreationOptions (JSON form)
// for f; the caller holds s.mu.
func (s *Server) creationOptions(f *factor) map[string]any {
	p := f.passkey.settings
	selection := map[string]any{
		"requireResidentKey": p.DiscoverableCredentials == verify.PasskeyRequired,
		"residentKey":        string(p.DiscoverableCredentials),
		"userVerification":   string(p.UserVerification),
	}
	if p.AuthenticatorAttachment != verify.AuthenticatorAny {
		selection["authenticatorAttachment"] = string(p.AuthenticatorAttachment)
	}
	exclude := []map[string]any{}
	for _, other := range sortedBySeq(f.entity.factors, func(f *factor) int64 { return f.seq }) {
		if c := other.passkeyCredential(); c != nil && other.passkey.settings.RelyingParty.ID == p.RelyingParty.ID {
			exclude = append(exclude, descriptor(c))
		}
	}
	name := p.RelyingParty.Name
	if name == "" {
		name = p.RelyingParty.ID
	}
	return map[string]any{
		"rp": map[string]string{"id": p.RelyingParty.ID, "name": name},
		"user": map[string]string{
			"id":   base64.RawURLEncoding.EncodeToString([]byte(f.entity.sid)),
			"name": f.friendlyName, "displayName": f.friendlyName,
		},
		"challenge":              f.passkey.challenge,
		"pubKeyCredParams":       []map[string]any{{"type": "public-key", "alg": -7}},
		"timeout":                passkeyTimeout.Milliseconds(),
		"excludeCredentials":     exclude,
		"authenticatorSelection": selection,
		"attestation":            "none",
	}
}

// passkeyCredential is f's registered credential, or nil for another kind
// of factor or one not verified yet.
func (f *factor) passkeyCredential() *webauthn.Credential {
	if f.kind != verify.FactorTypePasskeys || f.passkey == nil || !f.verified {
		return nil
	}
	return f.passkey.credential
}

// descriptor is a PublicKeyCredentialDescriptor (JSON form) for c.
func descriptor(c *webauthn.Credential) map[string]any {
	d := map[string]any{"type": "public-key", "id": base64.RawURLEncoding.EncodeToString(c.ID)}
	if len(c.Transport) > 0 {
		d["transports"] = c.Transport
	}
	return d
}

// handleVerifyPasskeyFactor checks a registration credential and verifies
// the factor whose creation options it answers.
func (s *Server) handleVerifyPasskeyFactor(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	parsed, err := parseRegistration(body)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.serviceFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	f := svc.factorByRegistrationChallenge(parsed.Response.CollectedClientData.Challenge)
	if f == nil {
		reply(w, 0, nil, notFound("unverified passkeys factor whose creation options hold this credential's challenge"))
		return
	}
	if !s.now().Before(f.passkey.expires) {
		reply(w, 0, nil, fail(http.StatusForbidden, codeFactorVerifyFail,
			"Factor verification failed: the creation options of %s expired at %s", f.sid, f.passkey.expires.Format(time.RFC3339)))
		return
	}
	cred, verr := verifyRegistration(f, parsed)
	if verr != nil {
		reply(w, 0, nil, fail(http.StatusForbidden, codeFactorVerifyFail, "Factor verification failed: %v", verr))
		return
	}
	f.passkey.credential, f.passkey.challenge = cred, ""
	f.verified, f.updated = true, s.now()
	s.factorEvent(verify.EventFactorVerified, f)
	reply(w, http.StatusOK, s.factorWire(f), nil)
}

// factorByRegistrationChallenge finds the unverified passkeys factor whose
// creation options carry challenge; the caller holds s.mu.
func (svc *service) factorByRegistrationChallenge(challenge string) *factor {
	if challenge == "" {
		return nil
	}
	for _, ent := range svc.entities {
		for _, f := range ent.factors {
			if f.kind == verify.FactorTypePasskeys && !f.verified && f.passkey.challenge == challenge {
				return f
			}
		}
	}
	return nil
}

// createPasskeyChallengeRequest is the body of POST …/Passkeys/Challenges.
type createPasskeyChallengeRequest struct {
	Identity  string `json:"identity"`
	FactorSID string `json:"factor_sid"`
}

// handleCreatePasskeyChallenge creates a passkeys challenge for a factor,
// an identity's factors, or (with neither) any discoverable credential of
// the service, and answers with its request options.
func (s *Server) handleCreatePasskeyChallenge(w http.ResponseWriter, r *http.Request) {
	var req createPasskeyChallengeRequest
	if err := readJSON(r, &req); err != nil {
		reply(w, 0, nil, err)
		return
	}
	if req.Identity != "" {
		if err := validation(verify.ValidateIdentity(req.Identity)); err != nil {
			reply(w, 0, nil, err)
			return
		}
	}
	if req.FactorSID != "" && !validSID(req.FactorSID, "YF") {
		reply(w, 0, nil, badRequest("factor_sid must be a factor SID (YF and 32 hex digits)"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.serviceFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	c, err := s.newPasskeyChallenge(svc, req)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	reply(w, http.StatusCreated, s.passkeyChallengeWire(c), nil)
}

// validSID reports whether sid is prefix and 32 hex digits.
func validSID(sid, prefix string) bool {
	if len(sid) != 34 || sid[:2] != prefix {
		return false
	}
	for _, r := range sid[2:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}

// newPasskeyChallenge stores a pending passkeys challenge; the caller holds
// s.mu. A challenge for one factor is listed under its entity at once; the
// others once approved, when their factor is known.
func (s *Server) newPasskeyChallenge(svc *service, req createPasskeyChallengeRequest) (*challenge, *apiError) {
	now := s.now()
	pc := &passkeyChallenge{challenge: newChallenge(), settings: svc.cfg.Passkeys}
	c := &challenge{
		seq: s.nextSeq(), sid: newSID("YC"), serviceSID: svc.sid, created: now, updated: now,
		expires: now.Add(passkeyTimeout), status: verify.StatusPending, reason: verify.ReasonNone, passkey: pc,
	}
	if req.Identity != "" {
		pc.entity = svc.entities[req.Identity]
		if pc.entity == nil {
			return nil, notFound("Entity " + req.Identity)
		}
	}
	switch {
	case req.FactorSID != "":
		f := svc.factorBySID(req.FactorSID)
		switch {
		case f == nil || (pc.entity != nil && f.entity != pc.entity):
			return nil, notFound("Factor " + req.FactorSID)
		case f.kind != verify.FactorTypePasskeys:
			return nil, badRequest("Factor %s is %s, not passkeys", f.sid, f.kind)
		case !f.verified:
			return nil, fail(http.StatusForbidden, codeFactorNotVerified, "The Factor %s is not verified", f.sid)
		}
		pc.entity, pc.settings, pc.allowed, c.factor = f.entity, f.passkey.settings, []*factor{f}, f
	case pc.entity != nil:
		for _, f := range sortedBySeq(pc.entity.factors, func(f *factor) int64 { return f.seq }) {
			if f.passkeyCredential() != nil && f.passkey.settings.RelyingParty.ID == pc.settings.RelyingParty.ID {
				pc.allowed = append(pc.allowed, f)
			}
		}
		if len(pc.allowed) == 0 {
			return nil, notFound("verified passkeys factor of " + req.Identity + " for relying party " + pc.settings.RelyingParty.ID)
		}
	}
	if err := checkRelyingParty(pc.settings.RelyingParty); err != nil {
		return nil, err
	}
	if pc.settings.UserVerification == "" {
		pc.settings.UserVerification = verify.PasskeyPreferred
	}
	c.entity = pc.entity
	if c.factor != nil {
		c.entity.challenges = append(c.entity.challenges, c)
	}
	svc.passkeyChallenges[pc.challenge] = c
	return c, nil
}

// factorBySID finds a factor of svc by SID; the caller holds s.mu.
func (svc *service) factorBySID(sid string) *factor {
	for _, ent := range svc.entities {
		if f := ent.factors[sid]; f != nil {
			return f
		}
	}
	return nil
}

// requestOptions are the PublicKeyCredentialRequestOptions (JSON form) of
// a passkeys challenge.
func requestOptions(c *challenge) map[string]any {
	pc := c.passkey
	allow := []map[string]any{}
	for _, f := range pc.allowed {
		if cred := f.passkeyCredential(); cred != nil {
			allow = append(allow, descriptor(cred))
		}
	}
	return map[string]any{
		"challenge":        pc.challenge,
		"timeout":          passkeyTimeout.Milliseconds(),
		"rpId":             pc.settings.RelyingParty.ID,
		"allowCredentials": allow,
		"userVerification": string(pc.settings.UserVerification),
	}
}

// passkeyChallengeJSON is a challenge as the Passkeys endpoints answer:
// with its request options.
type passkeyChallengeJSON struct {
	challengeJSON
	Options map[string]any `json:"options"`
}

// passkeyChallengeWire is c as the Passkeys endpoints answer; the caller
// holds s.mu.
func (s *Server) passkeyChallengeWire(c *challenge) passkeyChallengeJSON {
	return passkeyChallengeJSON{challengeJSON: s.challengeWire(c), Options: map[string]any{"publicKey": requestOptions(c)}}
}

// handleApprovePasskeyChallenge checks an assertion and approves the
// challenge it answers.
func (s *Server) handleApprovePasskeyChallenge(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	parsed, err := parseAssertion(body)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.serviceFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	c := svc.passkeyChallenges[parsed.Response.CollectedClientData.Challenge]
	if c == nil {
		reply(w, 0, nil, fail(http.StatusNotFound, codeChallengeNotFound,
			"Challenge not found: no passkeys challenge of service %s carries this assertion's challenge", svc.sid))
		return
	}
	c.refresh(s.now())
	switch c.status {
	case verify.StatusExpired:
		reply(w, 0, nil, fail(http.StatusForbidden, codeExpired, "Challenge %s has expired", c.sid))
		return
	case verify.StatusApproved, verify.StatusDenied:
		reply(w, 0, nil, fail(http.StatusForbidden, codeAlreadyResponded, "Challenge %s was already %s", c.sid, c.status))
		return
	}
	f, err := s.assertionFactor(svc, c, parsed)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	cred, verr := verifyAssertion(f, c, parsed)
	if verr != nil {
		reply(w, 0, nil, fail(http.StatusForbidden, codeVerifyFailed, "Verification failed: %v", verr))
		return
	}
	f.passkey.credential = cred
	s.approvePasskeyChallenge(c, f)
	reply(w, http.StatusOK, s.passkeyChallengeWire(c), nil)
}

// assertionFactor finds the factor an assertion names by its credential ID
// (and, for a usernameless challenge, its user handle), and checks that the
// challenge allows it; the caller holds s.mu.
func (s *Server) assertionFactor(svc *service, c *challenge, parsed *parsedAssertion) (*factor, *apiError) {
	refuse := func(format string, args ...any) (*factor, *apiError) {
		return nil, fail(http.StatusForbidden, codeVerifyFailed, "Verification failed: "+format, args...)
	}
	var f *factor
	for _, ent := range svc.entities {
		for _, cand := range ent.factors {
			if cred := cand.passkeyCredential(); cred != nil && string(cred.ID) == string(parsed.RawID) {
				f = cand
			}
		}
	}
	pc := c.passkey
	switch {
	case f == nil:
		return refuse("no verified passkeys factor of service %s has this credential ID", svc.sid)
	case len(pc.allowed) > 0 && !slices.Contains(pc.allowed, f):
		return refuse("the credential is not among the challenge's allowCredentials")
	case len(pc.allowed) == 0 && len(parsed.Response.UserHandle) == 0:
		return refuse("a usernameless challenge needs the assertion's userHandle")
	case len(parsed.Response.UserHandle) > 0 && string(parsed.Response.UserHandle) != f.entity.sid:
		return refuse("userHandle does not name the entity that owns the credential")
	case f.passkey.settings.RelyingParty.ID != pc.settings.RelyingParty.ID:
		return nil, fail(http.StatusBadRequest, codeRelyingPartyMatch,
			"Factor %s is for relying party %s, the challenge for %s", f.sid, f.passkey.settings.RelyingParty.ID, pc.settings.RelyingParty.ID)
	}
	return f, nil
}

// approvePasskeyChallenge records the approval by f, lists the challenge
// under f's entity if it was not yet, and raises challenge.approved; the
// caller holds s.mu.
func (s *Server) approvePasskeyChallenge(c *challenge, f *factor) {
	listed := c.factor != nil
	c.factor, c.entity = f, f.entity
	c.respond(verify.StatusApproved, s.now())
	if !listed {
		ent := f.entity
		i, _ := slices.BinarySearchFunc(ent.challenges, c.seq, func(x *challenge, seq int64) int {
			return cmp.Compare(x.seq, seq)
		})
		ent.challenges = slices.Insert(ent.challenges, i, c)
	}
	s.challengeAnswered(c)
}
