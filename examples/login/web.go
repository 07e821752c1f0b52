package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	verify "github.com/verifykit/verify-go"
)

// webFiles are the pages and their script, style and icon: plain HTML,
// CSS and JavaScript, no framework and no build step. The script comes
// as a file, never inline, so that the Content-Security-Policy can forbid
// inline scripts: an injected <script> does not run.
//
//go:embed web
var webFiles embed.FS

// contentSecurityPolicy allows the pages this origin's scripts, styles,
// images (the QR code) and fetches, and nothing else: no inline script or
// style, no plugins, no framing by another site, no form posted elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets, on every answer of the web endpoints, the
// Content-Security-Policy and the headers that keep a browser from
// guessing content types, framing the pages or sending their URLs to
// other sites.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// The steps of a visitor, as GET /session names them and the pages use
// them.
const (
	stepSignedOut    = "signed-out"    // no session: the sign-in page
	stepSecondFactor = "second-factor" // past the password, with a factor to log in with
	stepEnroll       = "enroll"        // past the password, without a factor: enrolls a first one
	stepSignedIn     = "signed-in"     // past both steps
)

// sessionState is the answer to GET /session: what the pages need to know
// of the visitor's session, and nothing secret (no SIDs, no identity, the
// phone number's last two digits only).
type sessionState struct {
	Step        string    `json:"step"`
	User        string    `json:"user,omitempty"`
	Factors     factorSet `json:"factors"`
	PhoneEnding string    `json:"phone_ending,omitempty"`
	// Passkeys tells the pages to show their passkey buttons: the server
	// serves passkeys (-passkey-origin) and the page was reached at that
	// origin's host, the only one where the browser will use them.
	Passkeys bool `json:"passkeys"`
}

// factorSet says which kinds of second factor a user has.
type factorSet struct {
	Push bool `json:"push"`
	TOTP bool `json:"totp"`
	SMS  bool `json:"sms"`
	// Passkeys is how many passkeys the user has registered.
	Passkeys int `json:"passkeys"`
}

// state is the session state of r's visitor.
func (a *app) state(r *http.Request) sessionState {
	st := sessionState{Step: stepSignedOut, Passkeys: a.passkeys && strings.EqualFold(r.Host, a.passkeyHost)}
	_, sess, ok := a.sessions.lookup(r)
	if !ok {
		return st
	}
	f := a.users.factors(sess.user)
	st.User = sess.user.name
	st.Factors = factorSet{Push: f.push != "", TOTP: f.totp != "", SMS: f.phone != "", Passkeys: len(f.passkeys)}
	if len(f.phone) > 2 {
		st.PhoneEnding = f.phone[len(f.phone)-2:]
	}
	switch {
	case sess.loggedIn:
		st.Step = stepSignedIn
	case f.none():
		st.Step = stepEnroll
	default:
		st.Step = stepSecondFactor
	}
	return st
}

// sessionInfo answers GET /session with the visitor's sessionState.
func (a *app) sessionInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, a.state(r))
}

// page serves the HTML file name to a visitor at one of the steps in
// serve, and sends the others where their step belongs: the sign-in page,
// the second factor or the account.
func (a *app) page(name string, serve ...string) http.HandlerFunc {
	body, err := fs.ReadFile(webFiles, "web/"+name)
	if err != nil {
		panic("login: the embedded page " + name + " is missing") // a build without it is broken
	}
	home := map[string]string{
		stepSignedOut: "/", stepSecondFactor: "/second-factor", stepEnroll: "/account", stepSignedIn: "/account",
	}
	return func(w http.ResponseWriter, r *http.Request) {
		step := a.state(r).Step
		for _, s := range serve {
			if s == step {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Header().Set("Cache-Control", "no-store") // which page shows depends on the session
				_, _ = w.Write(body)
				return
			}
		}
		http.Redirect(w, r, home[step], http.StatusSeeOther)
	}
}

// static serves the pages' script, style and icon under /static/, and no
// directory listing.
func static() http.Handler {
	sub, err := fs.Sub(webFiles, "web/static")
	if err != nil {
		panic(err) // fs.Sub fails only on a malformed name
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache") // revalidated, so a new version shows at once
		files.ServeHTTP(w, r)
	})
}

// loginPushStream is POST /login/push for a web page: the same push, with
// the same limits, answered as a stream of server-sent events while it
// happens: "sent" once the prompt is on the phone (with "expires_in", in
// seconds), then one of "approved", "denied", "expired" or "error" (with
// "message"). A push refused before it is sent is answered as
// /login/push answers it. A response whose headers are already sent
// cannot set a cookie, so "approved" only marks the session, and the page
// then POSTs /login/push/finish, which logs that session in under a new
// cookie.
func (a *app) loginPushStream(w http.ResponseWriter, r *http.Request) {
	a.push(w, r, &streamPush{a: a})
}

// streamPush tells a push as server-sent events.
type streamPush struct {
	a       *app
	started bool // the event stream's headers are sent
}

// pushEvent is the data of an event of /login/push/stream.
type pushEvent struct {
	ExpiresIn int    `json:"expires_in,omitempty"` // sent: seconds the login waits for the phone
	Next      string `json:"next,omitempty"`       // approved: where to POST to log in
	Message   string `json:"message,omitempty"`    // error: what went wrong
}

func (s *streamPush) sent(w http.ResponseWriter, _ *verify.Challenge) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a buffering proxy in front would hold the events back
	w.WriteHeader(http.StatusOK)
	s.started = true
	s.event(w, "sent", pushEvent{ExpiresIn: int(s.a.pushTimeout.Seconds())})
}

func (s *streamPush) approved(w http.ResponseWriter, id string) {
	if !s.a.sessions.update(id, func(p *session) { p.pushApproved = true }) {
		s.event(w, "error", pushEvent{Message: "your session ended; log in with your password again"})
		return
	}
	s.event(w, "approved", pushEvent{Next: "/login/push/finish"})
}

func (s *streamPush) answered(w http.ResponseWriter, status verify.ChallengeStatus) {
	switch status {
	case verify.StatusDenied:
		s.event(w, "denied", pushEvent{})
	case verify.StatusExpired:
		s.event(w, "expired", pushEvent{})
	default:
		s.event(w, "error", pushEvent{Message: "push " + string(status)})
	}
}

func (s *streamPush) failed(w http.ResponseWriter, r *http.Request, err error) {
	if !s.started { // nothing was sent: answer as /login/push does
		s.a.fail(w, r, err)
		return
	}
	switch _, msg := s.a.failure(r, err); {
	case r.Context().Err() != nil: // the page went away: nobody to tell
	case msg == errTimedOut:
		s.event(w, "expired", pushEvent{})
	default:
		s.event(w, "error", pushEvent{Message: msg})
	}
}

// event writes one server-sent event and flushes it to the page, starting
// the stream if the headers are not sent yet.
func (s *streamPush) event(w http.ResponseWriter, name string, data pushEvent) {
	if !s.started {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		s.started = true
	}
	b, _ := json.Marshal(data) // strings and ints only: never fails
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
	_ = http.NewResponseController(w).Flush()
}

// loginPushFinish logs in the session whose push the phone approved on
// /login/push/stream, under a new session cookie.
func (a *app) loginPushFinish(w http.ResponseWriter, r *http.Request) {
	id, sess, ok := a.sessions.lookup(r)
	switch {
	case !ok:
		http.Error(w, "log in with your password first", http.StatusUnauthorized)
	case !sess.pushApproved:
		http.Error(w, "no push was approved in this session", http.StatusUnauthorized)
	default:
		a.loggedIn(w, id)
	}
}
