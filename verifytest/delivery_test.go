package verifytest_test

import (
	"maps"
	"net/http"
	"slices"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// hookPath is a registered webhook path with a query string, which the
// fake must sign as part of the URL.
const hookPath = "/hooks/verify?tenant=owl%20bank&v=2"

// TestDeliversEveryEventType drives every moment that raises an event
// through the API and the simulated phone, and checks that a real
// verify.NewWebhookHandler, configured with the fake's auth token and the
// URL as registered (query included), verified and typed each event, in
// order, one request at a time.
func TestDeliversEveryEventType(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	rc := newReceiver(t, srv, hookPath)
	hook, err := c.Webhooks.Create(ctx, svc, &verify.CreateWebhookParams{FriendlyName: "all", URL: rc.hookURL,
		EventTypes: []verify.EventType{verify.EventAll}})
	if err != nil {
		t.Fatal(err)
	}

	// A TOTP factor, created and verified through the API.
	laptop, err := c.Factors.CreateTOTP(ctx, svc, identity, &verify.CreateTOTPFactorParams{FriendlyName: "Ada's laptop"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := srv.TOTPFactor(svc, identity, laptop.SID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Factors.Verify(ctx, svc, identity, laptop.SID, app.Code()); err != nil {
		t.Fatal(err)
	}
	// A push factor, enrolled by the phone with an access token.
	tok, err := c.AccessTokens.Create(ctx, svc, &verify.CreateAccessTokenParams{Identity: identity, FactorFriendlyName: "Ada's phone"})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := srv.NewDevice(svc, identity)
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.Enroll(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	// Push: approved, then denied, by the phone.
	details := &verify.Details{Message: "Log in to Owl Bank?", Fields: []verify.Field{{Label: "IP", Value: "203.0.113.7"}}}
	pushApproved, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: phone.FactorSID,
		Details: details, HiddenDetails: map[string]string{"ip": "203.0.113.7"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Approve(ctx, pushApproved.SID); err != nil {
		t.Fatal(err)
	}
	pushDenied, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: phone.FactorSID, Details: details})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Deny(ctx, pushDenied.SID); err != nil {
		t.Fatal(err)
	}
	// TOTP: approved on Create, then on Update after a wrong code, which
	// raises nothing.
	totpOnCreate, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: laptop.SID, AuthPayload: app.Code()})
	if err != nil || !totpOnCreate.Status.IsApproved() {
		t.Fatalf("TOTP on Create: %v %v", totpOnCreate, err)
	}
	totpOnUpdate, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: laptop.SID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Challenges.Update(ctx, svc, identity, totpOnUpdate.SID, &verify.UpdateChallengeParams{AuthPayload: wrongCode(app.Code())}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Challenges.Update(ctx, svc, identity, totpOnUpdate.SID, &verify.UpdateChallengeParams{
		AuthPayload: app.Code(), Metadata: map[string]string{"via": "update"}}); err != nil || !got.Status.IsApproved() {
		t.Fatalf("TOTP on Update: %v %v", got, err)
	}
	// The TOTP factor deleted directly, then the entity with the push factor.
	if err := c.Factors.Delete(ctx, svc, identity, laptop.SID); err != nil {
		t.Fatal(err)
	}
	if err := c.Entities.Delete(ctx, svc, identity); err != nil {
		t.Fatal(err)
	}
	settle(t, srv)

	type want struct {
		typ       verify.EventType
		factor    string
		kind      verify.FactorType
		name      string
		challenge string
		status    verify.ChallengeStatus
	}
	totp, push := verify.FactorTypeTOTP, verify.FactorTypePush
	wants := []want{
		{verify.EventFactorCreated, laptop.SID, totp, "Ada's laptop", "", ""},
		{verify.EventFactorVerified, laptop.SID, totp, "Ada's laptop", "", ""},
		{verify.EventFactorCreated, phone.FactorSID, push, "Ada's phone", "", ""},
		{verify.EventFactorVerified, phone.FactorSID, push, "Ada's phone", "", ""},
		{verify.EventChallengeApproved, phone.FactorSID, push, "Ada's phone", pushApproved.SID, verify.StatusApproved},
		{verify.EventChallengeDenied, phone.FactorSID, push, "Ada's phone", pushDenied.SID, verify.StatusDenied},
		{verify.EventChallengeApproved, laptop.SID, totp, "Ada's laptop", totpOnCreate.SID, verify.StatusApproved},
		{verify.EventChallengeApproved, laptop.SID, totp, "Ada's laptop", totpOnUpdate.SID, verify.StatusApproved},
		{verify.EventFactorDeleted, laptop.SID, totp, "Ada's laptop", "", ""},
		{verify.EventFactorDeleted, phone.FactorSID, push, "Ada's phone", "", ""},
	}
	requests, events := rc.got()
	if len(events) != len(wants) || len(requests) != len(wants) {
		t.Fatalf("handler verified %d events from %d requests, want %d: %v", len(events), len(requests), len(wants), types(requests))
	}
	deliveries := srv.Deliveries()
	if len(deliveries) != len(wants) {
		t.Fatalf("%d deliveries, want %d: %+v", len(deliveries), len(wants), deliveries)
	}
	uuids := map[string]bool{}
	for i, w := range wants {
		ev, d := events[i], deliveries[i]
		if ev.Type != w.typ || ev.FactorSID != w.factor || ev.FactorType != w.kind || ev.FactorFriendlyName != w.name ||
			ev.ChallengeSID != w.challenge || ev.ChallengeStatus != w.status ||
			ev.AccountSID != srv.AccountSID() || ev.ServiceSID != svc || ev.EntityIdentity != identity {
			t.Errorf("event %d: %+v, want %+v", i, ev, w)
		}
		if uuids[ev.UUID] || len(ev.UUID) != 36 {
			t.Errorf("event %d: uuid %q repeated or malformed", i, ev.UUID)
		}
		uuids[ev.UUID] = true
		if d.EventUUID != ev.UUID || d.Type != w.typ || d.ChallengeSID != w.challenge || d.FactorSID != w.factor ||
			d.WebhookSID != hook.SID || d.URL != rc.hookURL || d.Attempt != 1 || d.Duplicate || d.StatusCode != http.StatusNoContent || d.Err != nil {
			t.Errorf("delivery %d: %+v, want the event as sent, answered 204 on the first try", i, d)
		}
	}
	approved := events[4]
	if approved.ChallengeDetails.Message != details.Message || !slices.Equal(approved.ChallengeDetails.Fields, details.Fields) ||
		!approved.ChallengeDetails.Date.Equal(pushApproved.Details.Date) ||
		!maps.Equal(approved.ChallengeHiddenDetails, verify.StringMap{"ip": "203.0.113.7"}) ||
		approved.ChallengeMetadata["device"] != "simulated" {
		t.Errorf("push approval's challenge fields: %+v", approved)
	}
	if got := events[7].ChallengeMetadata; !maps.Equal(got, verify.StringMap{"via": "update"}) {
		t.Errorf("TOTP Update's metadata: %v", got)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.maxPar != 1 {
		t.Errorf("the receiver handled %d requests at once; one webhook's deliveries go one at a time", rc.maxPar)
	}
}

// TestDeliveryFollowsSubscriptions: each webhook gets only the types it
// subscribed to, "*" gets all; a webhook disabled at creation or later, a
// deleted one, and one on another service get nothing.
func TestDeliveryFollowsSubscriptions(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	svc := srv.ServiceSID()
	rc := newReceiver(t, srv, "")
	rc.front = func(int, *http.Request) int { return http.StatusNoContent } // record only
	create := func(service, path string, status verify.WebhookStatus, events ...verify.EventType) string {
		t.Helper()
		w, err := c.Webhooks.Create(ctx, service, &verify.CreateWebhookParams{FriendlyName: path[1:], URL: rc.URL + path,
			EventTypes: events, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		return w.SID
	}
	create(svc, "/approved", "", verify.EventChallengeApproved)
	create(svc, "/factors", "", verify.EventFactorCreated, verify.EventFactorDeleted)
	create(svc, "/all", verify.WebhookStatusEnabled, verify.EventAll)
	create(svc, "/disabled", verify.WebhookStatusDisabled, verify.EventAll)
	off := create(svc, "/turned-off", "", verify.EventAll)
	gone := create(svc, "/deleted", "", verify.EventAll)
	create(srv.NewService(), "/other-service", "", verify.EventAll)
	if _, err := c.Webhooks.Update(ctx, svc, off, &verify.UpdateWebhookParams{Status: verify.WebhookStatusDisabled}); err != nil {
		t.Fatal(err)
	}
	if err := c.Webhooks.Delete(ctx, svc, gone); err != nil {
		t.Fatal(err)
	}

	phone, err := srv.NewPushDevice(svc, identity) // factor.created, factor.verified
	if err != nil {
		t.Fatal(err)
	}
	for _, answer := range []func(*verifytest.Device, string) error{
		func(d *verifytest.Device, sid string) error { _, err := d.Deny(ctx, sid); return err },
		func(d *verifytest.Device, sid string) error { _, err := d.Approve(ctx, sid); return err },
	} {
		ch, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: phone.FactorSID,
			Details: &verify.Details{Message: "Log in?"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := answer(phone, ch.SID); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Factors.Delete(ctx, svc, identity, phone.FactorSID); err != nil {
		t.Fatal(err)
	}
	settle(t, srv)

	requests, _ := rc.got()
	byPath := map[string][]verify.EventType{}
	for _, r := range requests {
		byPath[r.path] = append(byPath[r.path], verify.EventType(r.form.Get("type")))
	}
	want := map[string][]verify.EventType{
		"/approved": {verify.EventChallengeApproved},
		"/factors":  {verify.EventFactorCreated, verify.EventFactorDeleted},
		"/all": {verify.EventFactorCreated, verify.EventFactorVerified, verify.EventChallengeDenied,
			verify.EventChallengeApproved, verify.EventFactorDeleted},
	}
	if !maps.EqualFunc(byPath, want, slices.Equal) {
		t.Errorf("events by webhook path:\n got %v\nwant %v", byPath, want)
	}
	if n := len(srv.Deliveries()); n != 8 {
		t.Errorf("%d deliveries listed, want 8", n)
	}
}
