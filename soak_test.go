package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakServer applies Creates exactly as told and fails at random: 429 and
// 503 before applying, a reset before applying, and (for POSTs) a reset
// after applying, which the client can only report as ErrOutcomeUnknown.
type soakServer struct {
	mu      sync.Mutex
	applied map[string]int // Create marker → times applied
	seq     atomic.Int64
	killed  atomic.Int64 // connections the server closed on purpose
}

func (s *soakServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	roll := rand.IntN(100)
	switch {
	case roll < 4:
		w.Header().Set("Retry-After", "0")
		writeJSONError(w, 429, 20429)
		return
	case roll < 8:
		writeJSONError(w, 503, 20503)
		return
	case roll < 10:
		s.killed.Add(1)
		hangUp(w)
		return
	case roll < 20 && r.Method == http.MethodGet:
		writeJSONError(w, 404, 20404) // must not cost the pool its connections
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, 400, 60306)
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Challenges") {
		var hidden map[string]string
		_ = json.Unmarshal([]byte(r.PostForm.Get("HiddenDetails")), &hidden)
		s.mu.Lock()
		s.applied[hidden["op"]]++
		s.mu.Unlock()
	}
	if r.Method == http.MethodPost && roll < 12 {
		s.killed.Add(1)
		hangUp(w) // applied, answer lost
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Challenges"):
		_, _ = io.WriteString(w, pageBody(int(s.seq.Add(5)), 5, ""))
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Challenges"):
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"sid":"YC%032x","status":"pending","factor_type":"push"}`, s.seq.Add(1))
	default:
		fmt.Fprintf(w, `{"sid":"%s","status":"approved","factor_type":"totp"}`, testChallenge)
	}
}

func writeJSONError(w http.ResponseWriter, status, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":"injected","status":%d}`, code, status)
}

func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	_ = conn.(*net.TCPConn).SetLinger(0)
	_ = conn.Close()
}

// TestSoakSharedClient runs 200 goroutines through one Client against a
// faulty server: no Create is ever applied twice, connections stay within
// the pool, and the heap returns near where it started.
func TestSoakSharedClient(t *testing.T) {
	workers, perWorker := 200, 100 // 20,000 operations
	if testing.Short() {
		perWorker = 10
	}
	srv := &soakServer{applied: map[string]int{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// The SDK's own pooled transport, behind a wrapper that counts calls to
	// CloseIdleConnections: a failed call must never empty the pool.
	tr := newTransport(DefaultMaxConns)
	pool := &flushCounter{Transport: tr}
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(ts.URL), WithHTTPClient(&http.Client{Transport: pool}),
		WithRetryWait(time.Millisecond, 10*time.Millisecond), WithMaxRetries(3), WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var open, maxOpen, dials atomic.Int64
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		dials.Add(1)
		n := open.Add(1)
		for m := maxOpen.Load(); n > m && !maxOpen.CompareAndSwap(m, n); m = maxOpen.Load() {
		}
		return &countedConn{Conn: conn, open: &open}, nil
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	type outcome struct{ ok, unknown, failed bool }
	results := make([]map[string]outcome, workers)
	var wg sync.WaitGroup
	ctx := context.Background()
	start := time.Now()
	for w := 0; w < workers; w++ {
		results[w] = map[string]outcome{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				switch i % 5 {
				case 0, 1:
					op := fmt.Sprintf("w%d-%d", w, i)
					_, err := c.Challenges.Create(ctx, testService, testIdentity, &CreateChallengeParams{
						FactorSID: testFactor, HiddenDetails: NewSecretMap(map[string]string{"op": op}),
					})
					results[w][op] = outcome{ok: err == nil, unknown: errors.Is(err, ErrOutcomeUnknown), failed: err != nil && !errors.Is(err, ErrOutcomeUnknown)}
				case 2:
					_, _ = c.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
				case 3:
					_, _ = c.Challenges.Update(ctx, testService, testIdentity, testChallenge, &UpdateChallengeParams{AuthPayload: NewSecret("123456")})
				case 4:
					_, _ = c.Challenges.ListPage(ctx, testService, testIdentity, &ListChallengesParams{ListParams: ListParams{PageSize: 5}})
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	flushes := pool.flushes.Load()
	c.CloseIdleConnections()

	var ok, unknown, appliedTotal int
	srv.mu.Lock()
	for _, res := range results {
		for op, o := range res {
			n := srv.applied[op]
			switch {
			case n > 1:
				t.Errorf("Create %s applied %d times", op, n)
			case o.ok && n != 1:
				t.Errorf("Create %s succeeded but was applied %d times", op, n)
			case o.failed && n != 0:
				t.Errorf("Create %s failed with a known outcome but was applied", op)
			}
			if o.ok {
				ok++
			}
			if o.unknown {
				unknown++
			}
		}
	}
	for _, n := range srv.applied {
		appliedTotal += n
	}
	srv.mu.Unlock()
	if appliedTotal < ok || appliedTotal > ok+unknown {
		t.Errorf("server applied %d Creates; calls: %d succeeded, %d outcome unknown", appliedTotal, ok, unknown)
	}
	if m := maxOpen.Load(); m > DefaultMaxConns {
		t.Errorf("%d connections open at once, pool is %d", m, DefaultMaxConns)
	}
	// 404s (10 % of GETs), final 429s and 5xx never empty the pool: new
	// connections replace those the server killed (and a few timed out
	// under load), not the pool.
	if flushes != 0 {
		t.Errorf("the pool was emptied %d times during the run", flushes)
	}
	if d, k := dials.Load(), srv.killed.Load(); d > DefaultMaxConns+2*k {
		t.Errorf("opened %d connections; the server killed %d and the pool holds %d", d, k, DefaultMaxConns)
	}

	results = nil
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if growth > 16<<20 {
		t.Errorf("heap grew by %d bytes over the run", growth)
	}
	t.Logf("%d ops in %v; creates: %d ok, %d unknown, %d applied; max open conns %d; %d dials for %d killed; heap growth %d bytes",
		workers*perWorker, elapsed.Round(time.Millisecond), ok, unknown, appliedTotal, maxOpen.Load(), dials.Load(), srv.killed.Load(), growth)
}

// flushCounter counts calls to CloseIdleConnections on the transport it wraps.
type flushCounter struct {
	*http.Transport
	flushes atomic.Int64
}

func (f *flushCounter) CloseIdleConnections() {
	f.flushes.Add(1)
	f.Transport.CloseIdleConnections()
}

// countedConn decrements the open count once when closed.
type countedConn struct {
	net.Conn
	open   *atomic.Int64
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.open.Add(-1)
	}
	return c.Conn.Close()
}
