package verifytest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	verify "github.com/verifykit/verify-go"
)

const defaultAccessTokenTTL = time.Minute // the API's default

// accessToken lets one app enroll one push factor for one identity.
type accessToken struct {
	sid          string
	serviceSID   string
	identity     string
	friendlyName string // the new factor's name, when set
	token        string // opaque; the device sends it as Basic auth token:<token>
	ttl          time.Duration
	created      time.Time
	expires      time.Time
	used         bool // a factor was created with it
}

// accessTokenJSON is an access token on the wire.
type accessTokenJSON struct {
	SID                string  `json:"sid"`
	AccountSID         string  `json:"account_sid"`
	ServiceSID         string  `json:"service_sid"`
	EntityIdentity     string  `json:"entity_identity"`
	FactorType         string  `json:"factor_type"`
	FactorFriendlyName *string `json:"factor_friendly_name"`
	Token              string  `json:"token"`
	TTL                int     `json:"ttl"`
	DateCreated        *string `json:"date_created"`
	URL                string  `json:"url"`
}

func (s *Server) accessTokenWire(t *accessToken) accessTokenJSON {
	out := accessTokenJSON{
		SID: t.sid, AccountSID: s.accountSID, ServiceSID: t.serviceSID, EntityIdentity: t.identity,
		FactorType: string(verify.FactorTypePush), Token: t.token, TTL: int(t.ttl / time.Second), DateCreated: date(t.created),
		URL: s.URL + "/v2/Services/" + t.serviceSID + "/AccessTokens/" + t.sid,
	}
	if t.friendlyName != "" {
		out.FactorFriendlyName = &t.friendlyName
	}
	return out
}

// accessTokenParams are an access token's Create form: the identity and the
// SDK's params.
type accessTokenParams struct {
	identity string
	verify.CreateAccessTokenParams
}

// issueAccessToken stores a new token for p on svc; the caller holds s.mu
// and has checked p.
func (s *Server) issueAccessToken(svc *service, p *accessTokenParams) *accessToken {
	ttl := p.TTL
	if ttl == 0 {
		ttl = defaultAccessTokenTTL
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(fmt.Sprintf("verifytest: reading random bytes: %v", err))
	}
	now := s.now()
	t := &accessToken{
		sid: newSID("YK"), serviceSID: svc.sid, identity: p.identity, friendlyName: p.FactorFriendlyName,
		token: base64.RawURLEncoding.EncodeToString(raw), ttl: ttl,
		created: now.Truncate(time.Second), expires: now.Add(ttl),
	}
	svc.accessTokens[t.sid] = t
	s.tokens[t.token] = t
	return t
}

// usableFor checks that tok may enroll f: a token enrolls one push factor,
// once, before it expires on the fake's clock. The caller holds s.mu.
func (s *Server) usableFor(tok *accessToken, f *factor) *apiError {
	switch {
	case f.kind != verify.FactorTypePush:
		return fail(http.StatusUnauthorized, codeAuthenticate, "An access token enrolls push factors only; create %s factors with the account's credentials", f.kind)
	case tok.used:
		return fail(http.StatusUnauthorized, codeAuthenticate, "Access token %s was already used to enroll a factor; create a new one", tok.sid)
	case !s.now().Before(tok.expires):
		return fail(http.StatusUnauthorized, codeAuthenticate, "Access token %s expired; create a new one", tok.sid)
	}
	return nil
}

// spend records that tok enrolled f, which takes the token's factor name
// when it has one. The caller holds s.mu and has checked usableFor.
func (tok *accessToken) spend(f *factor) {
	tok.used = true
	if tok.friendlyName != "" {
		f.friendlyName = tok.friendlyName
	}
}

// parseAccessToken reads and checks an access token's Create form.
func parseAccessToken(form url.Values) (*accessTokenParams, *apiError) {
	if kind := form.Get("FactorType"); kind != string(verify.FactorTypePush) {
		return nil, badRequest("FactorType must be push, not %q", kind)
	}
	p := &accessTokenParams{identity: form.Get("Identity")}
	p.FactorFriendlyName = form.Get("FactorFriendlyName")
	if v := form.Get("Ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, badRequest("Ttl must be an integer number of seconds")
		}
		p.TTL = time.Duration(n) * time.Second
	}
	if err := verify.ValidateIdentity(p.identity); err != nil {
		return nil, validation(err)
	}
	return p, validation(p.Validate())
}

// createAccessToken issues a token on the path's service; the caller holds s.mu.
func (s *Server) createAccessToken(r *http.Request, p *accessTokenParams) (any, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	return s.accessTokenWire(s.issueAccessToken(svc, p)), nil
}

// accessTokenFor finds the access token a path names; the caller holds s.mu.
func (s *Server) accessTokenFor(r *http.Request) (*accessToken, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	if t := svc.accessTokens[r.PathValue("sid")]; t != nil {
		return t, nil
	}
	return nil, notFound("AccessToken " + r.PathValue("sid"))
}
