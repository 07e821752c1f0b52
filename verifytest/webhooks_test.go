package verifytest_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestWebhookLifecycle: Create stores a webhook with the API's defaults
// (enabled, v2, POST); Update changes only what it sends, EventTypes as a
// whole; Delete answers 204, then Fetch is 404.
func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return start })})
	svc := srv.ServiceSID()
	events := []verify.EventType{verify.EventChallengeApproved, verify.EventChallengeDenied}
	w, err := c.Webhooks.Create(ctx, svc, &verify.CreateWebhookParams{
		FriendlyName: "login", WebhookURL: "https://example.com/hooks/verify", EventTypes: events})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.SID, "YW") || w.FriendlyName != "login" || w.WebhookURL != "https://example.com/hooks/verify" ||
		!slices.Equal(w.EventTypes, events) || w.Status != verify.WebhookStatusEnabled || w.Version != verify.WebhookVersionV2 ||
		w.Method != "POST" || w.ServiceSID != svc || w.AccountSID != srv.AccountSID() ||
		w.URL != srv.URL+"/v2/Services/"+svc+"/Webhooks/"+w.SID || w.DateCreated.IsZero() {
		t.Fatalf("created webhook %+v", w)
	}
	got, err := c.Webhooks.Fetch(ctx, svc, w.SID)
	if err != nil || !slices.Equal(got.EventTypes, events) || got.SID != w.SID {
		t.Fatalf("fetch: %+v %v", got, err)
	}

	srv.Advance(time.Minute)
	up, err := c.Webhooks.Update(ctx, svc, w.SID, &verify.UpdateWebhookParams{
		Status: verify.WebhookStatusDisabled, EventTypes: []verify.EventType{verify.EventAll}, Version: verify.WebhookVersionV1})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != verify.WebhookStatusDisabled || !slices.Equal(up.EventTypes, []verify.EventType{verify.EventAll}) ||
		up.Version != verify.WebhookVersionV1 || up.FriendlyName != "login" || up.WebhookURL != w.WebhookURL ||
		!up.DateCreated.Equal(w.DateCreated) || up.DateUpdated.Sub(w.DateUpdated) != time.Minute {
		t.Fatalf("updated webhook %+v", up)
	}
	up, err = c.Webhooks.Update(ctx, svc, w.SID, &verify.UpdateWebhookParams{WebhookURL: "http://127.0.0.1:9/hook", FriendlyName: "local"})
	if err != nil || up.WebhookURL != "http://127.0.0.1:9/hook" || up.FriendlyName != "local" || up.Status != verify.WebhookStatusDisabled {
		t.Fatalf("second update: %+v %v", up, err)
	}

	if err := c.Webhooks.Delete(ctx, svc, w.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Webhooks.Fetch(ctx, svc, w.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("fetch after delete: %v, want ErrNotFound", err)
	}
	if err := c.Webhooks.Delete(ctx, svc, w.SID); !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	_, err = c.Webhooks.Update(ctx, svc, w.SID, &verify.UpdateWebhookParams{FriendlyName: "x"})
	wantAPIError(t, "update after delete", err, http.StatusNotFound, 20404)
}

// TestWebhookListAndServices: webhooks list per service, in creation order,
// across pages; deleting one leaves the others in order.
func TestWebhookListAndServices(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc, other := srv.ServiceSID(), srv.NewService()
	var sids []string
	for _, name := range []string{"a", "b", "c"} {
		w, err := c.Webhooks.Create(ctx, svc, &verify.CreateWebhookParams{FriendlyName: name,
			WebhookURL: "https://example.com/" + name, EventTypes: []verify.EventType{verify.EventFactorCreated}, Status: verify.WebhookStatusDisabled})
		if err != nil {
			t.Fatal(err)
		}
		if w.Status != verify.WebhookStatusDisabled {
			t.Errorf("Status disabled on create: %s", w.Status)
		}
		sids = append(sids, w.SID)
	}
	if _, err := c.Webhooks.Create(ctx, other, &verify.CreateWebhookParams{FriendlyName: "elsewhere",
		WebhookURL: "https://example.com/x", EventTypes: []verify.EventType{verify.EventAll}}); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		var got []string
		for w, err := range c.Webhooks.List(ctx, svc, &verify.ListParams{PageSize: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, w.SID)
		}
		return got
	}
	if got := list(); !slices.Equal(got, sids) {
		t.Fatalf("listed %v, want %v", got, sids)
	}
	if err := c.Webhooks.Delete(ctx, svc, sids[1]); err != nil {
		t.Fatal(err)
	}
	if got, want := list(), []string{sids[0], sids[2]}; !slices.Equal(got, want) {
		t.Errorf("after delete: %v, want %v", got, want)
	}
}

// TestWebhookFormIsChecked: the server refuses what the SDK would not send,
// with 60306.
func TestWebhookFormIsChecked(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	path := servicePath(srv.ServiceSID()) + "/Webhooks"
	ok := url.Values{"FriendlyName": {"n"}, "WebhookUrl": {"https://example.com/h"}, "EventTypes": {"factor.created", "challenge.denied"}}
	with := func(key string, vals ...string) url.Values {
		f := url.Values{}
		for k, v := range ok {
			f[k] = v
		}
		if vals == nil {
			f.Del(key)
		} else {
			f[key] = vals
		}
		return f
	}
	for name, form := range map[string]url.Values{
		"no EventTypes":     with("EventTypes"),
		"unknown event":     with("EventTypes", "challenge.created"),
		"no URL":            with("WebhookUrl"),
		"ftp URL":           with("WebhookUrl", "ftp://example.com/h"),
		"relative URL":      with("WebhookUrl", "/hooks"),
		"no host":           with("WebhookUrl", "https://user:pass@/h"),
		"space in URL":      with("WebhookUrl", "https://example.com/a b"),
		"tab in URL":        with("WebhookUrl", "https://example.com/h\t"),
		"status on":         with("Status", "on"),
		"version v3":        with("Version", "v3"),
		"no name":           with("FriendlyName"),
		"65-character name": with("FriendlyName", strings.Repeat("n", 65)),
	} {
		if status, body := raw(t, srv, "POST", path, form, srv.AccountSID(), srv.AuthToken()); status != 400 || code(body) != 60306 {
			t.Errorf("%s: %d %v, want 400 60306", name, status, body)
		}
	}
	status, body := raw(t, srv, "POST", path, ok, srv.AccountSID(), srv.AuthToken())
	if events, _ := body["event_types"].([]any); status != 201 || len(events) != 2 {
		t.Fatalf("valid form: %d %v, want 201 with both event types", status, body)
	}
	// What the API takes besides https: plain http to any host, and basic
	// auth in the URL. Both are kept as sent.
	for _, u := range []string{"http://example.com/h", "https://user:pass@example.com/h", "http://user:pass@example.com:8080/h?x=1"} {
		if status, body := raw(t, srv, "POST", path, with("WebhookUrl", u), srv.AccountSID(), srv.AuthToken()); status != 201 || body["webhook_url"] != u {
			t.Errorf("%s: %d %v, want 201 with the URL as sent", u, status, body["webhook_url"])
		}
	}
}

// TestWebhookURLHelper: WebhookURL registers, on the default service, an
// enabled v2 webhook for every event or for the events named, as the API
// shows it; a URL or event type the API would refuse is refused.
func TestWebhookURLHelper(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	all, err := srv.WebhookURL("https://example.com/hooks/verify?tenant=a")
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Webhooks.Fetch(ctx, svc, all)
	if err != nil || w.WebhookURL != "https://example.com/hooks/verify?tenant=a" || w.FriendlyName != "verifytest" ||
		!slices.Equal(w.EventTypes, []verify.EventType{verify.EventAll}) || w.Status != verify.WebhookStatusEnabled ||
		w.Version != verify.WebhookVersionV2 || w.ServiceSID != svc {
		t.Fatalf("every event: %+v %v", w, err)
	}
	events := []verify.EventType{verify.EventChallengeApproved, verify.EventChallengeDenied}
	some, err := srv.WebhookURL("http://127.0.0.1:9/hooks", events...)
	if err != nil {
		t.Fatal(err)
	}
	if w, err := c.Webhooks.Fetch(ctx, svc, some); err != nil || !slices.Equal(w.EventTypes, events) {
		t.Fatalf("two events: %+v %v", w, err)
	}
	public, err := srv.WebhookURL("http://user:pass@example.com/hooks", events...) // plain http and basic auth, as the API takes them
	if err != nil {
		t.Fatal(err)
	}
	if w, err := c.Webhooks.Fetch(ctx, svc, public); err != nil || w.WebhookURL != "http://user:pass@example.com/hooks" {
		t.Fatalf("plain http with basic auth: %+v %v", w, err)
	}
	for _, bad := range []struct {
		url   string
		event verify.EventType
		field string
	}{
		{"ftp://example.com/hooks", verify.EventAll, "WebhookUrl"},
		{"/hooks", verify.EventAll, "WebhookUrl"},
		{"https://:8443/hooks", verify.EventAll, "WebhookUrl"},
		{"https://example.com/a b", verify.EventAll, "WebhookUrl"},
		{"", verify.EventAll, "WebhookUrl"},
		{"https://example.com/hooks", "challenge.created", "EventTypes"},
	} {
		var ve *verify.ValidationError
		if _, err := srv.WebhookURL(bad.url, bad.event); !errors.As(err, &ve) || ve.Field != bad.field {
			t.Errorf("WebhookURL(%q, %q): %v, want a *verify.ValidationError for %s", bad.url, bad.event, err, bad.field)
		}
	}
	n := 0
	for _, err := range c.Webhooks.List(ctx, svc, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d webhooks listed, want the 3 registered", n)
	}
}
