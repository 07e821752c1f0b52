package verifytest

import (
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	verify "github.com/verifykit/verify-go"
)

// TOTPOptions shape a TOTP factor; zero values take the API's defaults.
type TOTPOptions struct {
	CodeLength int           // 3–8 digits; default 6
	TimeStep   time.Duration // 20–60 s; default 30 s
	// Skew is how many time steps either side of the current one are
	// accepted, 0–2: nil means the API's default of 1, verify.Ptr(0)
	// accepts only the current step's code.
	Skew       *int
	Algorithm  string // "sha1" (default), "sha256" or "sha512"
	Unverified bool   // leave the factor unverified: Create answers 60318
}

// TOTPFactor is a TOTP factor registered on the server.
type TOTPFactor struct {
	SID    string // YF…
	Secret string // base32 seed, as an authenticator app would hold it

	srv  *Server
	opts totp.ValidateOpts
}

// NewTOTPFactor registers a TOTP factor for identity on the service,
// creating the entity if needed.
func (s *Server) NewTOTPFactor(serviceSID, identity string, opts *TOTPOptions) (*TOTPFactor, error) {
	o := TOTPOptions{}
	if opts != nil {
		o = *opts
	}
	vo, err := o.validateOpts()
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: "verifytest", AccountName: identity,
		Period: vo.Period, Digits: vo.Digits, Algorithm: vo.Algorithm, SecretSize: 20,
	})
	if err != nil {
		return nil, fmt.Errorf("verifytest: generating a TOTP secret: %w", err)
	}
	f := &factor{sid: newSID("YF"), kind: verify.FactorTypeTOTP, verified: !o.Unverified, totp: vo, secret: key.Secret()}
	if err := s.addFactor(serviceSID, identity, f); err != nil {
		return nil, err
	}
	return &TOTPFactor{SID: f.sid, Secret: f.secret, srv: s, opts: vo}, nil
}

// Code is the factor's valid code at the server's current time.
func (f *TOTPFactor) Code() string { return f.CodeAt(f.srv.Now()) }

// CodeAt is the factor's code at t.
func (f *TOTPFactor) CodeAt(t time.Time) string {
	code, err := totp.GenerateCodeCustom(f.Secret, t, f.opts)
	if err != nil {
		panic("verifytest: generating a TOTP code: " + err.Error()) // the secret is ours, so this cannot happen
	}
	return code
}

func (o TOTPOptions) validateOpts() (totp.ValidateOpts, error) {
	if o.CodeLength == 0 {
		o.CodeLength = 6
	}
	if o.TimeStep == 0 {
		o.TimeStep = 30 * time.Second
	}
	skew := 1
	if o.Skew != nil {
		skew = *o.Skew
	}
	if skew < 0 || skew > 2 {
		return totp.ValidateOpts{}, errors.New("verifytest: TOTP Skew must be nil (the default, 1) or 0 to 2")
	}
	vo := totp.ValidateOpts{Period: uint(o.TimeStep / time.Second), Skew: uint(skew), Digits: otp.Digits(o.CodeLength)}
	switch o.Algorithm {
	case "", "sha1":
		vo.Algorithm = otp.AlgorithmSHA1
	case "sha256":
		vo.Algorithm = otp.AlgorithmSHA256
	case "sha512":
		vo.Algorithm = otp.AlgorithmSHA512
	default:
		return vo, errors.New("verifytest: TOTP Algorithm must be sha1, sha256 or sha512")
	}
	switch {
	case o.CodeLength < 3 || o.CodeLength > 8:
		return vo, errors.New("verifytest: TOTP CodeLength must be 3 to 8")
	case o.TimeStep < 20*time.Second || o.TimeStep > 60*time.Second || o.TimeStep%time.Second != 0:
		return vo, errors.New("verifytest: TOTP TimeStep must be whole seconds from 20 to 60")
	}
	return vo, nil
}

// totpValid checks a code against a TOTP factor at now.
func (s *Server) totpValid(f *factor, code string, now time.Time) bool {
	if f.kind != verify.FactorTypeTOTP {
		return false
	}
	ok, err := totp.ValidateCustom(code, f.secret, now, f.totp)
	return err == nil && ok
}

// addFactor stores f under the service and identity, creating the entity.
func (s *Server) addFactor(serviceSID, identity string, f *factor) error {
	if err := verify.ValidateIdentity(identity); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[serviceSID]
	if svc == nil {
		return fmt.Errorf("verifytest: no service %s on this server; use ServiceSID or NewService", serviceSID)
	}
	ent := svc.entities[identity]
	if ent == nil {
		ent = &entity{sid: newSID("YE"), identity: identity, factors: map[string]*factor{}}
		svc.entities[identity] = ent
	}
	ent.factors[f.sid] = f
	return nil
}
