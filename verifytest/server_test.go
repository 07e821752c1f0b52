package verifytest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

var ctx = context.Background()

func TestTOTPApprovesRightCodeAndCountsWrongOnes(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	f, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, &verifytest.TOTPOptions{CodeLength: 8, TimeStep: 20 * time.Second, Algorithm: "sha256"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: verify.NewSecret(f.Code())})
	if err != nil || !ch.Status.IsApproved() || ch.FactorType != verify.FactorTypeTOTP || ch.DateResponded.IsZero() {
		t.Fatalf("right code on Create: %+v %v", ch, err)
	}
	if _, err := c.Challenges.Update(ctx, srv.ServiceSID(), identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(f.Code())}); !errors.Is(err, verify.ErrChallengeAlreadyResponded) {
		t.Errorf("update of an approved challenge: %v, want ErrChallengeAlreadyResponded", err)
	}

	ch, err = c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID})
	if err != nil || !ch.Status.IsPending() || !ch.DateResponded.IsZero() {
		t.Fatalf("create without code: %+v %v", ch, err)
	}
	wrong := wrongCode(f.Code())
	for i := 1; i <= 5; i++ {
		got, err := c.Challenges.Update(ctx, srv.ServiceSID(), identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(wrong)})
		if err != nil || !got.Status.IsPending() {
			t.Fatalf("wrong try %d: %v %v, want pending", i, got, err)
		}
	}
	_, err = c.Challenges.Update(ctx, srv.ServiceSID(), identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(wrong)})
	var apiErr *verify.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 60308 || apiErr.Status != 429 || !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("sixth wrong try: %v, want 60308/429", err)
	}
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestTOTPOptionLimits(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	for _, o := range []verifytest.TOTPOptions{{CodeLength: 2}, {CodeLength: 9}, {TimeStep: 19 * time.Second}, {TimeStep: 61 * time.Second}, {Skew: verify.Ptr(3)}, {Skew: verify.Ptr(-1)}, {Algorithm: "md5"}} {
		if _, err := srv.NewTOTPFactor(srv.ServiceSID(), identity, &o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := srv.NewTOTPFactor(srv.ServiceSID(), "bad/identity", nil); err == nil {
		t.Errorf("bad identity accepted")
	}
	if _, err := srv.NewTOTPFactor("VA00000000000000000000000000000000", identity, nil); err == nil {
		t.Errorf("unknown service accepted")
	}
}

func TestPushDeviceApprovesWhileWaitPolls(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	dev, err := srv.NewPushDevice(srv.ServiceSID(), identity)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{
		FactorSID:     dev.FactorSID,
		Details:       &verify.Details{Message: "Log in to Example?", Fields: []verify.Field{{Label: "IP", Value: "203.0.113.7"}, {Label: "City", Value: "Lyon"}}},
		HiddenDetails: verify.NewSecretMap(map[string]string{"session": "s-1"}),
	})
	if err != nil || !ch.Status.IsPending() || ch.Details.Message != "Log in to Example?" || len(ch.Details.Fields) != 2 || ch.HiddenDetails.Reveal()["session"] != "s-1" {
		t.Fatalf("create push: %+v %v", ch, err)
	}
	if got := ch.ExpirationDate.Sub(ch.DateCreated); got != 5*time.Minute {
		t.Errorf("default expiry %v, want 5m", got)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(30 * time.Millisecond)
		if _, err := dev.Approve(ctx, ch.SID); err != nil {
			t.Errorf("Approve: %v", err)
		}
	}()
	got, err := c.Challenges.Wait(ctx, srv.ServiceSID(), identity, ch.SID, &verify.WaitOptions{Interval: 10 * time.Millisecond})
	wg.Wait()
	if err != nil || !got.Status.IsApproved() || got.Metadata["os"] != "verifytest" {
		t.Fatalf("Wait: %+v %v", got, err)
	}

	ch2, _ := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: dev.FactorSID, Details: &verify.Details{Message: "again?"}})
	denied, err := dev.Deny(ctx, ch2.SID)
	if err != nil || !denied.Status.IsDenied() {
		t.Fatalf("Deny: %+v %v", denied, err)
	}
}

func TestPushRejectsTamperedOrForeignPayloads(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	dev, _ := srv.NewPushDevice(srv.ServiceSID(), identity)
	other, _ := srv.NewPushDevice(srv.ServiceSID(), "other-user-0002")
	ch, _ := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: dev.FactorSID, Details: &verify.Details{Message: "ok?"}})

	good, err := dev.SignedPayload(ctx, ch.SID, verify.StatusApproved)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	ch3, _ := c.Challenges.Create(ctx, srv.ServiceSID(), "other-user-0002", &verify.CreateChallengeParams{FactorSID: other.FactorSID, Details: &verify.Details{Message: "ok?"}})
	foreign, _ := other.SignedPayload(ctx, ch3.SID, verify.StatusApproved) // signed by another key, over another challenge
	for name, payload := range map[string]string{"tampered": tampered, "foreign": foreign, "garbage": "not-a-jwt"} {
		_, err := c.Challenges.Update(ctx, srv.ServiceSID(), identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(payload)})
		var apiErr *verify.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 60324 || apiErr.Status != 403 || !errors.Is(err, verify.ErrVerificationFailed) {
			t.Errorf("%s payload: %v, want 60324", name, err)
		}
	}
	if got, err := c.Challenges.Update(ctx, srv.ServiceSID(), identity, ch.SID, &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(good)}); err != nil || !got.Status.IsApproved() {
		t.Errorf("good payload after failures: %v %v", got, err)
	}
}

func TestClockExpiresChallenges(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	dev, _ := srv.NewPushDevice(srv.ServiceSID(), identity)
	ch, _ := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: dev.FactorSID, Details: &verify.Details{Message: "ok?"}})
	srv.Advance(5*time.Minute + time.Second)
	got, err := c.Challenges.Fetch(ctx, srv.ServiceSID(), identity, ch.SID)
	if err != nil || !got.Status.IsExpired() {
		t.Fatalf("after expiry: %v %v", got, err)
	}
	if _, err := dev.Approve(ctx, ch.SID); !errors.Is(err, verify.ErrChallengeExpired) {
		t.Errorf("approving an expired challenge: %v", err)
	}
	if _, err := c.Challenges.Notify(ctx, srv.ServiceSID(), identity, ch.SID, nil); !errors.Is(err, verify.ErrChallengeExpired) {
		t.Errorf("notifying an expired challenge: %v", err)
	}
}

func TestExpirationDateLimitUsesServerClock(t *testing.T) {
	t.Parallel()
	behind := func() time.Time { return time.Now().Add(-30 * time.Minute) }
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(behind)})
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	_, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID, ExpirationDate: time.Now().Add(50 * time.Minute)})
	var apiErr *verify.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 60306 || apiErr.Status != 400 {
		t.Fatalf("80 minutes ahead on the server's clock: %v, want 60306", err)
	}
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID, ExpirationDate: exp})
	if err != nil || !ch.ExpirationDate.Equal(exp) {
		t.Fatalf("explicit expiry: %v %v", ch, err)
	}
}

func TestNotFoundUnverifiedAndAuth(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), identity, &verifytest.TOTPOptions{Unverified: true})
	_, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID})
	if !errors.Is(err, verify.ErrFactorNotVerified) {
		t.Errorf("unverified factor: %v", err)
	}
	_, err = c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: "YF00000000000000000000000000000000"})
	if !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("unknown factor: %v", err)
	}
	_, err = c.Challenges.Fetch(ctx, srv.ServiceSID(), identity, "YC00000000000000000000000000000000")
	if !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("unknown challenge: %v", err)
	}
	_, err = c.Challenges.Fetch(ctx, srv.ServiceSID(), "nobody-here", "YC00000000000000000000000000000000")
	if !errors.Is(err, verify.ErrNotFound) {
		t.Errorf("unknown entity: %v", err)
	}

	bad := srv.Client(verify.WithCredentials(srv.AccountSID(), "wrong-token"))
	defer bad.CloseIdleConnections()
	_, err = bad.Challenges.Fetch(ctx, srv.ServiceSID(), identity, "YC00000000000000000000000000000000")
	var apiErr *verify.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || !errors.Is(err, verify.ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "wrong-token") {
		t.Errorf("error shows the token")
	}
}

func TestListPagesFiltersAndOrder(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	f2, _ := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	var sids []string
	for i := 0; i < 7; i++ {
		p := &verify.CreateChallengeParams{FactorSID: f.SID}
		if i%2 == 0 {
			p.AuthPayload = verify.NewSecret(f.Code())
		}
		ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, p)
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, ch.SID)
	}
	if _, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f2.SID}); err != nil {
		t.Fatal(err)
	}

	page, err := c.Challenges.ListPage(ctx, srv.ServiceSID(), identity, &verify.ListChallengesParams{FactorSID: f.SID, ListParams: verify.ListParams{PageSize: 3}})
	if err != nil || len(page.Items) != 3 || !page.HasNext() {
		t.Fatalf("first page: %v %v", page, err)
	}
	u, _ := url.Parse(page.Meta.NextPageURL)
	if !strings.HasPrefix(page.Meta.NextPageURL, srv.URL+"/v2/") || u.Query().Get("FactorSid") != f.SID {
		t.Errorf("next_page_url %s is not absolute on the server with the filter", page.Meta.NextPageURL)
	}

	var got []string
	for ch, err := range c.Challenges.List(ctx, srv.ServiceSID(), identity, &verify.ListChallengesParams{FactorSID: f.SID, ListParams: verify.ListParams{PageSize: 3}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch.SID)
	}
	if strings.Join(got, ",") != strings.Join(sids, ",") {
		t.Errorf("asc order:\n got %v\nwant %v", got, sids)
	}
	var desc []string
	for ch, err := range c.Challenges.List(ctx, srv.ServiceSID(), identity, &verify.ListChallengesParams{FactorSID: f.SID, Order: verify.OrderDesc, ListParams: verify.ListParams{PageSize: 2, Limit: 3}}) {
		if err != nil {
			t.Fatal(err)
		}
		desc = append(desc, ch.SID)
	}
	if want := []string{sids[6], sids[5], sids[4]}; strings.Join(desc, ",") != strings.Join(want, ",") {
		t.Errorf("desc with limit: %v, want %v", desc, want)
	}
	approved := 0
	for ch, err := range c.Challenges.List(ctx, srv.ServiceSID(), identity, &verify.ListChallengesParams{Status: verify.StatusApproved}) {
		if err != nil || !ch.Status.IsApproved() {
			t.Fatalf("status filter: %v %v", ch, err)
		}
		approved++
	}
	if approved != 4 {
		t.Errorf("approved = %d, want 4", approved)
	}
}

func TestNotifyLimitAndTTL(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	dev, _ := srv.NewPushDevice(srv.ServiceSID(), identity)
	ch, _ := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: dev.FactorSID, Details: &verify.Details{Message: "ok?"}})
	for i, ttl := range []*time.Duration{nil, verify.Ptr(time.Duration(0)), verify.Ptr(150 * time.Second)} {
		n, err := c.Challenges.Notify(ctx, srv.ServiceSID(), identity, ch.SID, &verify.NotifyParams{TTL: ttl})
		want := 5 * time.Minute
		if ttl != nil {
			want = *ttl
		}
		if err != nil || n.TTL != want || n.ChallengeSID != ch.SID || n.Priority != "high" {
			t.Fatalf("notify %d: %+v %v", i, n, err)
		}
	}
	_, err := c.Challenges.Notify(ctx, srv.ServiceSID(), identity, ch.SID, nil)
	var apiErr *verify.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 60309 || apiErr.Status != 429 {
		t.Fatalf("fourth notify: %v, want 60309", err)
	}
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	totp, _ := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID})
	if _, err := c.Challenges.Notify(ctx, srv.ServiceSID(), identity, totp.SID, nil); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("notify on TOTP: %v", err)
	}
}

func TestServerValidatesWhatClientsCouldSendWrong(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, nil)
	dev, _ := srv.NewPushDevice(srv.ServiceSID(), identity)
	path := srv.URL + "/v2/Services/" + srv.ServiceSID() + "/Entities/" + identity + "/Challenges"
	for name, form := range map[string]url.Values{
		"no FactorSid":           {},
		"hidden details as text": {"FactorSid": {dev.FactorSID}, "Details.Message": {"m"}, "HiddenDetails": {"ip=1"}},
		"field not an object":    {"FactorSid": {dev.FactorSID}, "Details.Message": {"m"}, "Details.Fields": {`"x"`}},
		"push without message":   {"FactorSid": {dev.FactorSID}},
		"bad date":               {"FactorSid": {dev.FactorSID}, "Details.Message": {"m"}, "ExpirationDate": {"tomorrow"}},
		"21 fields":              {"FactorSid": {dev.FactorSID}, "Details.Message": {"m"}, "Details.Fields": repeat(`{"label":"a","value":"b"}`, 21)},
	} {
		req, _ := http.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(srv.AccountSID(), srv.AuthToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: HTTP %d, want 400", name, resp.StatusCode)
		}
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	count := func() int {
		n := 0
		for _, err := range c.Challenges.List(ctx, srv.ServiceSID(), identity, nil) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	create := func() error {
		_, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID})
		return err
	}

	srv.FailNext(1, 503, 0)
	if err := create(); !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Errorf("503 on Create: %v, want an APIError marked outcome unknown", err)
	}
	if n := count(); n != 0 {
		t.Errorf("failed Create applied: %d challenges", n)
	}

	srv.FailNext(2, 429, time.Second)
	if err := create(); err != nil {
		t.Errorf("Create after two 429s: %v", err)
	}
	if n := count(); n != 1 {
		t.Errorf("after 429 retries: %d challenges, want exactly 1", n)
	}

	srv.DropNext(1)
	if err := create(); err == nil || !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Errorf("dropped Create: %v, want ErrOutcomeUnknown", err)
	}
	if n := count(); n != 1 {
		t.Errorf("dropped Create applied: %d challenges, want 1", n)
	}

	srv.LoseNextResponse(1)
	if err := create(); !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Errorf("lost response: %v, want ErrOutcomeUnknown", err)
	}
	if n := count(); n != 2 {
		t.Errorf("lost-response Create: %d challenges, want 2 (applied once, not retried)", n)
	}

	srv.FailNext(2, 503, 0)
	if n := count(); n != 2 {
		t.Errorf("List through two 503s: %d", n)
	}
}

func TestLatencyTripsPerAttemptTimeout(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil, verify.WithTimeout(30*time.Millisecond), verify.WithMaxRetries(1))
	srv.SetLatency(200 * time.Millisecond)
	_, err := c.Challenges.Fetch(ctx, srv.ServiceSID(), identity, "YC00000000000000000000000000000000")
	var apiErr *verify.APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	srv.SetLatency(0)
}

func TestConcurrentCreatesAreAllKept(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, nil)
	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), identity, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := c.Challenges.Create(ctx, srv.ServiceSID(), identity, &verify.CreateChallengeParams{FactorSID: f.SID})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[ch.SID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	n := 0
	for ch, err := range c.Challenges.List(ctx, srv.ServiceSID(), identity, &verify.ListChallengesParams{ListParams: verify.ListParams{PageSize: 7}}) {
		if err != nil || !seen[ch.SID] {
			t.Fatalf("%v %v", ch, err)
		}
		n++
	}
	if n != 20 || len(seen) != 20 {
		t.Errorf("listed %d of %d", n, len(seen))
	}
}
