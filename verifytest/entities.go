package verifytest

import (
	"net/http"
	"net/url"

	verify "github.com/verifykit/verify-go"
)

// entityJSON is an entity on the wire.
type entityJSON struct {
	SID         string            `json:"sid"`
	Identity    string            `json:"identity"`
	AccountSID  string            `json:"account_sid"`
	ServiceSID  string            `json:"service_sid"`
	DateCreated *string           `json:"date_created"`
	DateUpdated *string           `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
}

// url is the entity's absolute API URL on a server at base.
func (e *entity) url(base string) string {
	return base + "/v2/Services/" + e.serviceSID + "/Entities/" + e.identity
}

func (s *Server) entityWire(e *entity) entityJSON {
	u := e.url(s.URL)
	return entityJSON{
		SID: e.sid, Identity: e.identity, AccountSID: s.accountSID, ServiceSID: e.serviceSID,
		DateCreated: date(e.created), DateUpdated: date(e.updated), URL: u,
		Links: map[string]string{"factors": u + "/Factors", "new_factors": u + "/Factors", "challenges": u + "/Challenges"},
	}
}

// serviceFor finds the service a path names; the caller holds s.mu.
func (s *Server) serviceFor(r *http.Request) (*service, *apiError) {
	svc := s.services[r.PathValue("service")]
	if svc == nil {
		return nil, notFound("Service " + r.PathValue("service"))
	}
	return svc, nil
}

// entityFor finds the entity a path names; the caller holds s.mu.
func (s *Server) entityFor(r *http.Request) (*entity, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	ent := svc.entities[r.PathValue("identity")]
	if ent == nil {
		return nil, notFound("Entity " + r.PathValue("identity"))
	}
	return ent, nil
}

// addEntity creates identity's entity on svc; the caller holds s.mu and has
// checked that there is none.
func (s *Server) addEntity(svc *service, identity string) *entity {
	now := s.now()
	ent := &entity{
		seq: s.nextSeq(), sid: newSID("YE"), serviceSID: svc.sid, identity: identity,
		created: now, updated: now, factors: map[string]*factor{},
	}
	svc.entities[identity] = ent
	return ent
}

// entityOrNew finds identity's entity on svc, creating it as a first factor
// does; the caller holds s.mu.
func (s *Server) entityOrNew(svc *service, identity string) (*entity, *apiError) {
	if ent := svc.entities[identity]; ent != nil {
		return ent, nil
	}
	if err := validation(verify.ValidateIdentity(identity)); err != nil {
		return nil, err
	}
	return s.addEntity(svc, identity), nil
}

// parseEntity reads the identity of a new entity.
func parseEntity(form url.Values) (string, *apiError) {
	identity := form.Get("Identity")
	return identity, validation(verify.ValidateIdentity(identity))
}

// createEntity adds identity's entity; a second one is 60301 (409), as the
// API answers for an existing Identity. The caller holds s.mu.
func (s *Server) createEntity(r *http.Request, identity string) (any, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	if svc.entities[identity] != nil {
		return nil, fail(http.StatusConflict, codeEntityExists, "Entity %s already exists on service %s", identity, svc.sid)
	}
	return s.entityWire(s.addEntity(svc, identity)), nil
}

// removeEntity deletes the entity with its factors and challenges,
// raising factor.deleted for each factor in creation order; the caller
// holds s.mu.
func (s *Server) removeEntity(ent *entity) {
	for _, f := range sortedBySeq(ent.factors, func(f *factor) int64 { return f.seq }) {
		s.factorEvent(verify.EventFactorDeleted, f)
	}
	svc := s.services[ent.serviceSID]
	for key, c := range svc.passkeyChallenges {
		if c.entity == ent {
			delete(svc.passkeyChallenges, key)
		}
	}
	delete(svc.entities, ent.identity)
}

// entitiesOf lists the path's service's entities in creation order; the
// caller holds s.mu.
func (s *Server) entitiesOf(r *http.Request) ([]*entity, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	return sortedBySeq(svc.entities, func(e *entity) int64 { return e.seq }), nil
}
