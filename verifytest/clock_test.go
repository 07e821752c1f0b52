package verifytest_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// TestWaitOnAFakeClockInThePast: Wait judges expiry by the server's Date
// header, so the fake must send its own clock there. On a clock pinned in
// 2024, a push approved once Wait has read it pending (and so judged its
// expiry) is approved, not expired.
func TestWaitOnAFakeClockInThePast(t *testing.T) {
	t.Parallel()
	pinned := time.Date(2024, time.March, 14, 9, 26, 53, 0, time.UTC)
	// The client logs each request once answered: a GET is a Fetch of Wait's.
	polled := make(chan struct{}, 1)
	logged := onWrite(func(record []byte) {
		if bytes.Contains(record, []byte("method=GET")) {
			select {
			case polled <- struct{}{}:
			default:
			}
		}
	})
	logger := slog.New(slog.NewTextHandler(logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, c := newFake(t, []verifytest.Option{verifytest.WithClock(func() time.Time { return pinned })}, verify.WithLogger(logger))
	dev, ch := newPush(t, srv, c)
	if !ch.DateCreated.Equal(pinned) {
		t.Fatalf("created at %v, want the fake's clock %v", ch.DateCreated, pinned)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-polled: // Wait read it pending: on the machine's clock it expired long ago
		case <-wctx.Done():
			t.Errorf("Wait never fetched the challenge")
			return
		}
		if _, err := dev.Approve(wctx, ch.SID); err != nil {
			t.Errorf("Approve: %v", err)
		}
	}()
	got, err := c.Challenges.Wait(wctx, srv.ServiceSID(), identity, ch.SID, &verify.WaitOptions{Interval: 50 * time.Millisecond})
	wg.Wait()
	if err != nil || !got.Status.IsApproved() {
		t.Fatalf("Wait on a fake clock in 2024: %v, %v; want approved", got, err)
	}
}

// TestDateHeaderIsTheFakesClock: every answer, an error or an injected
// fault included, carries the fake's time in Date, and follows Advance.
func TestDateHeaderIsTheFakesClock(t *testing.T) {
	t.Parallel()
	pinned := time.Date(2024, time.March, 14, 9, 26, 53, 0, time.UTC)
	srv := verifytest.NewServer(verifytest.WithClock(func() time.Time { return pinned }))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	date := func(path, user string) (int, time.Time) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, srv.AuthToken())
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("GET %s: Date %q: %v", path, resp.Header.Get("Date"), err)
		}
		return resp.StatusCode, d
	}
	list := servicePath(srv.ServiceSID()) + "/Entities"
	for _, tc := range []struct {
		what, path, user string
		status           int
	}{
		{"a list", list, srv.AccountSID(), http.StatusOK},
		{"a 404", servicePath(srv.ServiceSID()) + "/Nothing", srv.AccountSID(), http.StatusNotFound},
		{"a 401", list, "AC00000000000000000000000000000000", http.StatusUnauthorized},
	} {
		if status, d := date(tc.path, tc.user); status != tc.status || !d.Equal(pinned) {
			t.Errorf("%s: %d with Date %v, want %d with %v", tc.what, status, d, tc.status, pinned)
		}
	}
	srv.FailNext(1, http.StatusServiceUnavailable, 0)
	if status, d := date(list, srv.AccountSID()); status != http.StatusServiceUnavailable || !d.Equal(pinned) {
		t.Errorf("an injected 503: %d with Date %v, want %v", status, d, pinned)
	}
	srv.Advance(90 * time.Minute)
	if _, d := date(list, srv.AccountSID()); !d.Equal(pinned.Add(90 * time.Minute)) {
		t.Errorf("after Advance(90m): Date %v, want %v", d, pinned.Add(90*time.Minute))
	}
}

// onWrite is an io.Writer that hands each write to a function; a slog
// handler writes once per record.
type onWrite func([]byte)

func (f onWrite) Write(p []byte) (int, error) {
	f(p)
	return len(p), nil
}
