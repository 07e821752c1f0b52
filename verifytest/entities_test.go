package verifytest_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	verify "github.com/verifykit/verify-go"
)

// TestEntityCreateFetchAndConflict: Create answers the entity with its
// links; Fetch reads the same; a second Create for the identity is 60301
// (409), as the API answers for an existing Identity.
func TestEntityCreateFetchAndConflict(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	e, err := c.Entities.Create(ctx, svc, identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/v2/Services/" + svc + "/Entities/" + identity
	if !strings.HasPrefix(e.SID, "YE") || e.Identity != identity || e.ServiceSID != svc || e.AccountSID != srv.AccountSID() ||
		e.URL != base || e.Links.Factors != base+"/Factors" || e.Links.NewFactors != base+"/Factors" ||
		e.Links.Challenges != base+"/Challenges" || e.DateCreated.IsZero() || !e.DateUpdated.Equal(e.DateCreated) {
		t.Fatalf("created entity %+v", e)
	}
	got, err := c.Entities.Fetch(ctx, svc, identity)
	if err != nil || *got != *e {
		t.Fatalf("fetch: %+v %v, want %+v", got, err, e)
	}
	_, err = c.Entities.Create(ctx, svc, identity, nil)
	wantAPIError(t, "second Create", err, http.StatusConflict, 60301)

	// The server checks the identity too, not only the SDK.
	status, body := raw(t, srv, "POST", servicePath(svc)+"/Entities", url.Values{"Identity": {"short"}}, srv.AccountSID(), srv.AuthToken())
	if status != http.StatusBadRequest || code(body) != 60306 {
		t.Errorf("7-character identity: %d %v, want 400 60306", status, body)
	}
	if _, err := c.Entities.Fetch(ctx, svc, "nobody-0000"); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("fetch of an unknown identity: %v, want ErrNotFound", err)
	}
}

// TestFirstFactorCreatesTheEntity: a factor for a new identity creates its
// entity, through the API and through the helpers alike.
func TestFirstFactorCreatesTheEntity(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	if _, err := c.Factors.CreateTOTP(ctx, svc, "api-user-0001", &verify.CreateTOTPFactorParams{FriendlyName: "phone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.NewTOTPFactor(svc, "helper-user-0002", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.NewPushDevice(svc, "device-user-0003"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for e, err := range c.Entities.List(ctx, svc, nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Identity)
	}
	if want := "api-user-0001,helper-user-0002,device-user-0003"; strings.Join(got, ",") != want {
		t.Errorf("entities %v, want %s in creation order", got, want)
	}
}

// TestDeleteEntityDeletesFactorsAndChallenges: after Delete the entity, its
// factors and its challenges are gone (404); an entity made again for the
// identity starts empty; a second Delete is ErrNotFound.
func TestDeleteEntityDeletesFactorsAndChallenges(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	f, err := srv.NewTOTPFactor(svc, identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: f.SID})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Entities.Delete(ctx, svc, identity); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Entities.Fetch(ctx, svc, identity); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("fetch after delete: %v, want ErrNotFound", err)
	}
	if _, err := c.Challenges.Fetch(ctx, svc, identity, ch.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("challenge after delete: %v, want ErrNotFound", err)
	}
	if err := c.Entities.Delete(ctx, svc, identity); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}

	if _, err := c.Entities.Create(ctx, svc, identity, nil); err != nil {
		t.Fatalf("create again after delete: %v", err)
	}
	_, err = c.Factors.Fetch(ctx, svc, identity, f.SID)
	wantAPIError(t, "old factor on the new entity", err, http.StatusNotFound, 20404)
	_, err = c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: f.SID})
	wantAPIError(t, "challenge on the old factor", err, http.StatusNotFound, 20404)
	n := 0
	for _, err := range c.Challenges.List(ctx, svc, identity, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 {
		t.Errorf("new entity lists %d challenges, want 0", n)
	}
}

// TestEntityListPages: entities list in creation order across pages with
// the same meta as challenges (key, page size, next_page_url on the fake).
func TestEntityListPages(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.NewService()
	var want []string
	for _, id := range []string{"user-000a", "user-000b", "user-000c", "user-000d", "user-000e"} {
		if _, err := c.Entities.Create(ctx, svc, id, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	page, err := c.Entities.ListPage(ctx, svc, &verify.ListParams{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Meta.Key != "entities" || page.Meta.PageSize != 2 || page.Meta.Page != 0 ||
		!strings.HasPrefix(page.Meta.NextPageURL, srv.URL+"/v2/Services/"+svc+"/Entities?") || page.Meta.PreviousPageURL != "" {
		t.Fatalf("first page: %+v", page.Meta)
	}
	var got []string
	pages := 0
	for p := page; p != nil; p, err = p.Next(ctx) {
		pages++
		for _, e := range p.Items {
			got = append(got, e.Identity)
		}
	}
	if err != nil || pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%d pages %v (%v), want 3 pages %v", pages, got, err, want)
	}
	n := 0
	for _, err := range c.Entities.List(ctx, svc, &verify.ListParams{PageSize: 2, Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("List with Limit 3 yielded %d", n)
	}
	if _, err := c.Entities.ListPage(ctx, srv.ServiceSID(), nil); err != nil {
		t.Errorf("empty list: %v", err)
	}
}
