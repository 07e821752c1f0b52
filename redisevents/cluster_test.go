package redisevents

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// A cluster is a login service of several instances behind a round-robin
// load balancer, against verifytest's fake, which delivers its webhooks
// to the balancer: each instance has its own verify.Client, its own
// webhook handler and its own source of events, as separate processes
// would.
type cluster struct {
	tb    testing.TB
	fake  *verifytest.Server
	inst  []*instance
	proxy *httptest.Server
	turn  atomic.Uint64
	gate  func(*verify.Event) // if set, every callback calls it first

	mu      sync.Mutex
	runs    map[string]int // callback runs per uuid, every instance
	active  map[string]int // callbacks running per uuid
	overlap bool           // two ran at once for one uuid
}

// instance is one process of the service.
type instance struct {
	client  *verify.Client
	calls   *callCounter
	events  verify.EventSource // nil: Wait polls
	handler http.Handler
	srv     *httptest.Server
}

// What an instance uses to hear of answers.
const (
	viaPolling = "polling" // no webhook: Wait polls every second
	viaHub     = "hub"     // an EventHub of its own, in-memory de-duplication
	viaBus     = "bus"     // a Bus of its own on a shared Redis, its Dedup too
)

// newCluster starts n instances hearing of answers through via; f is the
// Redis fixture for viaBus. The fake gets opts.
func newCluster(tb testing.TB, n int, via string, f *fixture, opts ...verifytest.Option) *cluster {
	tb.Helper()
	fake := verifytest.NewServer(opts...)
	tb.Cleanup(fake.Close)
	c := &cluster{tb: tb, fake: fake, runs: map[string]int{}, active: map[string]int{}}
	c.proxy = httptest.NewServer(http.HandlerFunc(c.balance))
	tb.Cleanup(c.proxy.Close)
	public := c.proxy.URL + "/hooks/verify"
	for range n {
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.MaxConnsPerHost, base.MaxIdleConnsPerHost = 64, 64 // as the SDK's own transport: no new connection per Fetch
		in := &instance{calls: &callCounter{base: base, gets: map[string]int{}}}
		in.client = fake.Client(verify.WithHTTPClient(&http.Client{Transport: in.calls}))
		cfg := verify.WebhookConfig{AuthTokens: verify.Secrets(fake.AuthToken()), PublicURL: public}
		var publish func(context.Context, *verify.Event) error
		switch via {
		case viaHub:
			hub := verify.NewEventHub()
			in.events, publish = hub, hub.Publish
		case viaBus:
			bus := f.bus()
			in.events, publish, cfg.Dedup = bus, bus.Publish, bus
		}
		if publish != nil {
			in.handler = verify.NewWebhookHandler(cfg, c.callback(publish))
			in.srv = httptest.NewServer(in.handler)
			tb.Cleanup(in.srv.Close)
		}
		tb.Cleanup(in.calls.base.CloseIdleConnections)
		c.inst = append(c.inst, in)
	}
	if via != viaPolling {
		if _, err := fake.WebhookURL(public, verify.EventChallengeApproved, verify.EventChallengeDenied); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// balance passes each request to the next instance in turn.
func (c *cluster) balance(w http.ResponseWriter, r *http.Request) {
	in := c.inst[int(c.turn.Add(1)-1)%len(c.inst)]
	target, _ := url.Parse(in.srv.URL)
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
}

// callback is an instance's webhook callback: it records the run, then
// publishes.
func (c *cluster) callback(publish func(context.Context, *verify.Event) error) func(context.Context, *verify.Event) error {
	return func(ctx context.Context, ev *verify.Event) error {
		c.mu.Lock()
		c.runs[ev.UUID]++
		c.active[ev.UUID]++
		if c.active[ev.UUID] > 1 {
			c.overlap = true
		}
		gate := c.gate
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.active[ev.UUID]--
			c.mu.Unlock()
		}()
		if gate != nil {
			gate(ev)
		}
		return publish(ctx, ev)
	}
}

// callCounter counts an instance's API requests: challenge Creates, and
// Fetches by challenge SID.
type callCounter struct {
	base *http.Transport

	mu      sync.Mutex
	creates int
	gets    map[string]int
}

func (cc *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	path := r.URL.Path
	cc.mu.Lock()
	switch i := strings.LastIndex(path, "/Challenges/"); {
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/Challenges"):
		cc.creates++
	case r.Method == http.MethodGet && i >= 0:
		cc.gets[path[i+len("/Challenges/"):]]++
	}
	cc.mu.Unlock()
	return cc.base.RoundTrip(r)
}

func (cc *callCounter) fetches(sid string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.gets[sid]
}

// phones enrolls n push devices, one per user.
func (c *cluster) phones(n int) []*verifytest.Device {
	c.tb.Helper()
	out := make([]*verifytest.Device, n)
	for i := range out {
		d, err := c.fake.NewPushDevice(c.fake.ServiceSID(), fmt.Sprintf("login-user-%04d", i))
		if err != nil {
			c.tb.Fatal(err)
		}
		out[i] = d
	}
	return out
}

// login is one push login's outcome.
type login struct {
	instance   int
	sid        string
	answer     verify.ChallengeStatus // what the phone said
	answered   time.Time              // when the phone's answer was accepted
	returned   time.Time              // when Wait returned
	got        verify.ChallengeStatus // what Wait returned
	calls      int                    // API calls of the login: its Create and its Fetches
	err        error
	answerTook time.Duration // how long the phone's answer took
}

// lateBy is how long after the answer Wait returned.
func (l login) lateBy() time.Duration { return l.returned.Sub(l.answered) }

// pushLogin runs a push login on instance i for the phone: Create, then
// Wait, while the phone answers after delay.
func (c *cluster) pushLogin(ctx context.Context, i int, phone *verifytest.Device, delay time.Duration, approve bool, opts *verify.WaitOptions) login {
	in := c.inst[i]
	l := login{instance: i, answer: verify.StatusDenied}
	if approve {
		l.answer = verify.StatusApproved
	}
	ch, err := in.client.Challenges.Create(ctx, phone.ServiceSID, phone.Identity, &verify.CreateChallengeParams{
		FactorSID: phone.FactorSID, Details: &verify.Details{Message: "Log in to Example?"}})
	if err != nil {
		l.err = err
		return l
	}
	l.sid = ch.SID
	answered := make(chan error, 1)
	timer := time.AfterFunc(delay, func() { // the user takes delay to tap
		start := time.Now()
		var err error
		if approve {
			_, err = phone.Approve(ctx, ch.SID)
		} else {
			_, err = phone.Deny(ctx, ch.SID)
		}
		l.answered = time.Now()
		l.answerTook = l.answered.Sub(start)
		answered <- err
	})
	if opts == nil {
		opts = &verify.WaitOptions{}
	}
	opts.Events = in.events
	got, err := in.client.Challenges.Wait(ctx, phone.ServiceSID, phone.Identity, ch.SID, opts)
	l.returned = time.Now()
	if got != nil {
		l.got = got.Status
	}
	if !timer.Stop() { // the phone answered, or is answering
		if answerErr := <-answered; err == nil {
			err = answerErr
		}
	}
	l.err = err
	l.calls = 1 + in.calls.fetches(ch.SID)
	return l
}

// run makes one push login per phone at once, spread over the instances in
// turn, each answered (approved or denied at random) after a random delay
// between minDelay and maxDelay.
func (c *cluster) run(ctx context.Context, phones []*verifytest.Device, minDelay, maxDelay time.Duration, opts func() *verify.WaitOptions) []login {
	out := make([]login, len(phones))
	var wg sync.WaitGroup
	for i, phone := range phones {
		delay := minDelay + rand.N(maxDelay-minDelay)
		approve := rand.N(2) == 0
		wg.Go(func() {
			var o *verify.WaitOptions
			if opts != nil {
				o = opts()
			}
			out[i] = c.pushLogin(ctx, i%len(c.inst), phone, delay, approve, o)
		})
	}
	wg.Wait()
	return out
}

// check fails the test for every login that did not end with the answer
// given, and returns how late the Waits were, sorted.
func checkAnswers(tb testing.TB, logins []login) []time.Duration {
	tb.Helper()
	late := make([]time.Duration, 0, len(logins))
	for i, l := range logins {
		if l.err != nil || l.got != l.answer {
			tb.Errorf("login %d on instance %d (%s): got %q, err %v; the phone said %q", i, l.instance, l.sid, l.got, l.err, l.answer)
			continue
		}
		late = append(late, l.lateBy())
	}
	slices.Sort(late)
	return late
}

// percentile is the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p/100))]
}

// wantOnceEach fails unless every uuid's callback ran exactly once, never
// two at once.
func (c *cluster) wantOnceEach(tb testing.TB, uuids []string) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.overlap {
		tb.Error("a callback ran twice at once for one uuid")
	}
	for _, u := range uuids {
		if c.runs[u] != 1 {
			tb.Errorf("uuid %s: callback ran %d times, want once", u, c.runs[u])
		}
	}
}
