package redisevents

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// The numbers of docs/instances.md. Reproduce (about four minutes; see
// that page):
//
//	cd redisevents && go test -run '^$' -bench . -benchtime 1x -count 3 | tee instances.txt
//
// BenchmarkWaitAfterAnswer: 300 push logins at once, each answered 0.5 to
// 2 s after its Create, approved or denied at random; how long after the
// answer each Wait returned (p50, p99), the share that returned more than
// 1 s late, and API calls per login. One iteration is one such run.
func BenchmarkWaitAfterAnswer(b *testing.B) {
	for _, setup := range []struct {
		name      string
		instances int
		via       string
	}{
		{"hub-1", 1, viaHub},
		{"hub-3", 3, viaHub},
		{"bus-3", 3, viaBus},
		{"polling-1", 1, viaPolling},
	} {
		b.Run(setup.name, func(b *testing.B) {
			var f *fixture
			if setup.via == viaBus {
				f = newFixture(b)
			}
			c := newCluster(b, setup.instances, setup.via, f)
			phones := c.phones(clusterLogins)
			var late []time.Duration
			calls, over := 0, 0
			b.ResetTimer()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				logins := c.run(ctx, phones, 500*time.Millisecond, 2*time.Second, nil)
				cancel()
				for _, l := range logins {
					calls += l.calls
					if l.lateBy() > time.Second {
						over++
					}
				}
				late = append(late, checkAnswers(b, logins)...)
			}
			b.StopTimer()
			n := float64(len(late))
			slices.Sort(late)
			b.ReportMetric(float64(percentile(late, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(late, 99).Microseconds())/1000, "p99-ms")
			b.ReportMetric(100*float64(over)/n, "late>1s-%")
			b.ReportMetric(float64(calls)/n, "calls/login")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkDeliveries: signed challenge.approved deliveries, each a new
// uuid, through NewWebhookHandler from 8 goroutines per CPU at once:
// in-memory de-duplication publishing to an EventHub, against Redis
// de-duplication publishing to the Bus (a claim, the publish and the
// done mark: three round trips to Redis on loopback).
func BenchmarkDeliveries(b *testing.B) {
	for _, dedup := range []string{"memory", "redis"} {
		b.Run("dedup="+dedup, func(b *testing.B) {
			const token = "0123456789abcdef0123456789abcdef"
			const public = "https://login.example.com/hooks/verify"
			cfg := verify.WebhookConfig{AuthTokens: verify.Secrets(token), PublicURL: public}
			publish := verify.NewEventHub().Publish
			if dedup == "redis" {
				bus := newFixture(b).bus()
				cfg.Dedup, publish = bus, bus.Publish
			}
			h := verify.NewWebhookHandler(cfg, publish)
			var next atomic.Uint64
			date := time.Now().UTC().Format(time.RFC3339)
			b.SetParallelism(8) // 8 per CPU: deliveries come at once, and a Redis round trip leaves the CPU idle
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := next.Add(1)
					form := url.Values{
						"uuid": {fmt.Sprintf("bench-%d-%d", start.UnixNano(), n)}, "type": {string(verify.EventChallengeApproved)},
						"account_sid": {"AC" + strings.Repeat("a", 32)}, "service_sid": {"VA" + strings.Repeat("b", 32)},
						"challenge_sid": {fmt.Sprintf("YC%032x", n)}, "challenge_status": {"approved"}, "date_created": {date},
					}
					req := httptest.NewRequest(http.MethodPost, public, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set(verify.SignatureHeader, verifytest.SignWebhook(token, public, form))
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusNoContent {
						b.Errorf("status %d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkThousandWaits: 1,000 push logins waiting at once on one
// instance with a Bus, answered 1 to 3 s after their Create: the most
// connections to Redis the instance's client held meanwhile (its
// subscription and its pool), sampled every 10 ms, against 1,000 if each
// Wait subscribed on its own connection.
func BenchmarkThousandWaits(b *testing.B) {
	f := newFixture(b)
	c := newCluster(b, 1, viaBus, f)
	phones := c.phones(1000)
	admin := f.admin()
	peak := 0
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				peak = max(peak, connectedClients(b, admin)-1) // all but the admin's own
				select {
				case <-done:
					return
				case <-tick.C:
				}
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		logins := c.run(ctx, phones, time.Second, 3*time.Second, nil)
		cancel()
		close(done)
		wg.Wait()
		checkAnswers(b, logins)
	}
	b.StopTimer()
	b.ReportMetric(float64(peak), "redis-conns")
	b.ReportMetric(0, "ns/op")
}
