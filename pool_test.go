package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
)

// This file proves that the Client keeps its connections: a failed call
// never empties the pool, and no transport a user brings makes NewClient panic.

const missingChallenge = "YC0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

// poolServer answers Fetch with the spec's example, or 404 for
// missingChallenge, and counts the connections it accepts.
func poolServer(t *testing.T, h2 bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	body := golden(t, "fetch.json")
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == listPath+"/"+missingChallenge {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":20404,"message":"The requested resource was not found","status":404}`))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &conns
}

// wrapped is a RoundTripper that wraps another, as tracing middleware does;
// it has no CloseIdleConnections of its own.
type wrapped struct {
	rt    http.RoundTripper
	calls atomic.Int64
}

func (w *wrapped) RoundTrip(r *http.Request) (*http.Response, error) {
	w.calls.Add(1)
	return w.rt.RoundTrip(r)
}

// transports are the ways a user hands the Client its connections.
func transports(t *testing.T) []struct {
	name   string
	h2     bool
	client func(srv *httptest.Server) *Client
} {
	newClient := func(srv *httptest.Server, opts ...Option) *Client {
		c, err := NewClient(append([]Option{WithCredentials(testAccount, testToken), WithBaseURL(srv.URL)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		return c
	}
	return []struct {
		name   string
		h2     bool
		client func(srv *httptest.Server) *Client
	}{
		// The pools hold 32, one per goroutine of the load test: a larger
		// pool may also dial when a busy connection is about to come back,
		// which adds connections by chance on a loaded machine.
		{"default pool", false, func(srv *httptest.Server) *Client { return newClient(srv, WithMaxConns(32)) }},
		{"caller's *http.Transport", false, func(srv *httptest.Server) *Client {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = 32, 32 // the default keeps 2 idle, whatever the SDK does
			t.Cleanup(tr.CloseIdleConnections)
			return newClient(srv, WithHTTPClient(&http.Client{Transport: tr}))
		}},
		{"HTTP/2", true, func(srv *httptest.Server) *Client {
			tr := srv.Client().Transport.(*http.Transport)
			return newClient(srv, WithHTTPClient(&http.Client{Transport: tr}))
		}},
	}
}

func TestErrorsDoNotEmptyThePool(t *testing.T) {
	t.Parallel()
	for _, tc := range transports(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, conns := poolServer(t, tc.h2)
			c := tc.client(srv)
			ctx := context.Background()
			for i := 0; i < 10; i++ {
				sid := testChallenge
				if i%2 == 1 {
					sid = missingChallenge
				}
				_, err := c.Challenges.Fetch(ctx, testService, testIdentity, sid)
				if (i%2 == 1) != errors.Is(err, ErrNotFound) {
					t.Fatalf("call %d: err = %v", i, err)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("10 sequential calls alternating 200 and 404 opened %d connections, want 1", n)
			}
		})
	}
}

func TestErrorsDoNotEmptyThePoolUnderLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range transports(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, conns := poolServer(t, tc.h2)
			c := tc.client(srv)
			var wg sync.WaitGroup
			var notFound, other atomic.Int64
			for g := 0; g < 32; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						sid := testChallenge
						if (g*50+i)%10 == 0 {
							sid = missingChallenge
						}
						_, err := c.Challenges.Fetch(context.Background(), testService, testIdentity, sid)
						switch {
						case errors.Is(err, ErrNotFound):
							notFound.Add(1)
						case err != nil:
							other.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			if notFound.Load() != 160 || other.Load() != 0 {
				t.Errorf("%d not found and %d other errors, want 160 and 0", notFound.Load(), other.Load())
			}
			if n := conns.Load(); n > 40 {
				t.Errorf("32 goroutines × 50 Fetches with 10 %% 404s opened %d connections, want at most 40", n)
			}
		})
	}
}

// TestNewClientWithReplacedDefaultTransport replaces the process-wide
// http.DefaultTransport, as httpmock.Activate and tracing setups do, so it
// does not run in parallel with other tests.
func TestNewClientWithReplacedDefaultTransport(t *testing.T) {
	saved := http.DefaultTransport
	t.Cleanup(func() { http.DefaultTransport = saved })

	srv, _ := poolServer(t, false)
	for _, replace := range []struct {
		name string
		set  func()
	}{
		{"wrapped for tracing", func() { http.DefaultTransport = &wrapped{rt: saved} }},
		{"httpmock.Activate", func() { httpmock.Activate() }},
	} {
		t.Run(replace.name, func(t *testing.T) {
			replace.set()
			defer func() { http.DefaultTransport = saved }()

			// Without WithHTTPClient: the Client's own pool, built without
			// assuming the type of http.DefaultTransport, reaches the server.
			c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			if _, err := c.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge); err != nil {
				t.Fatalf("own pool: %v", err)
			}

			// With WithHTTPClient: every call goes through the caller's transport.
			mock := httpmock.NewMockTransport()
			mock.RegisterResponder("GET", oneURL, jsonResponder(t, 200, "fetch.json"))
			mine := &wrapped{rt: mock}
			c, err = NewClient(WithCredentials(testAccount, testToken), WithHTTPClient(&http.Client{Transport: mine}))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if _, err := c.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge); err != nil {
					t.Fatalf("caller's transport: %v", err)
				}
			}
			if mine.calls.Load() != 3 || mock.GetTotalCallCount() != 3 {
				t.Errorf("caller's transport saw %d calls, mock %d; want 3 and 3", mine.calls.Load(), mock.GetTotalCallCount())
			}
		})
	}
}
