package verify

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/go-querystring/query"
)

// ChallengePage is one page of List results.
type ChallengePage struct {
	Challenges []Challenge `json:"challenges"`
	Meta       PageMeta    `json:"meta"`

	client *Client
}

// PageMeta is the API's paging information.
type PageMeta struct {
	Page            int    `json:"page"`
	PageSize        int    `json:"page_size"`
	FirstPageURL    string `json:"first_page_url"`
	PreviousPageURL string `json:"previous_page_url"`
	URL             string `json:"url"`
	NextPageURL     string `json:"next_page_url"` // empty on the last page
	Key             string `json:"key"`
}

// HasNext reports whether the API linked a further page.
func (p *ChallengePage) HasNext() bool { return p.Meta.NextPageURL != "" }

// Next fetches the page after p by following meta.next_page_url verbatim.
// It returns (nil, nil) on the last page. A next URL on another scheme or
// host than the client's is refused, so credentials never go elsewhere.
func (p *ChallengePage) Next(ctx context.Context) (*ChallengePage, error) {
	if !p.HasNext() {
		return nil, nil
	}
	u, err := url.Parse(p.Meta.NextPageURL)
	if err != nil {
		return nil, fmt.Errorf("verify: next_page_url is not a URL: %w", err)
	}
	c := p.client
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, fmt.Errorf("verify: next_page_url points to %s://%s, not the client's %s://%s; "+
			"refusing to follow it with credentials", u.Scheme, u.Host, c.base.Scheme, c.base.Host)
	}
	return c.getPage(ctx, p.Meta.NextPageURL, u.Path)
}

// ListPage fetches the first page of challenges for an identity. Use
// page.Next to go on, or List to iterate over every challenge.
func (s *ChallengeService) ListPage(ctx context.Context, serviceSID, identity string, params *ListChallengesParams) (*ChallengePage, error) {
	path, err := challengesPath(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	var p ListChallengesParams
	if params != nil {
		p = *params
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.PageSize == 0 && p.Limit > 0 && p.Limit < 50 {
		p.PageSize = p.Limit // don't fetch 50 to keep 3
	}
	q, err := query.Values(&p)
	if err != nil {
		return nil, err
	}
	rawURL := s.client.baseURL + path
	if len(q) > 0 {
		rawURL += "?" + q.Encode()
	}
	return s.client.getPage(ctx, rawURL, path)
}

func (c *Client) getPage(ctx context.Context, rawURL, path string) (*ChallengePage, error) {
	page := &ChallengePage{client: c}
	if err := c.do(ctx, http.MethodGet, rawURL, path, nil, page); err != nil {
		return nil, err
	}
	return page, nil
}

// List iterates over the challenges of an identity, following next_page_url
// until the last page, an empty page or params.Limit. It sends nothing until
// the loop starts, stops fetching when the loop breaks, and yields an error
// at most once, as the last value.
//
//	for ch, err := range c.Challenges.List(ctx, serviceSID, identity, nil) {
//		if err != nil { return err }
//		fmt.Println(ch.SID, ch.Status)
//	}
func (s *ChallengeService) List(ctx context.Context, serviceSID, identity string, params *ListChallengesParams) iter.Seq2[*Challenge, error] {
	var p ListChallengesParams
	if params != nil {
		p = *params // later changes by the caller do not affect the iteration
	}
	return func(yield func(*Challenge, error) bool) {
		page, err := s.ListPage(ctx, serviceSID, identity, &p)
		seen := 0
		for err == nil {
			for i := range page.Challenges {
				if !yield(&page.Challenges[i], nil) {
					return
				}
				if seen++; p.Limit > 0 && seen >= p.Limit {
					return
				}
			}
			if len(page.Challenges) == 0 || !page.HasNext() {
				return
			}
			page, err = page.Next(ctx)
		}
		yield(nil, err)
	}
}

// String describes the page position, for logs.
func (p *ChallengePage) String() string {
	return "verify.ChallengePage{page " + strconv.Itoa(p.Meta.Page) + ", " + strconv.Itoa(len(p.Challenges)) + " challenges}"
}
