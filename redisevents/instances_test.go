package redisevents

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// How many push logins the multi-instance tests run at once, and how late
// a Wait may return after its phone's answer.
const (
	clusterLogins = 300
	maxLate       = 250 * time.Millisecond
)

// TestThreeInstancesShareEvents: three instances, each with its own
// Client, Bus (on its own go-redis client) and webhook handler, behind a
// round-robin balancer that verifytest delivers its webhooks to. 300 push
// logins at once, answered at random moments: every login ends with the
// answer given, every Wait returns within 250 ms of its answer whichever
// instance the webhook reached (none through the safety poll; timings
// are checked without the race detector), with 3 API
// calls per login; the callback runs once per uuid, also for the
// duplicates verifytest sends to the next instance.
func TestThreeInstancesShareEvents(t *testing.T) {
	f := newFixture(t)
	c := newCluster(t, 3, viaBus, f)
	phones := c.phones(clusterLogins)
	for range 5 {
		c.fake.DuplicateNextDelivery() // the next five events are sent twice
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logins := c.run(ctx, phones, 300*time.Millisecond, 3*time.Second, nil)
	late := checkAnswers(t, logins)
	for i, l := range logins {
		if l.lateBy() > maxLate && !raceEnabled {
			t.Errorf("login %d on instance %d: Wait returned %v after the answer, want at most %v", i, l.instance, l.lateBy(), maxLate)
		}
		if l.calls != 3 {
			t.Errorf("login %d: %d API calls, want 3 (Create, Wait's first Fetch, the one the event triggers)", i, l.calls)
		}
	}
	t.Logf("%d logins: Wait returned after the answer: p50 %v, p99 %v, max %v", len(late), percentile(late, 50), percentile(late, 99), percentile(late, 100))
	if err := c.fake.WaitForDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	var uuids []string
	dups := 0
	for _, d := range c.fake.Deliveries() {
		switch {
		case d.Duplicate:
			dups++
			if d.StatusCode != http.StatusOK {
				t.Errorf("duplicate delivery of %s answered %d, want 200", d.EventUUID, d.StatusCode)
			}
		case d.StatusCode != http.StatusNoContent:
			t.Errorf("delivery of %s answered %d (%v), want 204", d.EventUUID, d.StatusCode, d.Err)
		default:
			uuids = append(uuids, d.EventUUID)
		}
	}
	if len(uuids) != clusterLogins || dups != 5 {
		t.Errorf("%d deliveries handled and %d duplicates, want %d and 5", len(uuids), dups, clusterLogins)
	}
	c.wantOnceEach(t, uuids)
}

// TestDuplicateAtOnceOnTwoInstances: one delivery sent to two instances at
// the same moment, as Twilio's retry of a delivery that timed out may be:
// the callback runs once; one answers 204, the other waits for it and
// answers 200.
func TestDuplicateAtOnceOnTwoInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := newCluster(t, 3, viaBus, f)
	inCallback, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	c.gate = func(*verify.Event) {
		once.Do(func() { close(inCallback) })
		<-release
	}
	form := url.Values{
		"uuid": {"5e1c3f3a-0000-4000-8000-00000000d0d0"}, "type": {string(verify.EventChallengeApproved)},
		"account_sid": {c.fake.AccountSID()}, "service_sid": {c.fake.ServiceSID()}, "entity_identity": {"login-user-0001"},
		"factor_sid": {"YF" + strings.Repeat("1", 32)}, "factor_type": {"push"}, "challenge_sid": {newSID()},
		"challenge_status": {"approved"}, "date_created": {time.Now().UTC().Format(time.RFC3339)},
	}
	signature := verifytest.SignWebhook(c.fake.AuthToken(), c.proxy.URL+"/hooks/verify", form)
	post := func(in *instance) int {
		req, _ := http.NewRequest(http.MethodPost, in.srv.URL+"/hooks/verify", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(verify.SignatureHeader, signature)
		resp, err := in.srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	statuses := make(chan int, 2)
	go func() { statuses <- post(c.inst[0]) }()
	<-inCallback // instance 0 holds the uuid
	go func() { statuses <- post(c.inst[1]) }()
	// Instance 1's Claim finds the uuid held, and looks again every 5 to
	// 100 ms; give it time to be waiting before the first one ends.
	time.Sleep(200 * time.Millisecond)
	close(release)
	got := map[int]int{<-statuses: 1}
	got[<-statuses]++
	if got[http.StatusNoContent] != 1 || got[http.StatusOK] != 1 {
		t.Errorf("statuses %v, want one 204 and one 200", got)
	}
	c.wantOnceEach(t, []string{form.Get("uuid")})
}

// TestThreeInstancesThroughARedisRestart: the same logins with
// redis-server killed in the middle of the run and started again a second
// later, empty. Deliveries meanwhile are answered 5xx and retried by the
// fake, as Twilio does; Waits in flight hear nothing meanwhile and carry
// on; the subscriptions resume by themselves. No login is lost or ends
// other than as the phone said.
func TestThreeInstancesThroughARedisRestart(t *testing.T) {
	f := newFixture(t)
	c := newCluster(t, 3, viaBus, f, verifytest.WithDeliveryPolicy(verifytest.DeliveryPolicy{
		Attempts: 100, Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}))
	phones := c.phones(clusterLogins)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(1500 * time.Millisecond) // mid-run: about half the phones have answered
		f.srv.Kill()
		time.Sleep(time.Second)
		f.srv.Restart()
	}()
	logins := c.run(ctx, phones, 300*time.Millisecond, 3*time.Second, func() *verify.WaitOptions {
		return &verify.WaitOptions{Interval: 3 * time.Second} // a shorter safety poll, to keep the test short
	})
	<-restarted
	late := checkAnswers(t, logins)
	t.Logf("%d logins through a restart: Wait returned after the answer: p50 %v, p99 %v, max %v", len(late), percentile(late, 50), percentile(late, 99), percentile(late, 100))
	if err := c.fake.WaitForDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, d := range c.fake.Deliveries() {
		if d.StatusCode/100 == 2 {
			continue
		}
		failed++
		if d.StatusCode != http.StatusServiceUnavailable && d.StatusCode != http.StatusInternalServerError {
			t.Errorf("delivery of %s during the outage answered %d (%v), want 503 or 500", d.EventUUID, d.StatusCode, d.Err)
		}
	}
	t.Logf("%d delivery attempts failed during the outage, then were retried", failed)
	if failed == 0 {
		t.Error("no delivery failed: the outage missed the run")
	}
	for i, in := range c.inst {
		if n := subscribedCount(in.events.(*Bus)); n < 2 {
			t.Errorf("instance %d: subscription confirmed %d times, want again after the restart", i, n)
		}
	}
	c.mu.Lock()
	if c.overlap {
		t.Error("a callback ran twice at once for one uuid")
	}
	c.mu.Unlock()
}
