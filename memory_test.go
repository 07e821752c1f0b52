package verify

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
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

// cannedServer answers each request on a loopback socket with the response
// fixed for its method and path, reading and writing through buffers made
// once per connection, so that the allocations counted while a client calls
// it are the client's own.
type cannedServer struct {
	ln      net.Listener
	answers map[string][]byte // "METHOD /path" → the whole HTTP response
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

var (
	headerEnd     = []byte("\r\n\r\n")
	contentLength = []byte("\r\nContent-Length: ")
)

func newCannedServer(t *testing.T, answers map[string][]byte) *cannedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &cannedServer{ln: ln, answers: answers}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, conn)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *cannedServer) serve(conn net.Conn) {
	buf := make([]byte, 64<<10)
	n := 0
	fill := func(until int) bool {
		for n < until {
			m, err := conn.Read(buf[n:])
			if err != nil {
				return false
			}
			n += m
		}
		return true
	}
	for {
		end := bytes.Index(buf[:n], headerEnd)
		for end < 0 {
			if !fill(n + 1) {
				return
			}
			end = bytes.Index(buf[:n], headerEnd)
		}
		head := buf[:end]
		size := 0
		if i := bytes.Index(head, contentLength); i >= 0 {
			for _, c := range head[i+len(contentLength):] {
				if c < '0' || c > '9' {
					break
				}
				size = size*10 + int(c-'0')
			}
		}
		total := end + len(headerEnd) + size
		if !fill(total) {
			return
		}
		line := head[:bytes.IndexByte(head, '\r')]   // METHOD /path?query HTTP/1.1
		line = line[:bytes.LastIndexByte(line, ' ')] // METHOD /path?query
		if q := bytes.IndexByte(line, '?'); q >= 0 {
			line = line[:q]
		}
		answer, ok := s.answers[string(line)]
		if !ok {
			answer = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
		}
		if _, err := conn.Write(answer); err != nil {
			return
		}
		n = copy(buf, buf[total:n])
	}
}

// cannedAnswer is an HTTP response with a JSON body.
func cannedAnswer(status int, body string) []byte {
	return []byte(fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(body), body))
}

// TestAllocationsPerCall guards what the README's Performance section
// reports: the allocations of a Create, Fetch, Update, TOTP factor Create
// and the two calls of a passkey login over the SDK's own pool, the same
// calls as the bench module's. Each bound
// is the count measured when it was set plus a little room (Go releases
// move net/http's share by one or two); a change that goes past it should
// say so, with a bench run, in its own commit.
func TestAllocationsPerCall(t *testing.T) {
	if raceEnabled {
		t.Skip("under the race detector sync.Pool drops items at random, so counts vary")
	}
	factorsPath := "/v2/Services/" + testService + "/Entities/" + testIdentity + "/Factors"
	srv := newCannedServer(t, map[string][]byte{
		"POST " + listPath:                       cannedAnswer(201, golden(t, "create_push.json")),
		"GET " + listPath + "/" + testChallenge:  cannedAnswer(200, golden(t, "fetch.json")),
		"POST " + listPath + "/" + testChallenge: cannedAnswer(200, golden(t, "update_push.json")),
		"POST " + factorsPath:                    cannedAnswer(201, golden(t, "factor_create_totp.json")),
		"POST " + pathPasskeyChallenge:           cannedAnswer(201, golden(t, "passkey_challenge_create.json")),
		"POST " + pathPasskeyApprove:             cannedAnswer(200, golden(t, "passkey_challenge_approve.json")),
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL("http://"+srv.ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		max  float64 // allocations per call
		call func() error
	}{
		{"Create", 129 + 4, func() error {
			_, err := c.Challenges.Create(ctx, testService, testIdentity, &CreateChallengeParams{
				FactorSID: testFactor,
				Details: &Details{Message: "Log in to Example Corp?",
					Fields: []Field{{Label: "Location", Value: "Lyon, FR"}, {Label: "IP", Value: "203.0.113.7"}}},
				HiddenDetails: NewSecretMap(map[string]string{"session": "web-42"}),
			})
			return err
		}},
		{"Fetch", 99 + 4, func() error {
			_, err := c.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
			return err
		}},
		{"Update", 118 + 4, func() error {
			_, err := c.Challenges.Update(ctx, testService, testIdentity, testChallenge, &UpdateChallengeParams{AuthPayload: NewSecret("123456")})
			return err
		}},
		{"Factor Create", 108 + 4, func() error {
			_, err := c.Factors.CreateTOTP(ctx, testService, testIdentity, &CreateTOTPFactorParams{FriendlyName: "Ada's phone"})
			return err
		}},
		{"Passkey CreateChallenge", 104 + 4, func() error {
			_, err := c.Passkeys.CreateChallenge(ctx, testService, nil)
			return err
		}},
		{"Passkey ApproveChallenge", 106 + 4, func() error {
			_, err := c.Passkeys.ApproveChallenge(ctx, testService, passkeyAssertion)
			return err
		}},
	} {
		if err := tc.call(); err != nil { // and the connection is open
			t.Fatalf("%s: %v", tc.name, err)
		}
		allocs := testing.AllocsPerRun(200, func() {
			if err := tc.call(); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		})
		t.Logf("%s: %.0f allocations per call (bound %.0f)", tc.name, allocs, tc.max)
		if allocs > tc.max {
			t.Errorf("%s: %.0f allocations per call, more than %.0f", tc.name, allocs, tc.max)
		}
	}
}
