package verify

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowDeliveryFlood measures what n deliveries with a wrong signature
// hold after a while when each sends its headers and half of a body of
// size bytes at once, then one byte a second: the handler's goroutines,
// the server's open connections, the live heap and the stacks in use. It runs only
// when VERIFY_FLOOD is set to "n,duration,size" (docs/webhooks.md has the
// figures), as in
//
//	VERIFY_FLOOD=2000,10s,65536 go test -run TestSlowDeliveryFlood -v
func TestSlowDeliveryFlood(t *testing.T) {
	spec := strings.Split(os.Getenv("VERIFY_FLOOD"), ",")
	if len(spec) != 3 {
		t.Skip("a measurement: set VERIFY_FLOOD=n,duration,size to run it")
	}
	n, err1 := strconv.Atoi(spec[0])
	wait, err2 := time.ParseDuration(spec[1])
	size, err3 := strconv.Atoi(spec[2])
	if err1 != nil || err2 != nil || err3 != nil || n < 1 || n > 5000 || wait > time.Minute || size < 2 {
		t.Fatalf("VERIFY_FLOOD=%q: want n (at most 5000), a duration (at most 1m) and a size", os.Getenv("VERIFY_FLOOD"))
	}
	var inHandler, open atomic.Int64
	var mu sync.Mutex
	answered := map[int]int{}
	h := NewWebhookHandler(WebhookConfig{AuthTokens: Secrets(testToken), OnReject: func(_ *http.Request, rej *WebhookRejection) {
		mu.Lock()
		answered[rej.Status]++
		mu.Unlock()
	}}, func(context.Context, *Event) error { return nil })
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		defer inHandler.Add(-1)
		h.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	var before runtime.MemStats
	runtime.GC()
	runtime.GC() // and what sync.Pools kept
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	head := "POST /hooks/verify HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		SignatureHeader + ": " + wrongSignature + "\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n" + strings.Repeat("a", size/2)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c)
		_, _ = io.WriteString(c, head)
	}
	for sent := size / 2; time.Since(start) < wait; sent++ {
		time.Sleep(time.Second) // the flood's own pace: a byte a second
		if sent+1 >= size {
			break
		}
		for _, c := range conns {
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			_, _ = c.Write([]byte{'a'})
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	mu.Lock()
	answers := fmt.Sprint(answered)
	mu.Unlock()
	mib := func(a, b uint64) float64 { return (float64(a) - float64(b)) / (1 << 20) }
	t.Logf("%d slow deliveries of %d bytes, after %v: %d in the handler, %d connections open, answered %s; "+
		"goroutines %+d, live heap %+.1f MiB, stacks %+.1f MiB",
		n, size, time.Since(start).Round(100*time.Millisecond), inHandler.Load(), open.Load(), answers,
		runtime.NumGoroutine()-goroutines, mib(after.HeapAlloc, before.HeapAlloc), mib(after.StackInuse, before.StackInuse))
}
