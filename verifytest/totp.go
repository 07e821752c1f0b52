package verifytest

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
)

// TOTPOptions shape a TOTP factor; zero values take the service's TOTP
// defaults (Services.Create or Update's TOTP settings), which are the API's
// unless set: 6 digits, 30 s, one step of skew.
type TOTPOptions struct {
	CodeLength int           // 3–8 digits; default: the service's, 6 unless set
	TimeStep   time.Duration // 20–60 s; default: the service's, 30 s unless set
	// Skew is how many time steps either side of the current one are
	// accepted, 0–2: nil means the service's default (1 unless set),
	// verify.Ptr(0) accepts only the current step's code.
	Skew       *int
	Algorithm  string // "sha1" (default), "sha256" or "sha512"
	Unverified bool   // leave the factor unverified: Create answers 60318
}

// TOTPFactor is a handle on a TOTP factor of the server, whether a helper
// or the API created it: it computes the codes an authenticator app holding
// the factor's secret would show, with the factor's current config.
type TOTPFactor struct {
	SID    string // YF…
	Secret string // base32 seed, as an authenticator app would hold it

	srv *Server
	f   *factor
}

// NewTOTPFactor registers a verified TOTP factor (unless opts.Unverified)
// for identity on the service, creating the entity if needed.
func (s *Server) NewTOTPFactor(serviceSID, identity string, opts *TOTPOptions) (*TOTPFactor, error) {
	o := TOTPOptions{}
	if opts != nil {
		o = *opts
	}
	asked, err := o.validateOpts()
	if err != nil {
		return nil, err
	}
	f := &factor{sid: newSID("YF"), kind: verify.FactorTypeTOTP, friendlyName: "verifytest",
		verified: !o.Unverified, secret: newTOTPSecret()}
	if err := s.addFactor(serviceSID, identity, &newFactor{f: f, totp: asked}); err != nil {
		return nil, err
	}
	return &TOTPFactor{SID: f.sid, Secret: f.secret, srv: s, f: f}, nil
}

// TOTPFactor looks up a TOTP factor, such as one created with
// Factors.CreateTOTP, so that a test can read its current code.
func (s *Server) TOTPFactor(serviceSID, identity, factorSID string) (*TOTPFactor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var f *factor
	if svc := s.services[serviceSID]; svc != nil && svc.entities[identity] != nil {
		f = svc.entities[identity].factors[factorSID]
	}
	if f == nil || f.kind != verify.FactorTypeTOTP {
		return nil, fmt.Errorf("verifytest: no TOTP factor %s for %s on service %s; check the SIDs and that it was not deleted",
			factorSID, identity, serviceSID)
	}
	return &TOTPFactor{SID: f.sid, Secret: f.secret, srv: s, f: f}, nil
}

// Code is the factor's valid code at the server's current time.
func (f *TOTPFactor) Code() string { return f.CodeAt(f.srv.Now()) }

// CodeAt is the factor's code at t.
func (f *TOTPFactor) CodeAt(t time.Time) string {
	f.srv.mu.Lock()
	opts := f.f.totp
	f.srv.mu.Unlock()
	code, err := totp.GenerateCodeCustom(f.Secret, t, opts)
	if err != nil {
		panic("verifytest: generating a TOTP code: " + err.Error()) // the secret was checked as base32, so this cannot happen
	}
	return code
}

// validateOpts checks the options that are set and returns the config they
// ask for.
func (o TOTPOptions) validateOpts() (totpConfig, error) {
	switch {
	case o.Skew != nil && (*o.Skew < 0 || *o.Skew > verify.MaxTOTPSkew):
		return totpConfig{}, errors.New("verifytest: TOTP Skew must be nil (the service's default) or 0 to 2")
	case o.Algorithm != "" && o.Algorithm != "sha1" && o.Algorithm != "sha256" && o.Algorithm != "sha512":
		return totpConfig{}, errors.New("verifytest: TOTP Algorithm must be sha1, sha256 or sha512")
	case o.CodeLength != 0 && (o.CodeLength < verify.MinTOTPCodeLength || o.CodeLength > verify.MaxTOTPCodeLength):
		return totpConfig{}, errors.New("verifytest: TOTP CodeLength must be 3 to 8")
	case o.TimeStep != 0 && (o.TimeStep < verify.MinTOTPTimeStep || o.TimeStep > verify.MaxTOTPTimeStep || o.TimeStep%time.Second != 0):
		return totpConfig{}, errors.New("verifytest: TOTP TimeStep must be whole seconds from 20 to 60")
	}
	return totpConfig{timeStep: o.TimeStep, skew: o.Skew, codeLength: o.CodeLength, alg: verify.TOTPAlgorithm(o.Algorithm)}, nil
}

// totpOpts applies checked config values to base; zero values (nil skew,
// empty alg) keep base's.
func totpOpts(base totp.ValidateOpts, timeStep time.Duration, skew *int, codeLength int, alg verify.TOTPAlgorithm) totp.ValidateOpts {
	if timeStep != 0 {
		base.Period = uint(timeStep / time.Second)
	}
	if skew != nil {
		base.Skew = uint(*skew)
	}
	if codeLength != 0 {
		base.Digits = otp.Digits(codeLength)
	}
	switch alg {
	case verify.TOTPAlgorithmSHA1:
		base.Algorithm = otp.AlgorithmSHA1
	case verify.TOTPAlgorithmSHA256:
		base.Algorithm = otp.AlgorithmSHA256
	case verify.TOTPAlgorithmSHA512:
		base.Algorithm = otp.AlgorithmSHA512
	}
	return base
}

// algorithmName is the config name of a TOTP algorithm.
func algorithmName(a otp.Algorithm) verify.TOTPAlgorithm {
	switch a {
	case otp.AlgorithmSHA256:
		return verify.TOTPAlgorithmSHA256
	case otp.AlgorithmSHA512:
		return verify.TOTPAlgorithmSHA512
	}
	return verify.TOTPAlgorithmSHA1
}

// newTOTPSecret is a fresh 160-bit seed in unpadded base32, the form
// authenticator apps take.
func newTOTPSecret() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("verifytest: reading random bytes: %v", err))
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// totpURI is the otpauth:// key URI an authenticator app scans: the issuer
// and the factor's friendly name as the label, then the secret and config.
func (f *factor) totpURI(issuer string) string {
	part := func(s string) string { return strings.ReplaceAll(url.PathEscape(s), ":", "%3A") }
	param := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return "otpauth://totp/" + part(issuer) + ":" + part(f.friendlyName) +
		"?secret=" + param(f.secret) + "&issuer=" + param(issuer) +
		"&algorithm=" + strings.ToUpper(string(algorithmName(f.totp.Algorithm))) +
		"&digits=" + strconv.Itoa(f.totp.Digits.Length()) + "&period=" + strconv.Itoa(int(f.totp.Period))
}

// checkTOTPCodeLength refuses a TOTP code outside the API's 3 to 8
// characters: a bad request (60306), not a wrong attempt, whether it
// answers a challenge or verifies a factor.
func checkTOTPCodeLength(code string) *apiError {
	if n := utf8.RuneCountInString(code); n < verify.MinTOTPCodeLength || n > verify.MaxTOTPCodeLength {
		return badRequest("AuthPayload must be a TOTP code of %d to %d characters, not %d", verify.MinTOTPCodeLength, verify.MaxTOTPCodeLength, n)
	}
	return nil
}

// totpValid checks a code against a TOTP factor at now.
func (s *Server) totpValid(f *factor, code string, now time.Time) bool {
	if f.kind != verify.FactorTypeTOTP {
		return false
	}
	ok, err := totp.ValidateCustom(code, f.secret, now, f.totp)
	return err == nil && ok
}

// addFactor stores a helper's factor under the service and identity,
// creating the entity; a TOTP factor takes the service's defaults for what
// nf.totp leaves out.
func (s *Server) addFactor(serviceSID, identity string, nf *newFactor) error {
	if err := verify.ValidateIdentity(identity); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[serviceSID]
	if svc == nil {
		return fmt.Errorf("verifytest: no service %s on this server; use ServiceSID or NewService", serviceSID)
	}
	ent, err := s.entityOrNew(svc, identity)
	if err != nil {
		return err
	}
	nf.f.totp = nf.totp.on(svc.totpDefaults())
	s.attachFactor(ent, nf.f)
	return nil
}
