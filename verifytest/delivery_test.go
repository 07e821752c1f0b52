package verifytest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

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
	hook, err := c.Webhooks.Create(ctx, svc, &verify.CreateWebhookParams{FriendlyName: "all", WebhookURL: rc.hookURL,
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
	if _, err := c.Factors.Verify(ctx, svc, identity, laptop.SID, &verify.VerifyFactorParams{AuthPayload: verify.NewSecret(app.Code())}); err != nil {
		t.Fatal(err)
	}
	// A push factor, enrolled by the phone with an access token.
	tok, err := c.AccessTokens.Create(ctx, svc, identity, &verify.CreateAccessTokenParams{FactorFriendlyName: "Ada's phone"})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := srv.NewDevice(svc, identity)
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.Enroll(ctx, tok.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	// Push: approved, then denied, by the phone.
	details := &verify.Details{Message: "Log in to Owl Bank?", Fields: []verify.Field{{Label: "IP", Value: "203.0.113.7"}}}
	pushApproved, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: phone.FactorSID,
		Details: details, HiddenDetails: verify.NewSecretMap(map[string]string{"ip": "203.0.113.7"})})
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
	totpOnCreate, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: laptop.SID, AuthPayload: verify.NewSecret(app.Code())})
	if err != nil || !totpOnCreate.Status.IsApproved() {
		t.Fatalf("TOTP on Create: %v %v", totpOnCreate, err)
	}
	totpOnUpdate, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: laptop.SID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Challenges.Update(ctx, svc, identity, totpOnUpdate.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(wrongCode(app.Code()))}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Challenges.Update(ctx, svc, identity, totpOnUpdate.SID, &verify.UpdateChallengeParams{
		AuthPayload: verify.NewSecret(app.Code()), Metadata: map[string]string{"via": "update"}}); err != nil || !got.Status.IsApproved() {
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
		!maps.Equal(approved.ChallengeHiddenDetails.Reveal(), map[string]string{"ip": "203.0.113.7"}) ||
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
	rc.front = func(int, http.ResponseWriter, *http.Request) int { return http.StatusNoContent } // record only
	create := func(service, path string, status verify.WebhookStatus, events ...verify.EventType) string {
		t.Helper()
		w, err := c.Webhooks.Create(ctx, service, &verify.CreateWebhookParams{FriendlyName: path[1:], WebhookURL: rc.URL + path,
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

// TestDeliveryPayloadIsExact reads the raw requests: POST, a form body that
// is url.Values.Encode() of exactly the documented fields, signed with
// verifytest.SignWebhook over the URL as registered, query included.
func TestDeliveryPayloadIsExact(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return start })})
	svc := srv.ServiceSID()
	rc := newReceiver(t, srv, hookPath)
	if _, err := srv.WebhookURL(rc.hookURL); err != nil {
		t.Fatal(err)
	}
	f, err := srv.NewTOTPFactor(svc, identity, nil) // factor.created, factor.verified
	if err != nil {
		t.Fatal(err)
	}
	totpCh, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(f.Code())})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := srv.NewPushDevice(svc, identity) // factor.created, factor.verified
	if err != nil {
		t.Fatal(err)
	}
	pushCh, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: phone.FactorSID,
		Details: &verify.Details{Message: "Log in to Owl Bank?", Fields: []verify.Field{
			{Label: "IP", Value: "203.0.113.7"}, {Label: "Where", Value: "Paris & <Lyon>"}}},
		HiddenDetails: verify.NewSecretMap(map[string]string{"ip": "203.0.113.7"})})
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(time.Minute)
	if _, err := phone.Approve(ctx, pushCh.SID); err != nil {
		t.Fatal(err)
	}
	settle(t, srv)

	requests, events := rc.got()
	if len(requests) != 6 || len(events) != 6 {
		t.Fatalf("%d requests, %d verified events, want 6: %v", len(requests), len(events), types(requests))
	}
	always := []string{"uuid", "type", "account_sid", "service_sid", "entity_identity", "factor_sid",
		"factor_type", "factor_friendly_name", "date_created"}
	uuidShape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	check := func(i int, typ verify.EventType, want map[string]string) {
		t.Helper()
		r := requests[i]
		if r.method != http.MethodPost || r.contentType != "application/x-www-form-urlencoded" || r.path != hookPath {
			t.Errorf("request %d: %s %s %q", i, r.method, r.path, r.contentType)
		}
		if string(r.body) != r.form.Encode() {
			t.Errorf("request %d: body %q is not url.Values.Encode() of its fields", i, r.body)
		}
		if sig := verifytest.SignWebhook(srv.AuthToken(), rc.hookURL, r.form); r.signature != sig {
			t.Errorf("request %d: X-Twilio-Signature %q, want %q (over the URL as registered)", i, r.signature, sig)
		}
		if !uuidShape.MatchString(r.form.Get("uuid")) {
			t.Errorf("request %d: uuid %q is not a UUID", i, r.form.Get("uuid"))
		}
		want["type"] = string(typ)
		want["account_sid"], want["service_sid"], want["entity_identity"] = srv.AccountSID(), svc, identity
		keys := slices.Sorted(maps.Keys(r.form))
		wantKeys := slices.Sorted(maps.Keys(want))
		wantKeys = slices.Compact(slices.Sorted(slices.Values(append(wantKeys, always...))))
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("request %d (%s): fields %v, want %v", i, typ, keys, wantKeys)
		}
		for k, v := range want {
			if got := r.form[k]; len(got) != 1 || got[0] != v {
				t.Errorf("request %d (%s): %s = %q, want %q", i, typ, k, got, v)
			}
		}
	}
	at := start.Format(time.RFC3339)
	totpFields := func() map[string]string {
		return map[string]string{"factor_sid": f.SID, "factor_type": "totp", "factor_friendly_name": "verifytest", "date_created": at}
	}
	pushFields := func() map[string]string {
		return map[string]string{"factor_sid": phone.FactorSID, "factor_type": "push", "factor_friendly_name": "verifytest device", "date_created": at}
	}
	check(0, verify.EventFactorCreated, totpFields())
	check(1, verify.EventFactorVerified, totpFields())
	approvedTOTP := totpFields()
	approvedTOTP["challenge_sid"], approvedTOTP["challenge_status"] = totpCh.SID, "approved"
	approvedTOTP["challenge_details"] = `{"message":"","date":"` + at + `","fields":[]}`
	check(2, verify.EventChallengeApproved, approvedTOTP)
	check(3, verify.EventFactorCreated, pushFields())
	check(4, verify.EventFactorVerified, pushFields())
	approvedPush := pushFields()
	approvedPush["date_created"] = start.Add(time.Minute).Format(time.RFC3339)
	approvedPush["challenge_sid"], approvedPush["challenge_status"] = pushCh.SID, "approved"
	approvedPush["challenge_details"] = `{"message":"Log in to Owl Bank?","date":"` + at +
		`","fields":[{"label":"IP","value":"203.0.113.7"},{"label":"Where","value":"Paris & <Lyon>"}]}`
	approvedPush["challenge_hidden_details"] = `{"ip":"203.0.113.7"}`
	approvedPush["challenge_metadata"] = `{"device":"simulated","os":"verifytest"}`
	check(5, verify.EventChallengeApproved, approvedPush)
	if got := events[5].ChallengeDetails.Fields[1].Value; got != "Paris & <Lyon>" {
		t.Errorf("handler decoded the second field as %q", got)
	}
	for i, d := range srv.Deliveries() {
		if !d.Time.Equal(start) && !d.Time.Equal(start.Add(time.Minute)) {
			t.Errorf("delivery %d: Time %v, want the server's clock", i, d.Time)
		}
	}
}

// TestJSONDeliveries: with WithJSONDeliveries the body is one JSON object
// (the JSON fields nested), POSTed to the registered URL with bodySHA256
// added, signed by verifytest.SignWebhookJSON; NewWebhookHandler verifies it.
func TestJSONDeliveries(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, []verifytest.Option{verifytest.WithJSONDeliveries()})
	svc := srv.ServiceSID()
	rc := newReceiver(t, srv, hookPath)
	sid, err := srv.WebhookURL(rc.hookURL, verify.EventChallengeApproved)
	if err != nil {
		t.Fatal(err)
	}
	phone, err := srv.NewPushDevice(svc, identity)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Challenges.Create(ctx, svc, identity, &verify.CreateChallengeParams{FactorSID: phone.FactorSID,
		Details:       &verify.Details{Message: "Log in?", Fields: []verify.Field{{Label: "IP", Value: "203.0.113.7"}}},
		HiddenDetails: verify.NewSecretMap(map[string]string{"ip": "203.0.113.7"})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Approve(ctx, ch.SID); err != nil {
		t.Fatal(err)
	}
	settle(t, srv)

	requests, events := rc.got()
	if len(requests) != 1 || len(events) != 1 {
		t.Fatalf("%d requests, %d verified events, want 1 of each", len(requests), len(events))
	}
	r := requests[0]
	wantURL, wantSig := verifytest.SignWebhookJSON(srv.AuthToken(), rc.hookURL, r.body)
	if r.contentType != "application/json" || rc.URL+r.path != wantURL || r.signature != wantSig {
		t.Errorf("request %s %q signed %q, want %s signed %q", r.path, r.contentType, r.signature, wantURL, wantSig)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body is not a JSON object: %s", r.body)
	}
	details, _ := body["challenge_details"].(map[string]any)
	hidden, _ := body["challenge_hidden_details"].(map[string]any)
	if body["type"] != "challenge.approved" || body["challenge_sid"] != ch.SID || details["message"] != "Log in?" || hidden["ip"] != "203.0.113.7" {
		t.Errorf("JSON body %s", r.body)
	}
	ev := events[0]
	if ev.ChallengeSID != ch.SID || ev.ChallengeDetails.Message != "Log in?" || len(ev.ChallengeDetails.Fields) != 1 ||
		ev.ChallengeHiddenDetails.Reveal()["ip"] != "203.0.113.7" || ev.ChallengeMetadata["os"] != "verifytest" {
		t.Errorf("handler's event %+v", ev)
	}
	if d := srv.Deliveries(); len(d) != 1 || d[0].URL != wantURL || d[0].WebhookSID != sid || d[0].StatusCode != http.StatusNoContent {
		t.Errorf("deliveries %+v", d)
	}
}

// TestWithDeliveryLogger: each attempt is one info line that says whether
// the receiver took the event, refused it (4xx, final) or failed (retried),
// with the webhook, URL, event and status; never the signature or token.
func TestWithDeliveryLogger(t *testing.T) {
	// The handler serializes the delivery goroutines' writes, and
	// WaitForDeliveries returns after the last of them: a plain builder.
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	srv := verifytest.NewServer(verifytest.WithDeliveryLogger(logger),
		verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{Attempts: 2, Backoff: time.Millisecond}))
	defer srv.Close()
	rc := newReceiver(t, srv, "/hooks/verify")
	rc.front = func(n int, w http.ResponseWriter, r *http.Request) int {
		return map[int]int{1: http.StatusInternalServerError, 3: http.StatusForbidden}[n] // 2: the handler's 204
	}
	hook, err := srv.WebhookURL(rc.hookURL)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := srv.NewPushDevice(srv.ServiceSID(), "user-0001-logs") // factor.created, then factor.verified
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitForDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	d := srv.Deliveries()
	if len(d) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(d), d)
	}
	line := func(msg string, rec verifytest.Delivery, outcome string) string {
		return fmt.Sprintf("level=INFO msg=%q webhook=%s url=%s type=%s uuid=%s factor_sid=%s attempt=%d %s\n",
			msg, hook, rc.hookURL, rec.Type, rec.EventUUID, dev.FactorSID, rec.Attempt, outcome)
	}
	want := line("webhook delivery failed", d[0], "status=500") + line("webhook delivered", d[1], "status=204") +
		line("webhook refused", d[2], "status=403")
	if got := logs.String(); got != want {
		t.Errorf("delivery log:\n%s\nwant\n%s", got, want)
	}
	requests, _ := rc.got()
	for _, secret := range []string{srv.AuthToken(), requests[0].signature} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}
