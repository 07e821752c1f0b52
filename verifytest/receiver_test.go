package verifytest_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// receiver is a webhook endpoint on a real httptest.Server: it records
// every request as it arrived, then (unless front answers it) passes it to
// verify.NewWebhookHandler with the fake's auth token and hookURL as
// PublicURL, whose callback records the events it verified.
type receiver struct {
	*httptest.Server
	hookURL string // the URL to register: the server's URL, then the path and query asked for
	// front, when set, sees each request first (n counts them from 1) and
	// answers it with the status it returns, after any headers it set on
	// w; 0 passes it to the handler.
	front func(n int, w http.ResponseWriter, r *http.Request) int
	// fail, when set, is the handler's callback result for each verified
	// event (n counts the callback's calls from 1).
	fail func(n int, ev *verify.Event) error

	mu       sync.Mutex
	requests []received
	events   []*verify.Event // what the callback got, in order
	calls    int
	inFlight int
	maxPar   int // most requests handled at once
}

// received is one request as the receiver saw it.
type received struct {
	method, contentType, signature string
	path                           string // path and query, as sent
	body                           []byte
	form                           url.Values // the parsed form body (nil for JSON)
}

// newReceiver starts a receiver whose hookURL ends with pathAndQuery.
func newReceiver(t *testing.T, srv *verifytest.Server, pathAndQuery string) *receiver {
	t.Helper()
	return startReceiver(t, srv, nil, pathAndQuery)
}

// startReceiver starts a receiver on l (nil: a free loopback port); the
// handler verifies signatures over hookURL, the URL exactly as registered.
func startReceiver(t *testing.T, srv *verifytest.Server, l net.Listener, pathAndQuery string) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewUnstartedServer(nil)
	if l != nil {
		_ = rc.Listener.Close()
		rc.Listener = l
	}
	rc.hookURL = "http://" + rc.Listener.Addr().String() + pathAndQuery // before Start: requests may come at once
	rc.Config.Handler = rc.handler(srv.AuthToken())
	rc.Start()
	t.Cleanup(rc.Close)
	return rc
}

// handler is the receiver's http.Handler.
func (rc *receiver) handler(authToken string) http.Handler {
	callback := func(_ context.Context, ev *verify.Event) error {
		rc.mu.Lock()
		rc.calls++
		n := rc.calls
		fail := rc.fail
		rc.mu.Unlock()
		if fail != nil {
			if err := fail(n, ev); err != nil {
				return err
			}
		}
		rc.mu.Lock()
		rc.events = append(rc.events, ev)
		rc.mu.Unlock()
		return nil
	}
	var (
		once sync.Once
		hook http.Handler
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		got := received{method: r.Method, contentType: r.Header.Get("Content-Type"),
			signature: r.Header.Get(verify.SignatureHeader), path: r.RequestURI, body: body}
		if f, err := url.ParseQuery(string(body)); err == nil && got.contentType == "application/x-www-form-urlencoded" {
			got.form = f
		}
		rc.mu.Lock()
		rc.requests = append(rc.requests, got)
		n := len(rc.requests)
		front := rc.front
		rc.inFlight++
		rc.maxPar = max(rc.maxPar, rc.inFlight)
		rc.mu.Unlock()
		defer func() {
			rc.mu.Lock()
			rc.inFlight--
			rc.mu.Unlock()
		}()
		if front != nil {
			if status := front(n, w, r); status != 0 {
				w.WriteHeader(status)
				return
			}
		}
		once.Do(func() {
			// MaxEventAge -1: some tests run the fake on a clock set in the past.
			hook = verify.NewWebhookHandler(verify.WebhookConfig{AuthTokens: verify.Secrets(authToken), PublicURL: rc.hookURL, MaxEventAge: -1}, callback)
		})
		hook.ServeHTTP(w, r)
	})
}

// got returns copies of what the receiver recorded.
func (rc *receiver) got() (requests []received, events []*verify.Event) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.requests...), append([]*verify.Event(nil), rc.events...)
}

// types lists the event types of the recorded requests, in arrival order.
func types(requests []received) []verify.EventType {
	var out []verify.EventType
	for _, r := range requests {
		out = append(out, verify.EventType(r.form.Get("type")))
	}
	return out
}

// settle waits until the fake has no delivery queued or in flight.
func settle(t *testing.T, srv *verifytest.Server) {
	t.Helper()
	if err := srv.WaitForDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}
