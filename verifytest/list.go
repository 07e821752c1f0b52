package verifytest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	verify "github.com/verifykit/verify-go"
)

const defaultPageSize = 50

// maxPageOffset bounds where a page may start (Page × PageSize, or a
// PageToken): far beyond anything a fake holds, and small enough that
// offset + size never overflows an int, even a 32-bit one.
const maxPageOffset = 1 << 30

// metaJSON is the paging information every list page carries.
type metaJSON struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
	NextPageURL     *string `json:"next_page_url"`
	Key             string  `json:"key"`
}

// pageQuery is the paging part of a list request: which slice of the
// matched items to answer with.
type pageQuery struct {
	size, page, offset int
}

// readPageQuery reads PageSize (1–1000, default 50), Page and PageToken.
// PageToken, when set, wins over Page for where the page starts. A page
// that would start past maxPageOffset is a 400 (60306), so that no offset
// arithmetic overflows.
func readPageQuery(q url.Values) (pageQuery, *apiError) {
	size, err := intParam(q, "PageSize", defaultPageSize, 1)
	if err != nil {
		return pageQuery{}, err
	}
	if err := validation((&verify.ListParams{PageSize: size}).Validate()); err != nil {
		return pageQuery{}, err
	}
	page, err := intParam(q, "Page", 0, 0)
	if err != nil {
		return pageQuery{}, err
	}
	if page > maxPageOffset/size {
		return pageQuery{}, badRequest("Page %d is too large for PageSize %d: a page may start at item %d at most", page, size, maxPageOffset)
	}
	p := pageQuery{size: size, page: page, offset: page * size}
	if tok := q.Get("PageToken"); tok != "" {
		n, convErr := strconv.Atoi(strings.TrimPrefix(tok, "PT"))
		if !strings.HasPrefix(tok, "PT") || convErr != nil || n < 0 || n > maxPageOffset {
			return pageQuery{}, badRequest("PageToken %q is not valid", tok)
		}
		p.offset = n
	}
	return p, nil
}

// servePage answers a list request with the page p asks for: the matched
// items from p's offset, each rendered on the wire, under key, with meta
// links that repeat the query parameters named in keep (the list's
// filters). The caller holds s.mu, since rendering reads the items' state.
func servePage[T, J any](s *Server, w http.ResponseWriter, r *http.Request, p pageQuery, key string, matched []T, render func(T) J, keep ...string) {
	items := []J{}
	for i := p.offset; i < len(matched) && i < p.offset+p.size; i++ {
		items = append(items, render(matched[i]))
	}
	q := r.URL.Query()
	link := func(page, offset int) string {
		v := url.Values{}
		for _, k := range keep {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("PageSize", strconv.Itoa(p.size))
		v.Set("Page", strconv.Itoa(page))
		if offset > 0 {
			v.Set("PageToken", "PT"+strconv.Itoa(offset))
		}
		return s.URL + r.URL.Path + "?" + v.Encode()
	}
	meta := metaJSON{
		Page: p.page, PageSize: p.size, Key: key,
		FirstPageURL: link(0, 0), URL: link(p.page, p.offset),
	}
	if p.page > 0 {
		prev := link(p.page-1, max(0, p.offset-p.size))
		meta.PreviousPageURL = &prev
	}
	if p.offset+p.size < len(matched) {
		next := link(p.page+1, p.offset+p.size)
		meta.NextPageURL = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{key: items, "meta": meta})
}

// listHandler answers a list request a page at a time: items reads the
// path's resources (and the list's own filters) under s.mu, render puts each
// on the wire, key names the array, and keep names the filters the page
// links repeat.
func listHandler[T, J any](s *Server, key string, items func(*http.Request) ([]T, *apiError), render func(T) J, keep ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := readPageQuery(r.URL.Query())
		if err != nil {
			reply(w, 0, nil, err)
			return
		}
		resourceHandler(s, items, func(w http.ResponseWriter, matched []T) {
			servePage(s, w, r, p, key, matched, render, keep...)
		})(w, r)
	}
}

// challengesOf lists the path's entity's challenges that pass the
// FactorSid and Status filters, in Order; the caller holds s.mu.
func (s *Server) challengesOf(r *http.Request) ([]*challenge, *apiError) {
	q := r.URL.Query()
	params := verify.ListChallengesParams{
		FactorSID: q.Get("FactorSid"),
		Status:    verify.ChallengeStatus(q.Get("Status")),
		Order:     verify.Order(q.Get("Order")),
	}
	if err := validation(params.Validate()); err != nil {
		return nil, err
	}
	ent, err := s.entityFor(r)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var matched []*challenge
	for _, c := range ent.challenges {
		c.refresh(now)
		if (params.FactorSID == "" || c.factor.sid == params.FactorSID) && (params.Status == "" || c.status == params.Status) {
			matched = append(matched, c)
		}
	}
	if params.Order == verify.OrderDesc {
		slices.Reverse(matched)
	}
	return matched, nil
}

// challengeWire is a challenge on the wire.
func (s *Server) challengeWire(c *challenge) challengeJSON { return c.wire(s.accountSID, s.URL) }

// intParam reads an optional integer query parameter of at least minimum.
func intParam(q url.Values, key string, def, minimum int) (int, *apiError) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < minimum {
		return 0, badRequest("%s must be an integer of at least %d", key, minimum)
	}
	return n, nil
}
