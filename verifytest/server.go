// Package verifytest is an in-process, stateful fake of the Verify v2 API's
// Services, Verifications and VerificationCheck, Challenge, enrollment
// (entities, factors, access tokens, webhooks) and Passkeys endpoints, for testing code
// that uses package verify without a Twilio account or hand-written HTTP
// mocks.
//
//	srv := verifytest.NewServer()
//	defer srv.Close()
//	client := srv.Client()
//	f, _ := srv.NewTOTPFactor(srv.ServiceSID(), "user-0001", nil)
//	ch, _ := client.Challenges.Create(ctx, srv.ServiceSID(), "user-0001",
//		&verify.CreateChallengeParams{FactorSID: f.SID, AuthPayload: f.Code()})
//
// It checks credentials, validates parameters with the API's limits, keeps
// services (whose settings shape codes and new TOTP factors), entities,
// factors, challenges, access tokens, webhooks and verifications, answers
// with Twilio's error JSON, and runs on a clock that tests can move
// forward. The codes it "sends" by SMS, call, email or WhatsApp land in its
// outbox (Outbox, LastCode), where a test reads what the user would. A simulated phone (Device) enrolls push factors with access
// tokens and answers challenges as the Verify Push SDKs do; an
// Authenticator registers passkeys and signs in as a browser does. Challenge
// answers and factor changes are delivered to the registered webhooks,
// signed with the auth token as Twilio signs them (see WebhookURL,
// WaitForDeliveries and Deliveries).
package verifytest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	verify "github.com/verifykit/verify-go"
)

// Server is a running fake of the Verify API on a loopback port.
// It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, for verify.WithBaseURL.
	URL string

	addr       string         // WithAddr
	listeners  []net.Listener // WithListener; more than one is refused
	ts         *httptest.Server
	api        http.Handler
	accountSID string
	authToken  string
	devices    *deviceHTTP // the simulated phones' own HTTP client
	hooks      *deliverer  // sends events to webhooks, with its own HTTP client

	policy         DeliveryPolicy // WithDeliveryPolicy
	jsonDeliveries bool           // WithJSONDeliveries
	deliveryLog    *slog.Logger   // WithDeliveryLogger; nil: silent
	messageLog     *slog.Logger   // WithMessageLogger; nil: silent

	mu         sync.Mutex
	clock      func() time.Time
	offset     time.Duration
	services   map[string]*service
	tokens     map[string]*accessToken // every access token, by its secret
	defaultSvc string
	seq        int64 // creation order of services, entities, factors and challenges
	faults     faults
	outbox     []Message // the messages sent, oldest first
}

// Option configures NewServer.
type Option func(*Server)

// WithClock makes the server read time from now instead of time.Now.
// Advance still moves it forward. Every response's Date header carries this
// clock (Now), as Challenges.Wait expects of the server it polls.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.clock = now }
}

// WithCredentials sets the account SID and auth token the server accepts,
// instead of generated ones.
func WithCredentials(accountSID, authToken string) Option {
	return func(s *Server) { s.accountSID, s.authToken = accountSID, authToken }
}

// WithAddr listens on addr (a loopback host:port such as 127.0.0.1:4010)
// instead of a random port; NewServer panics if it cannot listen there.
// To handle a busy port without a panic, listen yourself and pass the
// listener to WithListener.
func WithAddr(addr string) Option {
	return func(s *Server) { s.addr = addr }
}

// WithListener serves on l instead of a port of the server's choosing: a
// TCP listener on a loopback address, such as one from
// net.Listen("tcp", "127.0.0.1:4010"), so that the caller handles a busy
// port or a wrong address itself. The server takes ownership of l: Close
// closes it, and so does NewServer when it refuses it. NewServer panics if
// l is not a TCP listener on a loopback address, or with WithAddr or a
// second WithListener as well.
func WithListener(l net.Listener) Option {
	return func(s *Server) { s.listeners = append(s.listeners, l) }
}

// NewServer starts a fake with one service (ServiceSID, named
// "verifytest") and fresh credentials. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		accountSID: newSID("AC"),
		authToken:  randomHex(16),
		clock:      time.Now,
		services:   map[string]*service{},
		tokens:     map[string]*accessToken{},
	}
	for _, opt := range opts {
		opt(s)
	}
	l, err := s.listen()
	if err != nil {
		panic("verifytest: " + err.Error())
	}
	s.hooks = newDeliverer(s.authToken, s.jsonDeliveries, s.policy, s.Now)
	s.hooks.log = s.deliveryLog
	s.defaultSvc = s.NewService()
	s.devices = newDeviceHTTP()
	s.api = s.routes()
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if l != nil {
		_ = s.ts.Listener.Close()
		s.ts.Listener = l
	}
	// URL is set before serving starts: handlers read it, and a request from
	// another process has no other ordering with this goroutine.
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.ts.Start()
	return s
}

// listen returns the listener WithAddr or WithListener asks for, checked to
// be on loopback, or nil for a random port. On an error it has closed every
// listener it was given.
func (s *Server) listen() (net.Listener, error) {
	refuse := func(format string, args ...any) (net.Listener, error) {
		for _, l := range s.listeners {
			_ = l.Close()
		}
		return nil, fmt.Errorf(format, args...)
	}
	switch {
	case len(s.listeners) > 1:
		return refuse("WithListener given %d times; give one listener", len(s.listeners))
	case len(s.listeners) == 1 && s.addr != "":
		return refuse("WithListener and WithAddr(%q) are exclusive; give one", s.addr)
	case len(s.listeners) == 1:
		l := s.listeners[0]
		if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			return refuse("WithListener needs a TCP listener on a loopback address, not %s %s", l.Addr().Network(), l.Addr())
		}
		return l, nil
	case s.addr != "":
		host, _, err := net.SplitHostPort(s.addr)
		ip := net.ParseIP(host)
		if err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return nil, fmt.Errorf("WithAddr needs a loopback host:port, not %s", s.addr)
		}
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", s.addr, err)
		}
		return l, nil
	}
	return nil, nil
}

// Close shuts the server down and closes its connections. Webhook
// deliveries still queued are dropped, not flushed: an attempt in flight is
// cancelled, no retry follows, and every delivery goroutine has ended when
// Close returns. Call WaitForDeliveries first to let them finish.
func (s *Server) Close() {
	s.ts.Close()
	s.hooks.close()
	s.devices.transport.CloseIdleConnections()
}

// AccountSID is the account SID the server accepts.
func (s *Server) AccountSID() string { return s.accountSID }

// AuthToken is the auth token the server accepts.
func (s *Server) AuthToken() string { return s.authToken }

// ServiceSID is the Verify service created with the server. Services.Delete
// can delete it like any other; the helpers then refuse it as unknown.
func (s *Server) ServiceSID() string { return s.defaultSvc }

// Client returns a verify.Client pointed at the server with its
// credentials; opts are applied after those. It panics if opts are invalid,
// like a test helper that cannot go on.
func (s *Server) Client(opts ...verify.Option) *verify.Client {
	base := []verify.Option{
		verify.WithCredentials(s.accountSID, s.authToken),
		verify.WithBaseURL(s.URL),
		verify.WithRetryWait(5*time.Millisecond, 50*time.Millisecond),
	}
	c, err := verify.NewClient(append(base, opts...)...)
	if err != nil {
		panic("verifytest: Client: " + err.Error())
	}
	return c
}

// Now is the server's current time: its clock plus every Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time { return s.clock().Add(s.offset).UTC() }

// Advance moves the server's clock forward by d, so challenges expire
// without the test sleeping.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

func newSID(prefix string) string { return prefix + randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("verifytest: reading random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}

// routes maps the endpoints onto handlers, each behind the credentials
// that may call it (see scope).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, sc scope, h http.HandlerFunc) { mux.HandleFunc(pattern, s.guard(sc, h)) }
	const (
		svc      = "/v2/Services/{service}"
		entity   = svc + "/Entities/{identity}"
		factors  = entity + "/Factors"
		chs      = entity + "/Challenges"
		webhooks = svc + "/Webhooks"
		vs       = svc + "/Verifications"
	)
	handle("POST /v2/Services", accountOnly, formHandler(s, http.StatusCreated, parseServiceCreate, s.createService))
	handle("GET /v2/Services", accountOnly, listHandler(s, "services", s.servicesOf, s.serviceWire))
	handle("GET "+svc, accountOnly, fetchHandler(s, s.serviceFor, s.serviceWire))
	handle("POST "+svc, accountOnly, formHandler(s, http.StatusOK, parseServiceUpdate, s.patchService))
	handle("DELETE "+svc, accountOnly, deleteHandler(s, s.serviceFor, s.removeService))

	handle("POST "+vs, accountOnly, formHandler(s, http.StatusCreated, parseVerification, s.createVerification))
	handle("GET "+vs+"/{sid}", accountOnly, fetchHandler(s, s.verificationFor, s.verificationWire))
	handle("POST "+vs+"/{sid}", accountOnly, formHandler(s, http.StatusOK, parseVerificationUpdate, s.patchVerification))
	handle("POST "+svc+"/VerificationCheck", accountOnly, formHandler(s, http.StatusOK, parseVerificationCheck, s.checkVerification))

	handle("POST "+svc+"/Passkeys/Factors", accountOnly, s.handleCreatePasskeyFactor)
	handle("POST "+svc+"/Passkeys/VerifyFactor", accountOnly, s.handleVerifyPasskeyFactor)
	handle("POST "+svc+"/Passkeys/Challenges", accountOnly, s.handleCreatePasskeyChallenge)
	handle("POST "+svc+"/Passkeys/ApproveChallenge", accountOnly, s.handleApprovePasskeyChallenge)

	handle("POST "+svc+"/Entities", accountOnly, formHandler(s, http.StatusCreated, parseEntity, s.createEntity))
	handle("GET "+svc+"/Entities", accountOnly, listHandler(s, "entities", s.entitiesOf, s.entityWire))
	handle("GET "+entity, accountOnly, fetchHandler(s, s.entityFor, s.entityWire))
	handle("DELETE "+entity, accountOnly, deleteHandler(s, s.entityFor, s.removeEntity))

	handle("POST "+factors, enrollment, formHandler(s, http.StatusCreated, parseFactor, s.createFactor))
	handle("GET "+factors, accountOnly, listHandler(s, "factors", s.factorsOf, s.factorWire))
	handle("GET "+factors+"/{sid}", ownFactor, fetchHandler(s, s.factorFor, s.factorWire))
	handle("POST "+factors+"/{sid}", ownFactor, formHandler(s, http.StatusOK, parseFactorUpdate, s.patchFactor))
	handle("DELETE "+factors+"/{sid}", ownFactor, deleteHandler(s, s.factorFor, s.removeFactor))

	handle("POST "+chs, accountOnly, s.handleCreate)
	handle("GET "+chs, accountOnly, listHandler(s, "challenges", s.challengesOf, s.challengeWire, "FactorSid", "Status", "Order"))
	handle("GET "+chs+"/{sid}", ownChallenge, s.handleFetch)
	handle("POST "+chs+"/{sid}", ownChallenge, s.handleUpdate)
	handle("POST "+chs+"/{sid}/Notifications", accountOnly, s.handleNotify)

	handle("POST "+svc+"/AccessTokens", accountOnly, formHandler(s, http.StatusCreated, parseAccessToken, s.createAccessToken))
	handle("GET "+svc+"/AccessTokens/{sid}", accountOnly, fetchHandler(s, s.accessTokenFor, s.accessTokenWire))

	handle("POST "+webhooks, accountOnly, formHandler(s, http.StatusCreated, parseWebhook, s.createWebhook))
	handle("GET "+webhooks, accountOnly, listHandler(s, "webhooks", s.webhooksOf, s.webhookWire))
	handle("GET "+webhooks+"/{sid}", accountOnly, fetchHandler(s, s.webhookFor, s.webhookWire))
	handle("POST "+webhooks+"/{sid}", accountOnly, formHandler(s, http.StatusOK, checkedWebhookUpdate, s.patchWebhook))
	handle("DELETE "+webhooks+"/{sid}", accountOnly, deleteHandler(s, s.webhookFor, s.removeWebhook))

	handle("/", accountOnly, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, codeNotFound, "The requested resource "+r.URL.Path+" was not found")
	})
	return mux
}

// serve is the server's entry point: request id and Date, queued faults,
// then the API. Date is the fake's clock (Now), not the machine's, since
// clients such as Challenges.Wait judge expiry on the server's clock from it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Twilio-Request-Id", newSID("RQ"))
	w.Header().Set("Date", s.Now().Format(http.TimeFormat))
	if s.injectFault(w, r) {
		return
	}
	s.api.ServeHTTP(w, r)
}
