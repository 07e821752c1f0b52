package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// This file proves the POST rule over real sockets: a POST is sent again only
// on positive evidence that the first never reached the server, and errors
// claim no more than is known.

// detached drops the request's context before passing it on, as many
// wrapping transports do; httptrace then reports nothing.
type detached struct{ rt http.RoundTripper }

func (d detached) RoundTrip(r *http.Request) (*http.Response, error) {
	return d.rt.RoundTrip(r.WithContext(context.Background()))
}

func TestPostAnsweredWithCutBodyIsSentOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rt   func() http.RoundTripper
	}{
		{"SDK pool", nil},
		{"transport that drops the context", func() http.RoundTripper {
			return detached{rt: http.DefaultTransport.(*http.Transport).Clone()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
				fmt.Fprintf(conn, "HTTP/1.1 201 Created\r\nContent-Length: 1000\r\n%s\r\n{\"sid\":\"YC03aa", jsonHeader)
			})
			opts := []Option{WithCredentials(testAccount, testToken), WithBaseURL(srv.url),
				WithMaxRetries(3), WithRetryWait(time.Millisecond, 5*time.Millisecond)}
			if tc.rt != nil {
				opts = append(opts, WithHTTPClient(&http.Client{Transport: tc.rt()}))
			}
			c, err := NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			_, err = c.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
			if !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("err = %v, want ErrOutcomeUnknown", err)
			}
			if n := srv.count(func(*http.Request) bool { return true }); n != 1 {
				t.Errorf("server read %d Creates, want exactly 1", n)
			}
		})
	}
}

func TestPostThatNeverGotAConnectionIsNotUnknown(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var creates atomic.Int64
	srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, req *http.Request) {
		if req.Method == http.MethodGet {
			<-release // holds the pool's only connection
			writeRaw(conn, 200, jsonHeader, golden(t, "fetch.json"))
			return
		}
		creates.Add(1)
		writeRaw(conn, 201, jsonHeader, golden(t, "create_push.json"))
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url), WithMaxConns(1), WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = c.Challenges.Fetch(context.Background(), testService, testIdentity, testChallenge)
	}()
	for srv.count(func(r *http.Request) bool { return r.Method == http.MethodGet }) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Challenges.Create(ctx, testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
	close(release)
	wg.Wait()
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrOutcomeUnknown) || strings.Contains(err.Error(), "may have been sent") {
		t.Errorf("err = %v, want a deadline error that does not claim the request may have been sent", err)
	}
	if n := creates.Load(); n != 0 {
		t.Errorf("server read %d Creates, want 0", n)
	}
}

// stuckFirstDial is a DialContext whose first dial hangs until its attempt
// times out and then fails with a plain error (no *net.OpError to go by).
func stuckFirstDial(dials *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			<-ctx.Done()
			return nil, errors.New("gave up connecting")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func TestPostRetriedOnlyWhenTheTraceShowsNoConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		wrap    func(http.RoundTripper) http.RoundTripper
		creates int64
	}{
		// httptrace shows the transport never got a connection: retried.
		{"traced", func(rt http.RoundTripper) http.RoundTripper { return rt }, 1},
		// No trace, no *net.OpError: no evidence, so it is not sent again.
		{"transport that drops the context", func(rt http.RoundTripper) http.RoundTripper { return detached{rt: rt} }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var creates, dials atomic.Int64
			srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, req *http.Request) {
				creates.Add(1)
				writeRaw(conn, 201, jsonHeader, golden(t, "create_push.json"))
			})
			tr := &http.Transport{DialContext: stuckFirstDial(&dials)}
			defer tr.CloseIdleConnections()
			c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url),
				WithHTTPClient(&http.Client{Transport: tc.wrap(tr)}), WithTimeout(100*time.Millisecond),
				WithMaxRetries(2), WithRetryWait(time.Millisecond, 2*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
			if got := creates.Load(); got != tc.creates {
				t.Errorf("server read %d Creates, want %d (err %v)", got, tc.creates, err)
			}
			if tc.creates == 1 && err != nil {
				t.Errorf("err = %v, want success on the retry", err)
			}
			if tc.creates == 0 && !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("err = %v, want ErrOutcomeUnknown without evidence", err)
			}
		})
	}
}

// failingConn accepts no bytes: every write fails.
type failingConn struct{ net.Conn }

func (failingConn) Write([]byte) (int, error) { return 0, syscall.EPIPE }

func TestPostWhoseWriteFailedIsRetried(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		client, server := net.Pipe() // the server end never answers
		t.Cleanup(func() { _ = server.Close() })
		return failingConn{client}, nil
	}}
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL("http://127.0.0.1:1"),
		WithHTTPClient(&http.Client{Transport: tr}), WithMaxRetries(2), WithRetryWait(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// A push answer larger than the transport's 4 KiB write buffer is written
	// while the request is being sent, so httptrace sees the write fail.
	_, err = c.Challenges.Update(context.Background(), testService, testIdentity, testChallenge,
		&UpdateChallengeParams{AuthPayload: NewSecret(strings.Repeat("j", 5000))})
	if err == nil || errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, syscall.EPIPE) {
		t.Errorf("err = %v, want the write error, not outcome-unknown", err)
	}
	if n := dials.Load(); n != 3 {
		t.Errorf("%d connections tried, want 3 (the first and 2 retries)", n)
	}
}

func TestTransportErrorsSayOnlyWhatIsKnown(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
		_ = conn.(*net.TCPConn).SetLinger(0) // reset once the request is read
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url), WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = c.Challenges.ListPage(context.Background(), testService, testIdentity,
		&ListChallengesParams{Status: StatusPending, ListParams: ListParams{PageSize: 10}})
	if err == nil || strings.Contains(err.Error(), "PageSize") || strings.Contains(err.Error(), "?") ||
		strings.Contains(err.Error(), srv.url) || !strings.Contains(err.Error(), "GET "+listPath+":") {
		t.Errorf("GET error = %q; want method and path, no URL or query", err)
	}
	_, err = c.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor})
	if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "may have been sent") ||
		strings.Contains(err.Error(), "was sent") {
		t.Errorf("POST error = %q; want it to say the request may have been sent", err)
	}
}

// TestPerAttemptTimeoutOnEveryTransport: WithTimeout ends an attempt that
// gets no answer whatever transport carries it, even one that drops the
// request's context, and says which timeout it was.
func TestPerAttemptTimeoutOnEveryTransport(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
		_, _ = conn.Read(make([]byte, 1)) // never answers; returns when the client hangs up
	})
	for _, tc := range []struct {
		name string
		opt  func() []Option
	}{
		{"SDK pool", func() []Option { return nil }},
		{"caller's *http.Transport", func() []Option {
			return []Option{WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})}
		}},
		{"transport that drops the context", func() []Option {
			return []Option{WithHTTPClient(&http.Client{Transport: detached{rt: http.DefaultTransport.(*http.Transport).Clone()}})}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(append([]Option{WithCredentials(testAccount, testToken), WithBaseURL(srv.url),
				WithTimeout(100 * time.Millisecond), WithMaxRetries(0)}, tc.opt()...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = c.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Fatalf("err = %v (ctx %v); want the per-attempt timeout, a net.Error with Timeout(), before ctx ends", err, ctx.Err())
			}
			if !strings.Contains(strings.ToLower(err.Error()), "timeout") || strings.Contains(err.Error(), srv.url) {
				t.Errorf("err = %q; want it to say it timed out, without the URL", err)
			}
		})
	}
}
