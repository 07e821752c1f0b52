package verify

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
)

// TestListMemoryStaysFlat iterates 100,000 challenges in pages of 1,000 and
// samples the live heap as it goes: the heap must not grow with the count,
// only hold about two pages at a time.
func TestListMemoryStaysFlat(t *testing.T) {
	const total, pageSize = 100_000, 1000
	challenge := golden(t, "fetch.json")
	// The server renders each page into one reused buffer, so its own
	// memory stays constant too.
	var buf bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("PageToken"))
		buf.Reset()
		buf.WriteString(`{"challenges":[`)
		for i := 0; i < pageSize; i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(challenge)
		}
		next := "null"
		if offset+pageSize < total {
			next = fmt.Sprintf(`"http://%s%s?PageSize=%d&PageToken=%d"`, r.Host, r.URL.Path, pageSize, offset+pageSize)
		}
		fmt.Fprintf(&buf, `],"meta":{"page_size":%d,"next_page_url":%s,"key":"challenges"}}`, pageSize, next)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(buf.Bytes())
	}))
	defer srv.Close()
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	live := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	onePage := int64(0)
	var samples []int64
	n := 0
	for ch, err := range c.Challenges.List(context.Background(), testService, testIdentity, &ListChallengesParams{ListParams: ListParams{PageSize: pageSize}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 1 {
			before := live()
			// Measure what one decoded page costs, to state the bound in pages.
			p, err := c.Challenges.ListPage(context.Background(), testService, testIdentity, &ListChallengesParams{ListParams: ListParams{PageSize: pageSize}})
			if err != nil {
				t.Fatal(err)
			}
			onePage = live() - before
			runtime.KeepAlive(p)
		}
		if n%10_000 == 5_000 {
			samples = append(samples, live())
		}
		_ = ch
	}
	if n != total {
		t.Fatalf("iterated %d challenges, want %d", n, total)
	}
	lo, hi := samples[0], samples[0]
	for _, s := range samples {
		lo, hi = min(lo, s), max(hi, s)
	}
	t.Logf("one page ≈ %d KB; live heap over %d samples: %d–%d KB", onePage>>10, len(samples), lo>>10, hi>>10)
	if onePage <= 0 {
		t.Fatalf("could not measure a page (%d bytes)", onePage)
	}
	// Growth from the first sample to the last, or spread between samples,
	// beyond one page means memory grows with the count.
	if growth := samples[len(samples)-1] - samples[0]; growth > onePage {
		t.Errorf("heap grew by %d KB from 5k to 95k challenges (one page is %d KB)", growth>>10, onePage>>10)
	}
	if hi-lo > onePage {
		t.Errorf("heap samples spread %d KB, more than one page (%d KB)", (hi-lo)>>10, onePage>>10)
	}
}
