package verifytest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	verify "github.com/verifykit/verify-go"
)

const defaultPageSize = 50

// pageJSON is a list page as the API sends it.
type pageJSON struct {
	Challenges []challengeJSON `json:"challenges"`
	Meta       metaJSON        `json:"meta"`
}

type metaJSON struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
	NextPageURL     *string `json:"next_page_url"`
	Key             string  `json:"key"`
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	params := verify.ListChallengesParams{
		FactorSID: q.Get("FactorSid"),
		Status:    verify.ChallengeStatus(q.Get("Status")),
		Order:     verify.Order(q.Get("Order")),
		PageSize:  defaultPageSize,
	}
	var err *apiError
	if params.PageSize, err = intParam(q, "PageSize", defaultPageSize, 1); err != nil {
		reply(w, 0, nil, err)
		return
	}
	page, err := intParam(q, "Page", 0, 0)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	if err := validation(params.Validate()); err != nil {
		reply(w, 0, nil, err)
		return
	}
	offset := page * params.PageSize
	if tok := q.Get("PageToken"); tok != "" {
		n, convErr := strconv.Atoi(strings.TrimPrefix(tok, "PT"))
		if !strings.HasPrefix(tok, "PT") || convErr != nil || n < 0 {
			reply(w, 0, nil, badRequest("PageToken %q is not valid", tok))
			return
		}
		offset = n
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ent, err := s.entityFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
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
		for i, j := 0, len(matched)-1; i < j; i, j = i+1, j-1 {
			matched[i], matched[j] = matched[j], matched[i]
		}
	}
	out := pageJSON{Challenges: []challengeJSON{}}
	for i := offset; i < len(matched) && i < offset+params.PageSize; i++ {
		out.Challenges = append(out.Challenges, matched[i].wire(s.accountSID, s.URL))
	}
	link := func(page, offset int) string {
		v := url.Values{}
		for _, k := range []string{"FactorSid", "Status", "Order"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("PageSize", strconv.Itoa(params.PageSize))
		v.Set("Page", strconv.Itoa(page))
		if offset > 0 {
			v.Set("PageToken", "PT"+strconv.Itoa(offset))
		}
		return s.URL + r.URL.Path + "?" + v.Encode()
	}
	out.Meta = metaJSON{
		Page: page, PageSize: params.PageSize, Key: "challenges",
		FirstPageURL: link(0, 0), URL: link(page, offset),
	}
	if page > 0 {
		prev := link(page-1, max(0, offset-params.PageSize))
		out.Meta.PreviousPageURL = &prev
	}
	if offset+params.PageSize < len(matched) {
		next := link(page+1, offset+params.PageSize)
		out.Meta.NextPageURL = &next
	}
	reply(w, http.StatusOK, out, nil)
}

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
