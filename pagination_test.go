package verify

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
)

// pageBody builds a list page of n challenges numbered from first, linking
// to next (absolute URL) unless it is empty.
func pageBody(first, n int, next string) string {
	return listJSON("challenges", "YC", `,"status":"pending","factor_type":"push"`, first, n, next)
}

// listJSON builds a page of the list named key: n items numbered from first,
// each a SID of prefix plus the extra fields, linking to next unless empty.
func listJSON(key, prefix, extra string, first, n int, next string) string {
	var b strings.Builder
	b.WriteString(`{"` + key + `":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"sid":"%s%032x"%s}`, prefix, first+i, extra)
	}
	nextJSON := "null"
	if next != "" {
		nextJSON = `"` + next + `"`
	}
	fmt.Fprintf(&b, `],"meta":{"page":0,"page_size":%d,"next_page_url":%s,"key":"%s"}}`, n, nextJSON, key)
	return b.String()
}

func sidN(n int) string { return fmt.Sprintf("YC%032x", n) }

func TestListFollowsNextPageURLVerbatim(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	next := listURL + "?PageSize=2&Page=1&PageToken=PTabc"
	h.mock.RegisterResponder("GET", listURL+"?FactorSid="+testFactor+"&Order=desc&PageSize=2&Status=pending", bodyResponder(200, pageBody(0, 2, next)))
	h.mock.RegisterResponder("GET", next, bodyResponder(200, pageBody(2, 1, "")))

	params := &ListChallengesParams{FactorSID: testFactor, Status: StatusPending, Order: OrderDesc, ListParams: ListParams{PageSize: 2}}
	seq := h.client.Challenges.List(context.Background(), testService, testIdentity, params)
	if n := len(h.requests()); n != 0 {
		t.Fatalf("List sent %d requests before the loop started", n)
	}
	params.Status = StatusDenied // must not affect the iteration
	var got []string
	for ch, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch.SID)
	}
	if want := []string{sidN(0), sidN(1), sidN(2)}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
	reqs := h.requests()
	if len(reqs) != 2 {
		t.Fatalf("sent %d requests, want 2", len(reqs))
	}
	q := reqs[0].URL.Query()
	if q.Get("FactorSid") != testFactor || q.Get("Status") != "pending" || q.Get("Order") != "desc" || q.Get("PageSize") != "2" || len(q) != 4 {
		t.Errorf("first query = %v", q)
	}
	if reqs[1].URL.String() != next {
		t.Errorf("second request %s, want %s", reqs[1].URL, next)
	}
}

func TestListLimitAndBreakStopFetching(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	next := listURL + "?PageSize=3&Page=1&PageToken=PT1"
	h.mock.RegisterResponder("GET", listURL, bodyResponder(200, pageBody(0, 3, next)))
	h.mock.RegisterResponder("GET", next, bodyResponder(200, pageBody(3, 3, listURL+"?Page=2")))

	n := 0
	for _, err := range h.client.Challenges.List(context.Background(), testService, testIdentity, &ListChallengesParams{ListParams: ListParams{PageSize: 3, Limit: 4}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 || len(h.requests()) != 2 {
		t.Errorf("Limit 4: yielded %d, sent %d requests; want 4 and 2", n, len(h.requests()))
	}

	h2 := newHarness(t)
	h2.mock.RegisterResponder("GET", listURL, bodyResponder(200, pageBody(0, 3, next)))
	for range h2.client.Challenges.List(context.Background(), testService, testIdentity, nil) {
		break
	}
	if len(h2.requests()) != 1 {
		t.Errorf("break after the first item sent %d requests, want 1", len(h2.requests()))
	}
}

func TestListSmallLimitShrinksPageSize(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("GET", listURL, bodyResponder(200, pageBody(0, 3, "")))
	for range h.client.Challenges.List(context.Background(), testService, testIdentity, &ListChallengesParams{ListParams: ListParams{Limit: 3}}) {
	}
	if got := h.only().URL.Query().Get("PageSize"); got != "3" {
		t.Errorf("PageSize = %q, want 3 for Limit 3", got)
	}
}

func TestListStopsOnEmptyPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mock.RegisterResponder("GET", listURL, bodyResponder(200, pageBody(0, 0, listURL+"?Page=1")))
	n := 0
	for _, err := range h.client.Challenges.List(context.Background(), testService, testIdentity, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 || len(h.requests()) != 1 {
		t.Errorf("empty page: yielded %d, sent %d; want 0 and 1", n, len(h.requests()))
	}
}

func TestListRefusesForeignNextPageURL(t *testing.T) {
	t.Parallel()
	for _, next := range []string{
		"https://evil.example.com/v2/Services/x/Challenges?Page=1",
		"http://verify.twilio.com/v2/Services/x/Challenges?Page=1",
		"https://verify.twilio.com.evil.example/v2?Page=1",
	} {
		h := newHarness(t)
		h.mock.RegisterResponder("GET", listURL, bodyResponder(200, pageBody(0, 1, next)))
		h.mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			t.Errorf("request sent to %s", r.URL)
			return nil, errors.New("unexpected")
		})
		var errs []error
		n := 0
		for ch, err := range h.client.Challenges.List(context.Background(), testService, testIdentity, nil) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n++
			_ = ch
		}
		if n != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "refusing") {
			t.Errorf("%s: yielded %d items and errors %v", next, n, errs)
		}
		if len(h.requests()) != 1 {
			t.Errorf("%s: sent %d requests, want 1", next, len(h.requests()))
		}
	}
}

func TestListYieldsErrorOnceAndStops(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithMaxRetries(0))
	next := listURL + "?Page=1"
	h.mock.RegisterResponder("GET", listURL, bodyResponder(200, pageBody(0, 2, next)))
	h.mock.RegisterResponder("GET", next, twilioError(404, 20404, "gone"))
	var items, errs int
	for _, err := range h.client.Challenges.List(context.Background(), testService, testIdentity, nil) {
		if err != nil {
			errs++
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v", err)
			}
			continue // a caller that keeps going still sees no more values
		}
		items++
	}
	if items != 2 || errs != 1 {
		t.Errorf("items %d errors %d, want 2 and 1", items, errs)
	}

	// A validation error is yielded too, with no request sent.
	h2 := newHarness(t)
	for _, err := range h2.client.Challenges.List(context.Background(), testService, testIdentity, &ListChallengesParams{ListParams: ListParams{PageSize: 1001}}) {
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "PageSize" {
			t.Errorf("err = %v", err)
		}
	}
	if len(h2.requests()) != 0 {
		t.Errorf("invalid params sent %d requests", len(h2.requests()))
	}
}

func TestListPageNext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	next := listURL + "?Page=1&PageToken=PT"
	h.mock.RegisterResponder("GET", listURL, jsonResponder(t, 200, "list_full.json"))
	page, err := h.client.Challenges.ListPage(context.Background(), testService, testIdentity, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Meta.PageSize != 50 || page.Meta.Key != "challenges" || page.HasNext() {
		t.Fatalf("page = %+v", page.Meta)
	}
	if page.Items[1].FactorType != FactorTypeTOTP {
		t.Errorf("second challenge = %+v", page.Items[1])
	}
	last, err := page.Next(context.Background())
	if last != nil || err != nil || len(h.requests()) != 1 {
		t.Errorf("Next on the last page = %v, %v", last, err)
	}
	page.Meta.NextPageURL = next
	h.mock.RegisterResponder("GET", next, jsonResponder(t, 200, "list_empty.json"))
	p2, err := page.Next(context.Background())
	if err != nil || len(p2.Items) != 0 || p2.HasNext() {
		t.Errorf("Next = %+v, %v", p2, err)
	}
}

// TestNextPageOnTheSameOriginSpelledDifferently: a base URL with capitals or
// the default port still follows the API's lower-case, portless links.
func TestNextPageOnTheSameOriginSpelledDifferently(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"https://Verify.Twilio.com", "https://verify.twilio.com:443", "HTTPS://VERIFY.TWILIO.COM:443"} {
		h := newHarness(t, WithBaseURL(base))
		next := listURL + "?Page=1&PageToken=PT2"
		h.mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			if r.URL.Query().Get("PageToken") == "PT2" {
				return bodyResponder(200, pageBody(2, 1, ""))(r)
			}
			return bodyResponder(200, pageBody(0, 2, next))(r)
		})
		n := 0
		for _, err := range h.client.Challenges.List(context.Background(), testService, testIdentity, nil) {
			if err != nil {
				t.Fatalf("%s: %v", base, err)
			}
			n++
		}
		if n != 3 || len(h.requests()) != 2 {
			t.Errorf("%s: %d items in %d requests, want 3 in 2", base, n, len(h.requests()))
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"https://verify.twilio.com:8443/x", "https://verify.twilio.com"},
		{"http://verify.twilio.com:443/x", "https://verify.twilio.com"},
		{"https://user@verify.twilio.com/x", "https://verify.twilio.com"},
	} {
		u, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if sameOrigin(u, b) {
			t.Errorf("%s counted as the origin of %s", tc.a, tc.b)
		}
	}
}

// enrollmentList is one of the enrollment lists, seen as the SIDs it yields.
type enrollmentList struct {
	name, path, key, prefix string
	list                    func(ctx context.Context, c *Client, p *ListParams) iter.Seq2[string, error]
}

func enrollmentLists() []enrollmentList {
	return []enrollmentList{
		{"Entities", pathEntities, "entities", "YE", func(ctx context.Context, c *Client, p *ListParams) iter.Seq2[string, error] {
			return sids(c.Entities.List(ctx, testService, p), func(e *Entity) string { return e.SID })
		}},
		{"Factors", pathFactors, "factors", "YF", func(ctx context.Context, c *Client, p *ListParams) iter.Seq2[string, error] {
			return sids(c.Factors.List(ctx, testService, testIdentity, p), func(f *Factor) string { return f.SID })
		}},
		{"Webhooks", pathWebhooks, "webhooks", "YW", func(ctx context.Context, c *Client, p *ListParams) iter.Seq2[string, error] {
			return sids(c.Webhooks.List(ctx, testService, p), func(w *Webhook) string { return w.SID })
		}},
	}
}

// sids maps an item iterator to the items' SIDs ("" with an error).
func sids[T any](seq iter.Seq2[*T, error], sid func(*T) string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for item, err := range seq {
			s := ""
			if item != nil {
				s = sid(item)
			}
			if !yield(s, err) {
				return
			}
		}
	}
}

// collect runs a SID iterator to its end.
func collect(seq iter.Seq2[string, error]) (got []string, errs []error) {
	for sid, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, sid)
	}
	return got, errs
}

// TestEnrollmentListsUseTheEngine drives Entities.List, Factors.List and
// Webhooks.List through the one list engine: each follows next_page_url
// verbatim and lazily with a copy of its params, stops at Limit or when the
// loop breaks, and refuses a next page on a foreign host.
func TestEnrollmentListsUseTheEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, l := range enrollmentLists() {
		first := apiBase + l.path
		next := first + "?PageSize=2&Page=1&PageToken=PT1"
		page := func(from, n int, next string) httpmock.Responder {
			return bodyResponder(200, listJSON(l.key, l.prefix, "", from, n, next))
		}
		sid := func(n int) string { return fmt.Sprintf("%s%032x", l.prefix, n) }

		t.Run(l.name+"/follows next_page_url", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mock.RegisterResponder("GET", first+"?PageSize=2", page(0, 2, next))
			h.mock.RegisterResponder("GET", next, page(2, 1, ""))
			params := &ListParams{PageSize: 2}
			seq := l.list(ctx, h.client, params)
			if n := len(h.requests()); n != 0 {
				t.Fatalf("List sent %d requests before the loop started", n)
			}
			params.PageSize = 7 // must not affect the iteration
			got, errs := collect(seq)
			if want := []string{sid(0), sid(1), sid(2)}; fmt.Sprint(got) != fmt.Sprint(want) || errs != nil {
				t.Errorf("got %v %v, want %v", got, errs, want)
			}
			reqs := h.requests()
			if len(reqs) != 2 {
				t.Fatalf("sent %d requests, want 2", len(reqs))
			}
			if q := reqs[0].URL.Query(); q.Encode() != "PageSize=2" {
				t.Errorf("first query = %q, want PageSize=2", q.Encode())
			}
			if reqs[1].URL.String() != next {
				t.Errorf("second request %s, want next_page_url %s", reqs[1].URL, next)
			}
		})

		t.Run(l.name+"/Limit", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mock.RegisterResponder("GET", first+"?PageSize=2", page(0, 2, next))
			h.mock.RegisterResponder("GET", next, page(2, 2, first+"?Page=2"))
			if got, errs := collect(l.list(ctx, h.client, &ListParams{PageSize: 2, Limit: 3})); len(got) != 3 || errs != nil || len(h.requests()) != 2 {
				t.Errorf("Limit 3: yielded %v %v in %d requests; want 3 items in 2", got, errs, len(h.requests()))
			}
			h2 := newHarness(t)
			h2.mock.RegisterResponder("GET", first+"?PageSize=3", page(0, 3, next))
			if got, _ := collect(l.list(ctx, h2.client, &ListParams{Limit: 3})); len(got) != 3 || len(h2.requests()) != 1 {
				t.Errorf("Limit 3 alone: %d items in %d requests; want 3 in one page of 3", len(got), len(h2.requests()))
			}
		})

		t.Run(l.name+"/break stops fetching", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mock.RegisterResponder("GET", first, page(0, 2, next))
			for range l.list(ctx, h.client, nil) {
				break
			}
			if n := len(h.requests()); n != 1 {
				t.Errorf("break after the first item sent %d requests, want 1", n)
			}
		})

		t.Run(l.name+"/foreign next_page_url", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.mock.RegisterResponder("GET", first, page(0, 1, "https://evil.example.com"+l.path+"?Page=1"))
			h.mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
				t.Errorf("request sent to %s", r.URL)
				return nil, errors.New("unexpected")
			})
			got, errs := collect(l.list(ctx, h.client, nil))
			if len(got) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "refusing") {
				t.Errorf("yielded %v and errors %v; want one item, then one refusal", got, errs)
			}
			if n := len(h.requests()); n != 1 {
				t.Errorf("sent %d requests, want 1", n)
			}
		})
	}
}
