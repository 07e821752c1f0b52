package verifytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Who may call a route. The account's Basic credentials may call every
// route; the mobile SDK's credentials, sent as Basic auth with the user name
// "token", only some:
//
//   - an access token (AccessTokens.Create) may create a push factor for the
//     service and identity it was made for;
//   - a push factor's own JWT (ES256, signed with the device key, its kid
//     the factor SID, sub the account SID, nbf and exp on the fake's clock)
//     may fetch, update (verify) and delete that factor, and fetch and
//     update that factor's challenges.
type scope int

const (
	accountOnly  scope = iota
	enrollment         // or an access token for the path's service and identity
	ownFactor          // or the JWT of the factor the path names
	ownChallenge       // or the JWT of the factor whose challenge the path names
)

// tokenUser is the Basic auth user name the Verify Push SDKs send with an
// access token or a factor's JWT as the password.
const tokenUser = "token"

// caller is who sent a request that did not use the account's credentials.
type caller struct {
	token  *accessToken // enrolling with an access token
	device *factor      // a push factor speaking for itself
}

type callerKey struct{}

// callerOf is the request's caller; the zero caller is the account.
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// guard lets a request through to h if its credentials may call the route.
func (s *Server) guard(sc scope, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		switch {
		case !ok:
		case user == s.accountSID && subtle.ConstantTimeCompare([]byte(pass), []byte(s.authToken)) == 1:
			h(w, r)
			return
		case user == tokenUser && sc != accountOnly:
			c, err := s.tokenCaller(sc, r, pass)
			if err != nil {
				reply(w, 0, nil, err)
				return
			}
			h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
			return
		}
		writeError(w, http.StatusUnauthorized, codeAuthenticate, "Authenticate")
	}
}

func refused(format string, args ...any) *apiError {
	return fail(http.StatusUnauthorized, codeAuthenticate, format, args...)
}

// tokenCaller checks SDK credentials against the route's scope.
func (s *Server) tokenCaller(sc scope, r *http.Request, secret string) (caller, *apiError) {
	if sc == enrollment {
		s.mu.Lock()
		defer s.mu.Unlock()
		t := s.tokens[secret]
		switch {
		case t == nil:
			return caller{}, refused("Authenticate: not an access token of this account")
		case t.serviceSID != r.PathValue("service") || t.identity != r.PathValue("identity"):
			return caller{}, refused("Access token %s enrolls %s on service %s only", t.sid, t.identity, t.serviceSID)
		}
		return caller{token: t}, nil // spent, or refused as used or expired, by the handler
	}
	f, err := s.deviceFactor(r, secret)
	if err != nil {
		return caller{}, refused("Authenticate: factor JWT refused: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch sc {
	case ownFactor:
		if r.PathValue("sid") == f.sid {
			return caller{device: f}, nil
		}
	case ownChallenge:
		owned := true
		for _, c := range f.entity.challenges {
			if c.sid == r.PathValue("sid") {
				owned = c.factor == f
			}
		}
		if owned { // or unknown: the handler answers 404
			return caller{device: f}, nil
		}
	}
	return caller{}, refused("Factor %s may not call %s %s", f.sid, r.Method, r.URL.Path)
}

// deviceFactor verifies a push factor's JWT and returns the factor: one of
// the path's entity, named by the kid header, that signed the token.
func (s *Server) deviceFactor(r *http.Request, raw string) (*factor, error) {
	var f *factor
	keyFor := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		s.mu.Lock()
		defer s.mu.Unlock()
		if svc := s.services[r.PathValue("service")]; svc != nil && svc.entities[r.PathValue("identity")] != nil {
			f = svc.entities[r.PathValue("identity")].factors[kid]
		}
		if f == nil || f.publicKey == nil {
			return nil, fmt.Errorf("kid %q is not a push factor of %s", kid, r.PathValue("identity"))
		}
		return f.publicKey, nil
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithExpirationRequired(), jwt.WithSubject(s.accountSID), jwt.WithTimeFunc(s.Now))
	token, err := parser.Parse(raw, keyFor)
	if err != nil {
		return nil, err
	}
	if nbf, _ := token.Claims.GetNotBefore(); nbf == nil {
		return nil, errors.New("no nbf claim")
	}
	return f, nil
}

// deviceJWT is the credential a Verify Push SDK sends for its factor after
// enrollment: an ES256 JWT with the factor SID as kid, the account SID as
// sub, valid for 10 minutes from now.
func deviceJWT(key *ecdsa.PrivateKey, factorSID, accountSID string, now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": accountSID, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	t.Header["kid"] = factorSID
	t.Header["cty"] = "twilio-pba;v=1"
	return t.SignedString(key)
}
