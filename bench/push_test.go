package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
)

// Push logins through verify-go only (twilio-go and the floor have no
// Wait): Create a push challenge, then Wait for the phone's answer, which
// the server gives answerAfter after creation, in one of two modes:
//
//	polling  Challenges.Wait with its default 1 s interval
//	events   a webhook receiver in this process (NewWebhookHandler feeding
//	         an EventHub) registered through the Webhooks API, and Wait
//	         with WaitOptions{Events: hub}
var pushModes = []string{"polling", "events"}

// answerAfter is when the benchmarks' phone answers, after creation.
const answerAfter = 2 * time.Second

// pushLogin is one verify-go Client logging users in, in one mode.
type pushLogin struct {
	c    *verify.Client
	opts *verify.WaitOptions // nil when polling

	hookConns atomic.Int64 // connections the receiver accepted
}

// newPushLogin sets up a mode; in events mode onEvent, if not nil, sees
// each event the receiver accepted before the hub does. Everything is
// undone when tb ends.
func newPushLogin(tb testing.TB, mode string, onEvent func(*verify.Event)) *pushLogin {
	tb.Helper()
	c, err := verify.NewClient(verify.WithCredentials(accountSID, authToken), verify.WithBaseURL("http://"+apiAddr))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	p := &pushLogin{c: c}
	// Warm the pool's first connection on the main service: same host.
	if _, err := c.Challenges.Fetch(context.Background(), serviceSID, identity, sid); err != nil {
		tb.Fatal(err)
	}
	if mode == "polling" {
		return p
	}
	hub := verify.NewEventHub()
	receiver := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + receiver.Listener.Addr().String() + "/hooks/verify"
	receiver.Config.Handler = verify.NewWebhookHandler(verify.WebhookConfig{AuthTokens: verify.Secrets(authToken), PublicURL: publicURL},
		func(ctx context.Context, ev *verify.Event) error {
			if onEvent != nil {
				onEvent(ev)
			}
			return hub.Publish(ctx, ev)
		})
	receiver.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.hookConns.Add(1)
		}
	}
	receiver.Start()
	tb.Cleanup(receiver.Close)
	w, err := c.Webhooks.Create(context.Background(), pushServiceSID, &verify.CreateWebhookParams{
		FriendlyName: "bench logins",
		WebhookURL:   publicURL,
		EventTypes:   []verify.EventType{verify.EventChallengeApproved, verify.EventChallengeDenied},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Webhooks.Delete(context.Background(), pushServiceSID, w.SID); err != nil {
			tb.Error(err)
		}
	})
	p.opts = &verify.WaitOptions{Events: hub}
	return p
}

// create sends the push; wait waits for its answer.
func (p *pushLogin) create(ctx context.Context) (*verify.Challenge, error) {
	return p.c.Challenges.Create(ctx, pushServiceSID, identity, &verify.CreateChallengeParams{
		FactorSID: factorSID,
		Details: &verify.Details{Message: "Log in to Example Corp?",
			Fields: []verify.Field{{Label: "Location", Value: "Lyon, FR"}, {Label: "IP", Value: "203.0.113.7"}}},
		HiddenDetails: verify.NewSecretMap(map[string]string{"session": "web-42"}),
	})
}

func (p *pushLogin) wait(ctx context.Context, ch *verify.Challenge) (*verify.Challenge, error) {
	got, err := p.c.Challenges.Wait(ctx, pushServiceSID, identity, ch.SID, p.opts)
	if err == nil && !got.Status.IsApproved() {
		err = fmt.Errorf("challenge %s ended %s, want approved", ch.SID, got.Status)
	}
	return got, err
}

// startPushRun starts a new run on the server: fresh counters, the phone
// answering each challenge after the given delay.
func startPushRun(tb testing.TB, after time.Duration) {
	tb.Helper()
	resp, err := http.Post("http://"+adminAddr+"/push?answer_after="+after.String(), "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("starting a push run: %s", resp.Status)
	}
}

// readPushRun reports the current run once the server has answered every
// challenge created and delivered those answers; PollsInWindow counts
// [from, to) when both are set.
func readPushRun(tb testing.TB, from, to time.Time) pushStats {
	tb.Helper()
	u := "http://" + adminAddr + "/push"
	if !from.IsZero() && !to.IsZero() {
		u += fmt.Sprintf("?from=%d&to=%d", from.UnixNano(), to.UnixNano())
	}
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var st pushStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		tb.Fatal(err)
	}
	return st
}

// BenchmarkPushLogin is one login after another: Create, then Wait until
// the phone answers 2 s after creation. ns/op is the wall time per login;
// api-calls/op the requests the server received per login, Create included.
func BenchmarkPushLogin(b *testing.B) {
	for _, mode := range pushModes {
		b.Run("client=verifygo/mode="+mode, func(b *testing.B) {
			p := newPushLogin(b, mode, nil)
			ctx := context.Background()
			startPushRun(b, answerAfter)
			newConns(true)
			cpu := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ch, err := p.create(ctx)
				if err == nil {
					_, err = p.wait(ctx, ch)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			st := readPushRun(b, time.Time{}, time.Time{})
			checkDeliveries(b, mode, st, b.N)
			b.ReportMetric(float64(st.Creates+st.Fetches)/float64(b.N), "api-calls/op")
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(newConns(false))/float64(b.N), "newconns/op")
		})
	}
}

// checkDeliveries fails unless every login's event reached the receiver in
// events mode, and none was sent when polling. st is from readPushRun,
// which counts every delivery, the last Wait's included.
func checkDeliveries(tb testing.TB, mode string, st pushStats, logins int) {
	tb.Helper()
	want := int64(logins)
	if mode == "polling" {
		want = 0
	}
	if st.Delivered != want || st.DeliveryFailed != 0 {
		tb.Fatalf("%s: %d webhook deliveries accepted and %d failed, want %d and 0", mode, st.Delivered, st.DeliveryFailed, want)
	}
}

// waitingLogins is how many logins wait at once in BenchmarkWaitingLogins1000.
const waitingLogins = 1000

// BenchmarkWaitingLogins1000 runs 1,000 logins at once through one Client:
// each goroutine Creates, then Waits for the answer that comes 2 s after
// its creation. It reports, from the server's counts:
//
//	api-calls/login    requests per login, Create included
//	api-calls/s        Fetches divided by the wait phase (first Wait
//	                   started to last Wait returned)
//	waiting-calls/s    Fetches per second, each login's first left out,
//	                   while every login was waiting and none was answered
//	                   yet: from the last Create's return to 2 s after the
//	                   round began (no challenge is answered earlier)
//	ns/login           mean wall time from Create to Wait's return
//	creates-ns/op      from the start to the last Create's return: the
//	                   Creates queue for the pool's 64 connections
//	peak-conns         API connections open at once, at most
//	newconns/op        API connections opened per round
//	hookconns/op       connections the webhook receiver accepted per round
func BenchmarkWaitingLogins1000(b *testing.B) {
	for _, mode := range pushModes {
		b.Run("client=verifygo/mode="+mode, func(b *testing.B) {
			p := newPushLogin(b, mode, nil)
			var (
				calls, fetches, inWindow, conns, peak, hookConns int64
				waitPhase, window, loginTime, creates            time.Duration
			)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				startPushRun(b, answerAfter)
				newConns(true)
				hooks := p.hookConns.Load()
				b.StartTimer()
				r := runWaitingLogins(p)
				b.StopTimer()
				if r.err != nil {
					b.Fatal(r.err)
				}
				from, to := r.lastCreated, r.start.Add(answerAfter)
				st := readPushRun(b, from, to)
				checkDeliveries(b, mode, st, waitingLogins)
				calls += st.Creates + st.Fetches
				fetches += st.Fetches
				waitPhase += r.lastDone.Sub(r.firstCreated)
				if to.After(from) {
					inWindow += st.PollsInWindow
					window += to.Sub(from)
				}
				loginTime += r.loginTime
				creates += r.lastCreated.Sub(r.start)
				conns += int64(newConns(false))
				peak = max(peak, st.PeakConns)
				hookConns += p.hookConns.Load() - hooks
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(calls)/(n*waitingLogins), "api-calls/login")
			b.ReportMetric(float64(fetches)/waitPhase.Seconds(), "api-calls/s")
			if window > 0 {
				b.ReportMetric(float64(inWindow)/window.Seconds(), "waiting-calls/s")
			} else {
				b.Log("the Creates took longer than the answer delay: no waiting window to measure")
			}
			b.ReportMetric(float64(loginTime.Nanoseconds())/(n*waitingLogins), "ns/login")
			b.ReportMetric(float64(creates.Nanoseconds())/n, "creates-ns/op")
			b.ReportMetric(float64(peak), "peak-conns")
			b.ReportMetric(float64(conns)/n, "newconns/op")
			b.ReportMetric(float64(hookConns)/n, "hookconns/op")
		})
	}
}

// waitingRound is what one round of waitingLogins concurrent logins saw.
type waitingRound struct {
	start, firstCreated, lastCreated, lastDone time.Time
	loginTime                                  time.Duration // summed over the logins
	err                                        error
}

func runWaitingLogins(p *pushLogin) waitingRound {
	ctx := context.Background()
	r := waitingRound{start: time.Now()}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	// note records what a login saw, under mu.
	note := func(f func()) { mu.Lock(); f(); mu.Unlock() }
	for g := 0; g < waitingLogins; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			begin := time.Now()
			ch, err := p.create(ctx)
			created := time.Now()
			note(func() {
				if r.firstCreated.IsZero() || created.Before(r.firstCreated) {
					r.firstCreated = created
				}
				if created.After(r.lastCreated) {
					r.lastCreated = created
				}
			})
			if err == nil {
				_, err = p.wait(ctx, ch)
			}
			done := time.Now()
			note(func() {
				if err != nil && r.err == nil {
					r.err = err
				}
				if done.After(r.lastDone) {
					r.lastDone = done
				}
				r.loginTime += done.Sub(begin)
			})
		}()
	}
	wg.Wait()
	return r
}

// TestPushLoginModes checks what the login benchmarks compare: in both
// modes a login ends approved; in events mode the receiver accepted the
// signed challenge.approved event for it and the login cost at most 3 API
// calls (Create, Wait's first Fetch, the Fetch the event triggers). The
// phone answers after 200 ms here to keep CI short.
func TestPushLoginModes(t *testing.T) {
	for _, mode := range pushModes {
		t.Run(mode, func(t *testing.T) {
			events := make(chan *verify.Event, 1)
			p := newPushLogin(t, mode, func(ev *verify.Event) {
				select {
				case events <- ev:
				default:
				}
			})
			startPushRun(t, 200*time.Millisecond)
			// Not a timing check: in events mode Wait's safety poll comes
			// 8-12 s after the first Fetch, so a login that ignored the
			// event would end on this deadline instead.
			ctx, cancel := context.WithTimeout(context.Background(), 7*time.Second)
			defer cancel()
			ch, err := p.create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.wait(ctx, ch); err != nil {
				t.Fatal(err)
			}
			st := readPushRun(t, time.Time{}, time.Time{})
			checkDeliveries(t, mode, st, 1)
			calls := st.Creates + st.Fetches
			t.Logf("%s: %d API calls, %d of them Fetches that read pending", mode, calls, st.PendingFetches)
			if st.Creates != 1 || st.MaxCallsPerLogin != calls {
				t.Errorf("the server saw %d Creates and %d calls for the busiest challenge of %d calls; want 1 login", st.Creates, st.MaxCallsPerLogin, calls)
			}
			if mode == "polling" {
				return
			}
			if calls > 3 {
				t.Errorf("events mode made %d API calls for one login, want at most 3", calls)
			}
			select {
			case ev := <-events:
				if ev.Type != verify.EventChallengeApproved || ev.ChallengeSID != ch.SID || ev.ChallengeStatus != verify.StatusApproved ||
					ev.ServiceSID != pushServiceSID || ev.ChallengeDetails.Message != "Log in to Example Corp?" || len(ev.ChallengeDetails.Fields) != 2 {
					t.Errorf("the receiver got %+v, want challenge.approved for %s with the login's details", ev, ch.SID)
				}
			default:
				t.Error("the receiver accepted no event")
			}
		})
	}
}
