package verify

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Page is one page of a list: the items and the API's paging information.
// Every List and ListPage in the SDK returns this type.
type Page[T any] struct {
	Items []T      // the page's challenges, entities, factors, webhooks or services
	Meta  PageMeta // where the page sits, and the link to the next one

	client *Client
}

// PageMeta is the API's paging information.
type PageMeta struct {
	Page            int    `json:"page"`              // 0-based index of this page
	PageSize        int    `json:"page_size"`         // the most items a page holds
	FirstPageURL    string `json:"first_page_url"`    // absolute URL of page 0
	PreviousPageURL string `json:"previous_page_url"` // empty on the first page
	URL             string `json:"url"`               // absolute URL of this page
	NextPageURL     string `json:"next_page_url"`     // empty on the last page
	Key             string `json:"key"`               // the JSON key holding the items, such as "challenges"
}

// listBody is a list response: the API names the item array after the
// resource, so one struct carries every key and the page keeps the one
// meta.key names.
type listBody[T any] struct {
	Challenges []T      `json:"challenges"`
	Entities   []T      `json:"entities"`
	Factors    []T      `json:"factors"`
	Webhooks   []T      `json:"webhooks"`
	Services   []T      `json:"services"`
	Meta       PageMeta `json:"meta"`
}

func (b *listBody[T]) items() []T {
	switch b.Meta.Key {
	case "entities":
		return b.Entities
	case "factors":
		return b.Factors
	case "webhooks":
		return b.Webhooks
	case "challenges":
		return b.Challenges
	case "services":
		return b.Services
	}
	for _, items := range [][]T{b.Challenges, b.Entities, b.Factors, b.Webhooks, b.Services} {
		if len(items) > 0 {
			return items
		}
	}
	return nil
}

// HasNext reports whether the API linked a further page.
func (p *Page[T]) HasNext() bool { return p.Meta.NextPageURL != "" }

// Next fetches the page after p by following meta.next_page_url verbatim.
// It returns (nil, nil) on the last page. A next URL on another scheme, host
// or port than the client's is refused, so credentials never go elsewhere.
func (p *Page[T]) Next(ctx context.Context) (*Page[T], error) {
	if !p.HasNext() {
		return nil, nil
	}
	u, err := url.Parse(p.Meta.NextPageURL)
	if err != nil {
		return nil, fmt.Errorf("verify: next_page_url is not a URL: %w", err)
	}
	c := p.client
	if c == nil {
		return nil, errors.New("verify: this Page was not returned by the SDK, so it has no client to follow next_page_url with; use ListPage")
	}
	if !sameOrigin(u, c.base) {
		return nil, fmt.Errorf("verify: next_page_url points to %s://%s, not the client's %s://%s; "+
			"refusing to follow it with credentials", u.Scheme, u.Host, c.base.Scheme, c.base.Host)
	}
	return getPage[T](ctx, c, p.Meta.NextPageURL, u.Path)
}

// String describes the page position, for logs.
func (p *Page[T]) String() string {
	return "verify.Page{page " + strconv.Itoa(p.Meta.Page) + ", " + strconv.Itoa(len(p.Items)) + " items}"
}

// sameOrigin compares scheme, host (case-insensitively) and effective port,
// so https://Verify.Twilio.com:443 is the client's https://verify.twilio.com.
func sameOrigin(u, base *url.URL) bool {
	return strings.EqualFold(u.Scheme, base.Scheme) && u.User == nil &&
		strings.EqualFold(u.Hostname(), base.Hostname()) && effectivePort(u) == effectivePort(base)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// getPage fetches and decodes one page of T.
func getPage[T any](ctx context.Context, c *Client, rawURL, path string) (*Page[T], error) {
	var body listBody[T]
	if err := c.do(ctx, http.MethodGet, rawURL, path, nil, &body); err != nil {
		return nil, err
	}
	return &Page[T]{Items: body.items(), Meta: body.Meta, client: c}, nil
}

// firstPage fetches the first page of the list at rawURL with query q.
func firstPage[T any](ctx context.Context, c *Client, rawURL string, q url.Values) (*Page[T], error) {
	path := c.pathOf(rawURL)
	if len(q) > 0 {
		rawURL += "?" + q.Encode()
	}
	return getPage[T](ctx, c, rawURL, path)
}

// copyListParams copies the caller's params, so later changes do not affect
// an iteration.
func copyListParams(params *ListParams) ListParams {
	if params == nil {
		return ListParams{}
	}
	return *params
}

// listPage validates params and fetches the first page of the list at rawURL:
// the ListPage of entities, factors and webhooks.
func listPage[T any](ctx context.Context, c *Client, rawURL string, params *ListParams) (*Page[T], error) {
	p := copyListParams(params)
	p.PageSize = pageSizeFor(p.PageSize, p.Limit)
	return queryPage[T](ctx, c, rawURL, &p)
}

// queryPage validates params, then fetches the first page of the list at
// rawURL with params as its query.
func queryPage[T any](ctx context.Context, c *Client, rawURL string, params interface{ Validate() error }) (*Page[T], error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	q, err := formValues(params)
	if err != nil {
		return nil, err
	}
	return firstPage[T](ctx, c, rawURL, q)
}

// listAll iterates over every item from the page first returns, following
// next_page_url until the last page, an empty page or limit items (0: no
// limit). It sends nothing until the loop starts, stops fetching when the
// loop breaks, and yields an error at most once, as the last value.
func listAll[T any](ctx context.Context, limit int, first func(context.Context) (*Page[T], error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		page, err := first(ctx)
		seen := 0
		for err == nil {
			for i := range page.Items {
				if !yield(&page.Items[i], nil) {
					return
				}
				if seen++; limit > 0 && seen >= limit {
					return
				}
			}
			if len(page.Items) == 0 || !page.HasNext() {
				return
			}
			page, err = page.Next(ctx)
		}
		yield(nil, err)
	}
}

// ListPage fetches the first page of challenges for an identity. Use
// page.Next to go on, or List to iterate over every challenge.
func (s *ChallengeService) ListPage(ctx context.Context, serviceSID, identity string, params *ListChallengesParams) (*Page[Challenge], error) {
	u, err := s.client.challengesURL(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	var p ListChallengesParams
	if params != nil {
		p = *params
	}
	p.PageSize = pageSizeFor(p.PageSize, p.Limit)
	return queryPage[Challenge](ctx, s.client, u, &p)
}

// pageSizeFor shrinks the API's default page of 50 to a smaller Limit, so
// that keeping 3 items does not fetch 50.
func pageSizeFor(pageSize, limit int) int {
	if pageSize == 0 && limit > 0 && limit < 50 {
		return limit
	}
	return pageSize
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
	return listAll(ctx, p.Limit, func(ctx context.Context) (*Page[Challenge], error) {
		return s.ListPage(ctx, serviceSID, identity, &p)
	})
}
