package verify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file proves the retry and failure rules over real TCP: a loopback
// server that misbehaves on purpose, one request per connection.

// rawServer speaks just enough HTTP/1.1 to fail in the ways networks do.
type rawServer struct {
	t        *testing.T
	ln       net.Listener
	url      string
	handle   func(conn net.Conn, req *http.Request)
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	accepted int             // connections accepted
	reqs     []*http.Request // every request fully read, in order
}

func newRawServer(t *testing.T, host string, handle func(net.Conn, *http.Request)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{t: t, ln: ln, url: "http://" + ln.Addr().String(), handle: handle, done: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.accepted++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			s.mu.Lock()
			s.reqs = append(s.reqs, req)
			s.mu.Unlock()
			s.handle(conn, req)
		}()
	}
}

func (s *rawServer) close() {
	close(s.done)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// connections is how many connections the server accepted.
func (s *rawServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// count is how many requests matching target the server read.
func (s *rawServer) count(target func(*http.Request) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if target(r) {
			n++
		}
	}
	return n
}

func writeRaw(conn net.Conn, status int, header, body string) {
	fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n%s",
		status, http.StatusText(status), len(body), header, body)
}

const jsonHeader = "Content-Type: application/json\r\nTwilio-Request-Id: RQ11111111111111111111111111111111\r\n"

// Secrets that must never show up in an error or a log record.
const (
	secretTOTP   = "Q7Z9K2X"
	secretJWT    = "eyJhbGciOiJFUzI1NiJ9.SECRET-PUSH-PAYLOAD.c2ln"
	secretHidden = "HIDDEN-VALUE-4f2a"
)

// socketOp is an SDK call and how to recognise its request on the wire.
type socketOp struct {
	name     string
	post     bool
	noBody   bool // a DELETE: any 2xx is the whole answer, its body unread
	isTarget func(*http.Request) bool
	success  func(t *testing.T, srv *rawServer) string // body of a good answer
	call     func(ctx context.Context, c *Client) error
}

func socketOps() []socketOp {
	onePath := listPath + "/" + testChallenge
	return []socketOp{
		{name: "Create", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == listPath },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "create_push.json") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Create(ctx, testService, testIdentity, &CreateChallengeParams{
					FactorSID: testFactor, AuthPayload: NewSecret(secretTOTP), HiddenDetails: NewSecretMap(map[string]string{"ip": secretHidden}),
				})
				return err
			}},
		{name: "Update", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == onePath },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "update_push.json") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Update(ctx, testService, testIdentity, testChallenge, &UpdateChallengeParams{
					AuthPayload: NewSecret(secretJWT), Metadata: map[string]string{"os": secretHidden},
				})
				return err
			}},
		{name: "Notify", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == onePath+"/Notifications" },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "notification.json") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Notify(ctx, testService, testIdentity, testChallenge, &NotifyParams{TTL: Ptr(time.Duration(0))})
				return err
			}},
		{name: "Fetch",
			isTarget: func(r *http.Request) bool { return r.Method == "GET" && r.URL.Path == onePath },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "fetch.json") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Challenges.Fetch(ctx, testService, testIdentity, testChallenge)
				return err
			}},
		{name: "ListPage2",
			isTarget: func(r *http.Request) bool { return r.Method == "GET" && r.URL.Query().Get("PageToken") == "PT2" },
			success:  func(*testing.T, *rawServer) string { return pageBody(2, 1, "") },
			call: func(ctx context.Context, c *Client) error {
				for _, err := range c.Challenges.List(ctx, testService, testIdentity, nil) {
					if err != nil {
						return err
					}
				}
				return nil
			}},
		// Enrollment: answers that carry the binding secret and the access
		// token, a request that carries a factor's first code, and a DELETE.
		{name: "CreateTOTP", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == pathFactors },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "factor_create_totp.json") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Factors.CreateTOTP(ctx, testService, testIdentity, &CreateTOTPFactorParams{
					FriendlyName: "Ada's phone", Secret: NewSecret(goldenBindingSecret), Metadata: map[string]string{"os": secretHidden},
				})
				return err
			}},
		{name: "AccessTokenCreate", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == pathTokens },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "access_token.json") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.AccessTokens.Create(ctx, testService, testIdentity, &CreateAccessTokenParams{TTL: 5 * time.Minute})
				return err
			}},
		{name: "FactorVerify", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == pathFactor },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "factor_verify_totp.json") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Factors.Verify(ctx, testService, testIdentity, testFactor, &VerifyFactorParams{AuthPayload: NewSecret(secretTOTP)})
				return err
			}},
		// Verifications: a Create that sends a message and carries a custom
		// code, and a check that uses up an attempt and carries the code.
		{name: "VerificationCreate", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == pathVerifications },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "verification.json") },
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.Verifications.Create(ctx, testService, &CreateVerificationParams{To: testPhone, Channel: ChannelSMS,
					CustomCode: NewSecret(secretCustom), CustomMessage: NewSecret(secretMessage)}))
			}},
		{name: "VerificationCheck", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == pathCheck },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "verification_check.json") },
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.VerificationChecks.Create(ctx, testService, &CheckVerificationParams{To: testPhone, Code: NewSecret(secretCode)}))
			}},
		// Passkeys: JSON bodies, one that carries a credential.
		{name: "PasskeyCreateFactor", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == pathPasskeyFactors },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "passkey_factor_create.json") },
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.Passkeys.CreateFactor(ctx, testService, &CreatePasskeyFactorParams{Identity: testIdentity, FriendlyName: "laptop"}))
			}},
		{name: "PasskeyApproveChallenge", post: true,
			isTarget: func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == pathPasskeyApprove },
			success:  func(t *testing.T, _ *rawServer) string { return golden(t, "passkey_challenge_approve.json") },
			call: func(ctx context.Context, c *Client) error {
				return errOf(c.Passkeys.ApproveChallenge(ctx, testService, passkeyAssertion))
			}},
		{name: "EntityDelete", noBody: true,
			isTarget: func(r *http.Request) bool { return r.Method == "DELETE" && r.URL.Path == pathEntity },
			success:  func(*testing.T, *rawServer) string { return "" },
			call: func(ctx context.Context, c *Client) error {
				return c.Entities.Delete(ctx, testService, testIdentity)
			}},
	}
}

// truncated is a success body cut just after the last secret it carries,
// so the client has read the secret when the failure comes; a body without
// one is cut in half.
func truncated(body string) string {
	end := len(body) / 2
	for _, secret := range []string{goldenBindingSecret, goldenAccessToken} {
		if i := strings.LastIndex(body, secret); i >= 0 {
			end = max(end, i+len(secret))
		}
	}
	return body[:end]
}

// faultCase is one misbehaviour and what the caller must see.
type faultCase struct {
	name  string
	serve func(conn net.Conn, n int, srv *rawServer, op socketOp) // n: 1-based count of target requests
	opts  []Option
	// hits is how many target requests the server may read; check judges the error.
	hits  func(op socketOp) int
	check func(t *testing.T, op socketOp, err error)
	slack time.Duration // extra time allowed beyond the retry settings
	// answered: the server sent a 2xx status, so a DELETE is done (nil,
	// one request) whatever follows it.
	answered bool
}

const (
	faultRetries = 2
	faultTimeout = time.Second // room for a loaded machine: a healthy loopback answer takes microseconds
	faultMaxWait = 40 * time.Millisecond
)

func faultCases(foreign *rawServer) []faultCase {
	retried := func(op socketOp) int {
		if op.post {
			return 1
		}
		return faultRetries + 1
	}
	always := func(socketOp) int { return faultRetries + 1 }
	apiStatus := func(status int) func(*testing.T, socketOp, error) {
		return func(t *testing.T, op socketOp, err error) {
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != status {
				t.Fatalf("err = %v, want *APIError %d", err, status)
			}
			if got, want := errors.Is(err, ErrOutcomeUnknown), op.post && status >= 500; got != want {
				t.Errorf("ErrOutcomeUnknown = %v, want %v", got, want)
			}
		}
	}
	unknownForPOST := func(t *testing.T, op socketOp, err error) {
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) {
			t.Fatalf("err = %v, want a transport error", err)
		}
		if errors.Is(err, ErrOutcomeUnknown) != op.post {
			t.Errorf("ErrOutcomeUnknown = %v for %s: %v", !op.post, op.name, err)
		}
	}
	return []faultCase{
		{name: "closed before response", hits: retried, check: unknownForPOST,
			serve: func(net.Conn, int, *rawServer, socketOp) {}},
		{name: "reset after request", hits: retried, check: unknownForPOST,
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) { _ = conn.(*net.TCPConn).SetLinger(0) }},
		{name: "stalled body", hits: retried, check: unknownForPOST, answered: true,
			serve: func(conn net.Conn, _ int, srv *rawServer, op socketOp) {
				part := truncated(op.success(srv.t, srv))
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s", len(part)+1000, jsonHeader, part)
				_, _ = conn.Read(make([]byte, 1)) // until the client gives up and closes
			}},
		{name: "body cut mid-JSON", hits: retried, check: unknownForPOST, answered: true,
			serve: func(conn net.Conn, _ int, srv *rawServer, op socketOp) {
				part := truncated(op.success(srv.t, srv))
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s", len(part)+1000, jsonHeader, part)
			}},
		{name: "502 HTML", hits: retried, check: apiStatus(502),
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
				writeRaw(conn, 502, "Content-Type: text/html\r\n", "<html><body><h1>502 Bad Gateway</h1></body></html>")
			}},
		{name: "200 invalid JSON", hits: once, answered: true,
			check: func(t *testing.T, op socketOp, err error) {
				if !errors.Is(err, ErrInvalidResponse) || errors.Is(err, ErrOutcomeUnknown) != op.post {
					t.Fatalf("err = %v, want ErrInvalidResponse (and ErrOutcomeUnknown for a POST)", err)
				}
			},
			serve: func(conn net.Conn, _ int, srv *rawServer, op socketOp) {
				writeRaw(conn, 200, jsonHeader, truncated(op.success(srv.t, srv))+`, "status": }`)
			}},
		{name: "100 MB body", hits: once, answered: true, // a generous timeout, so the cap and not the clock ends it
			opts: []Option{WithTimeout(20 * time.Second)}, slack: 20 * time.Second,
			check: func(t *testing.T, op socketOp, err error) {
				if !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("err = %v, want ErrResponseTooLarge", err)
				}
			},
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
				// Chunked, written lazily: the client must stop reading at its cap.
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n%s\r\n", jsonHeader)
				fmt.Fprintf(conn, "8\r\n{\"sid\":\"\r\n")
				chunk := bytes.Repeat([]byte("a"), 64<<10)
				for sent := 0; sent < 100<<20; sent += len(chunk) {
					if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
						return
					}
				}
			}},
		{name: "100 MB Content-Length", hits: once, answered: true,
			check: func(t *testing.T, op socketOp, err error) {
				if !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("err = %v, want ErrResponseTooLarge", err)
				}
			},
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n{", 100<<20, jsonHeader)
			}},
		{name: "redirect to another host", hits: once, check: apiStatus(302),
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
				writeRaw(conn, 302, "Location: "+foreign.url+"/steal\r\n", "")
			}},
		{name: "429 Retry-After 0", hits: always, check: apiStatus(429),
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
				writeRaw(conn, 429, jsonHeader+"Retry-After: 0\r\n", `{"code":20429,"message":"Too many requests","status":429}`)
			}},
		{name: "429 Retry-After 2s", hits: func(socketOp) int { return 2 }, check: apiStatus(429),
			opts: []Option{WithMaxRetries(1), WithRetryWait(time.Millisecond, 5*time.Second)}, slack: 5 * time.Second,
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
				writeRaw(conn, 429, jsonHeader+"Retry-After: 2\r\n", `{"code":20429,"message":"Too many requests","status":429}`)
			}},
		finalLimit(60308, "Max check attempts reached"),   // per challenge
		finalLimit(60203, "Max send attempts reached"),    // per number
		finalLimit(60212, "Too many concurrent requests"), // per number
		finalLimit(60202, "Max check attempts reached"),   // per verification
		{name: "429 Retry-After 1h", hits: always, check: apiStatus(429),
			serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
				writeRaw(conn, 429, jsonHeader+"Retry-After: 3600\r\n", `{"code":20429,"message":"Too many requests","status":429}`)
			}},
		{name: "503 three times then success", opts: []Option{WithMaxRetries(3)},
			hits: func(op socketOp) int {
				if op.post {
					return 1
				}
				return 4
			},
			check: func(t *testing.T, op socketOp, err error) {
				if op.post {
					apiStatus(503)(t, op, err)
				} else if err != nil {
					t.Fatalf("GET through three 503s: %v", err)
				}
			},
			serve: func(conn net.Conn, n int, srv *rawServer, op socketOp) {
				if n <= 3 {
					writeRaw(conn, 503, jsonHeader, `{"code":20503,"message":"Service unavailable","status":503}`)
					return
				}
				writeRaw(conn, 200, jsonHeader, op.success(srv.t, srv))
			}},
	}
}

// finalLimit is a 429 that waiting cannot lift: it is read once, never
// retried, and not Temporary, for a POST as for a GET.
func finalLimit(code int, message string) faultCase {
	return faultCase{name: fmt.Sprintf("429 final limit %d", code), hits: once,
		check: func(t *testing.T, op socketOp, err error) {
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.Code != code || apiErr.Temporary() ||
				errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrRateLimited) {
				t.Fatalf("err = %v; want the 429 with code %d, rate limited, not temporary", err, code)
			}
		},
		serve: func(conn net.Conn, _ int, _ *rawServer, _ socketOp) {
			writeRaw(conn, 429, jsonHeader+"Retry-After: 0\r\n", fmt.Sprintf(`{"code":%d,"message":%q,"status":429}`, code, message))
		}}
}

// wantDeleted: a DELETE that got a 2xx is done, whatever its body was.
func wantDeleted(t *testing.T, _ socketOp, err error) {
	if err != nil {
		t.Fatalf("err = %v; a 2xx to a DELETE means it was deleted", err)
	}
}

func once(socketOp) int { return 1 }

// captureLog records every log record the client emits, at every level.
type captureLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *captureLog) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *captureLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// assertNoSecrets fails if any credential or secret value, or a piece of a
// long one, appears in s.
func assertNoSecrets(t *testing.T, where, s string) {
	t.Helper()
	for _, secret := range []string{testToken, "key-secret-value", secretTOTP, secretJWT, "SECRET-PUSH", secretHidden, "Basic ",
		goldenBindingSecret, goldenAccessToken, secretCode, secretCustom, secretMessage, secretSignature} {
		for _, piece := range secretPieces(secret) {
			if strings.Contains(s, piece) {
				t.Errorf("%s holds the secret %q:\n%s", where, piece, s)
				break
			}
		}
	}
}

// secretPieces is the secret and, for a long one, each 16-byte piece of
// it, so that a truncated copy is caught too.
func secretPieces(secret string) []string {
	pieces := []string{secret}
	if len(secret) > 24 {
		for i := 0; i+16 <= len(secret); i += 16 {
			pieces = append(pieces, secret[i:i+16])
		}
	}
	return pieces
}

func TestFaultsOverRealSockets(t *testing.T) {
	t.Parallel()
	foreign := newRawServer(t, "127.0.0.2", func(conn net.Conn, _ *http.Request) { writeRaw(conn, 200, "", "{}") })
	for _, fc := range faultCases(foreign) {
		for _, op := range socketOps() {
			t.Run(op.name+"/"+fc.name, func(t *testing.T) {
				t.Parallel()
				var srv *rawServer
				var mu sync.Mutex
				n := 0
				srv = newRawServer(t, "127.0.0.1", func(conn net.Conn, req *http.Request) {
					if !op.isTarget(req) { // List's first page, pointing at page 2
						writeRaw(conn, 200, jsonHeader, pageBody(0, 2, srv.url+listPath+"?PageToken=PT2"))
						return
					}
					mu.Lock()
					n++
					k := n
					mu.Unlock()
					fc.serve(conn, k, srv, op)
				})
				logs := &captureLog{}
				creds := WithCredentials(testAccount, testToken)
				if op.post {
					creds = WithAPIKey(testAccount, "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "key-secret-value")
				}
				opts := append([]Option{
					creds, WithBaseURL(srv.url),
					WithMaxRetries(faultRetries), WithRetryWait(5*time.Millisecond, faultMaxWait), WithTimeout(faultTimeout),
					WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
				}, fc.opts...)
				c, err := NewClient(opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseIdleConnections()

				start := time.Now()
				err = op.call(context.Background(), c)
				elapsed := time.Since(start)

				check, hits := fc.check, fc.hits
				if op.noBody && fc.answered {
					check, hits = wantDeleted, once
				}
				check(t, op, err)
				if got, want := srv.count(op.isTarget), hits(op); got != want {
					t.Errorf("server read %d requests, want %d", got, want)
				}
				bound := (faultRetries+2)*faultTimeout + (faultRetries+1)*faultMaxWait + 2*time.Second + fc.slack
				if elapsed > bound {
					t.Errorf("took %v, beyond the retry settings' bound %v", elapsed, bound)
				}
				if err != nil {
					assertNoSecrets(t, "error", err.Error())
				}
				assertNoSecrets(t, "log", logs.String())
			})
		}
	}
	t.Cleanup(func() {
		if n := foreign.connections(); n != 0 {
			t.Errorf("the redirect target received %d connections", n)
		}
	})
}

func TestRetryAfterTwoSecondsIsWaited(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var times []time.Time
	srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			writeRaw(conn, 429, jsonHeader+"Retry-After: 2\r\n", `{"code":20429,"message":"slow down","status":429}`)
			return
		}
		writeRaw(conn, 201, jsonHeader, `{"sid":"`+testChallenge+`","status":"pending"}`)
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url), WithRetryWait(time.Millisecond, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Challenges.Create(context.Background(), testService, testIdentity, &CreateChallengeParams{FactorSID: testFactor}); err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 || times[1].Sub(times[0]) < 2*time.Second {
		t.Errorf("requests at %v; want the retry 2 s after the 429", times)
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, op := range socketOps() {
		c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL("http://"+addr),
			WithMaxRetries(faultRetries), WithRetryWait(5*time.Millisecond, faultMaxWait))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = op.call(context.Background(), c)
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("%s: err = %v, want a dial error that is not outcome-unknown", op.name, err)
		}
		if !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: err = %v, want it to say the connection was refused", op.name, err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("%s: took %v", op.name, elapsed)
		}
		assertNoSecrets(t, "error", err.Error())
	}
}

// TestRateLimitBeyondTheDeadlineOverRealSockets: a 429 whose Retry-After
// ends after the caller's deadline comes back at once, with both the
// deadline and the server's answer in the error.
func TestRateLimitBeyondTheDeadlineOverRealSockets(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
		writeRaw(conn, 429, jsonHeader+"Retry-After: 5\r\n", `{"code":20429,"message":"Too many requests","status":429}`)
	})
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url), WithRetryWait(time.Millisecond, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for _, op := range socketOps()[:4] { // Create, Update, Notify, Fetch
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := op.call(ctx, c)
		early := ctx.Err() == nil
		cancel()
		var apiErr *APIError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &apiErr) || apiErr.RequestID == "" || !errors.Is(err, ErrRateLimited) {
			t.Errorf("%s: err = %v; want the deadline and the 429 with its request id", op.name, err)
		}
		if !early {
			t.Errorf("%s: waited for the deadline instead of giving up at once", op.name)
		}
	}
	if n := srv.count(func(*http.Request) bool { return true }); n != 4 {
		t.Errorf("server read %d requests, want one per call (4)", n)
	}
}

// TestDeleteOverRealSockets: with httptrace seeing the real connection, a
// DELETE whose first attempt was reset after the request was written counts
// a 404 on the retry as its own success, while a 429 first proves nothing
// was deleted, so the 404 after it is ErrNotFound.
func TestDeleteOverRealSockets(t *testing.T) {
	t.Parallel()
	notFound := `{"code":20404,"message":"The requested resource was not found","status":404}`
	for _, tc := range []struct {
		name     string
		first    func(conn net.Conn)
		notFound bool
	}{
		{"reset, then 404", func(conn net.Conn) { _ = conn.(*net.TCPConn).SetLinger(0) }, false},
		{"closed, then 404", func(net.Conn) {}, false},
		{"503, then 404", func(conn net.Conn) {
			writeRaw(conn, 503, jsonHeader, `{"code":20503,"message":"Service unavailable","status":503}`)
		}, false},
		{"429, then 404", func(conn net.Conn) {
			writeRaw(conn, 429, jsonHeader+"Retry-After: 0\r\n", `{"code":20429,"message":"Too many requests","status":429}`)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			n := 0
			srv := newRawServer(t, "127.0.0.1", func(conn net.Conn, _ *http.Request) {
				mu.Lock()
				n++
				first := n == 1
				mu.Unlock()
				if first {
					tc.first(conn)
					return
				}
				writeRaw(conn, 404, jsonHeader, notFound)
			})
			c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.url),
				WithRetryWait(5*time.Millisecond, faultMaxWait), WithTimeout(faultTimeout))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			err = c.Factors.Delete(context.Background(), testService, testIdentity, testFactor)
			if tc.notFound != errors.Is(err, ErrNotFound) || !tc.notFound && err != nil {
				t.Errorf("err = %v; want ErrNotFound %v", err, tc.notFound)
			}
			isDelete := func(r *http.Request) bool { return r.Method == "DELETE" && r.URL.Path == pathFactor }
			if got := srv.count(isDelete); got != 2 {
				t.Errorf("server read %d DELETEs of %s, want 2", got, pathFactor)
			}
		})
	}
}

// TestRetriedPostSendsTheSameBody: a POST retried after a 429 sends the
// whole form again, with its Content-Length, not an empty or half-read body,
// and the Host header of the base URL.
func TestRetriedPostSendsTheSameBody(t *testing.T) {
	t.Parallel()
	type received struct {
		body          string
		contentLength int64
		contentType   string
		host          string
	}
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{string(b), r.ContentLength, r.Header.Get("Content-Type"), r.Host})
		first := len(got) == 1
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if first {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"code":20429,"message":"Too many requests","status":429}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, golden(t, "create_push.json"))
	}))
	defer srv.Close()
	c, err := NewClient(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL), WithRetryWait(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	params := &CreateChallengeParams{FactorSID: testFactor, HiddenDetails: NewSecretMap(map[string]string{"ip": "203.0.113.7"}),
		Details: &Details{Message: "Log in to Example Corp?", Fields: []Field{{Label: "Location", Value: "Lyon, FR"}}}}
	if _, err := c.Challenges.Create(context.Background(), testService, testIdentity, params); err != nil {
		t.Fatalf("err = %v, want success on the retry", err)
	}
	want := url.Values{"FactorSid": {testFactor}, "HiddenDetails": {`{"ip":"203.0.113.7"}`},
		"Details.Message": {"Log in to Example Corp?"}, "Details.Fields": {`{"label":"Location","value":"Lyon, FR"}`}}.Encode()
	if len(got) != 2 {
		t.Fatalf("server read %d Creates, want 2", len(got))
	}
	for i, r := range got {
		if r.body != want || r.contentLength != int64(len(want)) || r.contentType != "application/x-www-form-urlencoded" {
			t.Errorf("attempt %d sent %q (Content-Length %d, %s); want %q (%d, a form)", i+1, r.body, r.contentLength, r.contentType, want, len(want))
		}
		if host := srv.Listener.Addr().String(); r.host != host {
			t.Errorf("attempt %d sent Host %q, want %q", i+1, r.host, host)
		}
	}
}
