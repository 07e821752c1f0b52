package verify

import (
	"context"
	"iter"
	"net/url"
	"strings"
	"time"
)

// Entity is a user of your service as Verify knows them: the owner of
// factors and challenges, named by your identity for them.
type Entity struct {
	SID         string      `json:"sid"`          // YE…, 34 characters
	Identity    string      `json:"identity"`     // your id for the user, 8–64 characters
	AccountSID  string      `json:"account_sid"`  // AC…
	ServiceSID  string      `json:"service_sid"`  // VA…
	DateCreated time.Time   `json:"date_created"` // when it was created
	DateUpdated time.Time   `json:"date_updated"` // when it last changed
	URL         string      `json:"url"`          // the entity's absolute API URL
	Links       EntityLinks `json:"links"`        // its nested resources
}

// String is a one-line summary for logs and fmt.Println: "entity YE… <identity>".
func (e Entity) String() string { return "entity " + e.SID + " " + e.Identity }

// EntityLinks are URLs of an entity's nested resources.
type EntityLinks struct {
	Factors    string `json:"factors"`     // the entity's factors
	NewFactors string `json:"new_factors"` // where factors are created
	Challenges string `json:"challenges"`  // the entity's challenges
}

// ListParams bound every List and ListPage (lists with filters embed it);
// zero fields are not sent.
type ListParams struct {
	PageSize int `url:"PageSize,omitempty"` // 1–1000; 0 is the API's default, 50
	Limit    int `url:"-"`                  // stop after this many; 0 means all
}

// EntityService creates, fetches, deletes and lists entities; use Client.Entities.
type EntityService struct {
	client *Client
}

// CreateEntityParams are the inputs of Entities.Create beside the identity;
// the API takes none yet, so nil is the usual value.
type CreateEntityParams struct{}

// Validate checks the params; there is nothing to check yet.
func (p *CreateEntityParams) Validate() error { return nil }

// Create adds an entity for identity. Creating a factor creates its entity
// too, so this is only needed to hold an identity before its first factor.
// params may be nil.
func (s *EntityService) Create(ctx context.Context, serviceSID, identity string, params *CreateEntityParams) (*Entity, error) {
	u, err := s.client.serviceURL(serviceSID, "Entities")
	if err != nil {
		return nil, err
	}
	if err := ValidateIdentity(identity); err != nil {
		return nil, err
	}
	return postValid[Entity](ctx, s.client, u, params, "Identity", identity)
}

// Fetch reads one entity.
func (s *EntityService) Fetch(ctx context.Context, serviceSID, identity string) (*Entity, error) {
	u, err := s.client.entityURL(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	return get[Entity](ctx, s.client, u)
}

// Delete removes an entity with all its factors and challenges. Deleting
// twice deletes once: a retry that finds it gone after an attempt that may
// have arrived counts as success; a first attempt that finds nothing is
// ErrNotFound.
func (s *EntityService) Delete(ctx context.Context, serviceSID, identity string) error {
	u, err := s.client.entityURL(serviceSID, identity)
	if err != nil {
		return err
	}
	return s.client.delete(ctx, u)
}

// ListPage fetches the first page of the service's entities; page.Next goes on.
func (s *EntityService) ListPage(ctx context.Context, serviceSID string, params *ListParams) (*Page[Entity], error) {
	u, err := s.client.serviceURL(serviceSID, "Entities")
	if err != nil {
		return nil, err
	}
	return listPage[Entity](ctx, s.client, u, params)
}

// List iterates over the service's entities, as ChallengeService.List does.
func (s *EntityService) List(ctx context.Context, serviceSID string, params *ListParams) iter.Seq2[*Entity, error] {
	p := copyListParams(params)
	return listAll(ctx, p.Limit, func(ctx context.Context) (*Page[Entity], error) {
		return s.ListPage(ctx, serviceSID, &p)
	})
}

// The URL builders below return the whole URL, the client's base and the
// path, in one concatenation: get, postForm, delete and the lists send to it
// and name its path (pathOf) in errors and logs, so a call builds no
// second string.

// serviceSIDURL is the URL of /v2/Services/{serviceSID}, with the SID
// validated.
func (c *Client) serviceSIDURL(serviceSID string) (string, error) {
	if err := checkSID("ServiceSid", serviceSID, "VA"); err != nil {
		return "", err
	}
	return c.baseURL + "/v2/Services/" + url.PathEscape(serviceSID), nil
}

// serviceURL is the URL of /v2/Services/{serviceSID}/{rest}, with the SID
// validated.
func (c *Client) serviceURL(serviceSID, rest string) (string, error) {
	if err := checkSID("ServiceSid", serviceSID, "VA"); err != nil {
		return "", err
	}
	return c.baseURL + "/v2/Services/" + url.PathEscape(serviceSID) + "/" + rest, nil
}

// entityURL is one entity's URL, with every segment validated and escaped.
func (c *Client) entityURL(serviceSID, identity string) (string, error) {
	return c.entityChildURL(serviceSID, identity, "", "", "")
}

// entityChildURL is entityURL followed by collection (such as
// "/Challenges") and, when sidPrefix is set, "/" and sid, a SID with that
// prefix: every segment validated and escaped, and the whole built in one
// concatenation rather than one per segment.
func (c *Client) entityChildURL(serviceSID, identity, collection, sidPrefix, sid string) (string, error) {
	if err := checkSID("ServiceSid", serviceSID, "VA"); err != nil {
		return "", err
	}
	if err := ValidateIdentity(identity); err != nil {
		return "", err
	}
	if sidPrefix == "" {
		return c.baseURL + "/v2/Services/" + url.PathEscape(serviceSID) + "/Entities/" + url.PathEscape(identity) + collection, nil
	}
	if err := checkSID("Sid", sid, sidPrefix); err != nil {
		return "", err
	}
	return c.baseURL + "/v2/Services/" + url.PathEscape(serviceSID) + "/Entities/" + url.PathEscape(identity) + collection +
		"/" + url.PathEscape(sid), nil
}

// pathOf is the path of rawURL, a URL one of the builders above returned.
func (c *Client) pathOf(rawURL string) string { return strings.TrimPrefix(rawURL, c.baseURL) }
