package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

// NewWebhookHandler returns the http.Handler to register at your webhook URL:
// it verifies each delivery with ParseEvent, calls fn once per event uuid,
// and answers so that Twilio retries only what may succeed later:
//
//	405 not a POST
//	413 body over cfg.MaxBodyBytes, or a form of more than 64 fields
//	403 signature missing or wrong (whatever the body holds)
//	408 the body did not arrive within cfg.BodyReadTimeout
//	400 signed, but not a Verify event (or the body could not be read), or
//	    older than cfg.MaxEventAge (ErrWebhookStale): fn is not called
//	200 a duplicate: fn already succeeded for this uuid
//	500 fn returned an error: Twilio's retry reaches fn again
//	503 the client left while another delivery of the same uuid was
//	    handled, or cfg.Dedup failed: fn is not called
//	204 fn succeeded
//
// A refusal's body is one fixed text per reason (for 403, 413 and 400 the
// sentinel's text, such as "verify: webhook signature invalid"), never the
// detail, which would tell an unsigned sender about the configuration.
//
// Every refused delivery (403, 413, 408, 400; not a 405, which is not
// Twilio's) is passed to cfg.OnReject, if set, with the reason the answer
// leaves out. A refusal closes the connection.
//
// The body is read within cfg.BodyReadTimeout (5 s by default), a read
// deadline set through http.ResponseController; a request without a
// signature, or with a header that is not one, is refused before its body
// is read. Give the http.Server the timeouts of "Server settings" in
// docs/webhooks.md too: the handler runs only once the headers are in.
//
// An event counts as handled only once fn returned nil; if fn panics, the
// event is not handled and the panic goes on to net/http, which drops the
// connection. A delivery whose
// uuid is being handled by another request waits for it, then answers 200
// if it succeeded or calls fn itself if it failed, so fn never runs twice at
// once for one uuid. Handled uuids are remembered for cfg.ReplayWindow. By
// default that memory is per handler and per process (at most 10,000
// uuids, pruned as deliveries come; no goroutine is started); behind a load
// balancer, set cfg.Dedup to one the instances share (the redisevents
// module's Bus), or make fn idempotent, since another instance may see the
// retry. If cfg.Dedup fails, the handler answers 503 without calling fn,
// and Twilio retries later.
//
// fn gets the request's context. NewWebhookHandler panics if fn is nil or
// cfg cannot verify anything (no auth token, an empty one, or a PublicURL
// that is not an absolute http(s) URL).
func NewWebhookHandler(cfg WebhookConfig, fn func(context.Context, *Event) error) http.Handler {
	if fn == nil {
		panic("verify: NewWebhookHandler needs a callback; pass hub.Publish or your own func(context.Context, *verify.Event) error")
	}
	if err := cfg.check(); err != nil {
		panic(err.Error())
	}
	if cfg.Dedup != nil && isNil(cfg.Dedup) {
		// Falling back to this process's memory would quietly undo the
		// sharing the caller asked for.
		panic("verify: WebhookConfig.Dedup holds a nil pointer; set it to a shared Dedup, or leave it nil for the handler's own memory")
	}
	cfg.AuthTokens = slices.Clone(cfg.AuthTokens)
	h := &webhookHandler{cfg: cfg, fn: fn, seen: newReplayGuard(cfg.replayWindow(), maxReplayEntries, time.Now)}
	h.dedup = cfg.Dedup
	if h.dedup == nil {
		h.dedup = h.seen
	}
	return h
}

// Dedup is the memory of handled webhook events that NewWebhookHandler
// consults before calling back (WebhookConfig.Dedup): it lets one delivery
// of a uuid at a time through and remembers those handled. The handler's
// own in-memory one is the default; one shared by several instances (the
// redisevents module's *Bus, over Redis) makes a uuid handled on any of
// them a duplicate on all.
type Dedup interface {
	// Claim asks to handle the event uuid. It reports handled when the uuid
	// was handled within the last window: the handler answers 200 and does
	// not call back. Otherwise the caller holds uuid and must call release
	// once, with true when the event was handled (the uuid is then
	// remembered for window) or false when it was not (the next delivery
	// may claim it). While another caller holds uuid, Claim waits until it
	// is released, its holder is gone (a shared Dedup gives each claim a
	// lease), or ctx ends. release is nil when handled or err is set. An
	// error (ctx ended, the store unreachable) makes the handler answer 503
	// without calling back, so that Twilio retries later; Claim never
	// reports handled unless a release(true) said so.
	Claim(ctx context.Context, uuid string, window time.Duration) (handled bool, release func(handled bool), err error)
}

// WebhookRejection is a delivery NewWebhookHandler refused, as
// WebhookConfig.OnReject receives it. A wrong auth token or a PublicURL
// other than the URL Twilio signs makes every delivery a 403 that Twilio
// sees and you do not, and every Wait falls back to its safety poll;
// OnReject is where that shows.
//
// It holds no secret: never the signature, the body or a token. It prints
// as its fields, and log/slog gets status, reason and url.
type WebhookRejection struct {
	// Status is what the handler answered: 403, 413, 408 or 400.
	Status int
	// Err is why, matching one of ErrWebhookSignature (403: no signature,
	// a wrong token, or a URL other than the one Twilio signed; its text
	// says which it looks like, and names the URL the signature is for when
	// it verifies for another URL the request came to), ErrWebhookTooLarge
	// (413), ErrWebhookStale or ErrWebhookMalformed (400); or an error
	// reading the body: one matching os.ErrDeadlineExceeded when it did not
	// arrive within BodyReadTimeout (408), another (400). Its text quotes
	// no body value or token.
	Err error
	// CheckedURL is the URL the signature was checked against: PublicURL,
	// or the URL rebuilt from the request, with bodySHA256 for a JSON
	// delivery, and any password in it as xxxxx. Compare it with the
	// webhook's URL at Twilio.
	CheckedURL string
}

// LogValue gives log/slog the rejection as status, reason and url.
func (r WebhookRejection) LogValue() slog.Value {
	reason := ""
	if r.Err != nil {
		reason = r.Err.Error()
	}
	return slog.GroupValue(slog.Int("status", r.Status), slog.String("reason", reason), slog.String("url", r.CheckedURL))
}

type webhookHandler struct {
	cfg   WebhookConfig
	fn    func(context.Context, *Event) error
	seen  *replayGuard // the in-memory Dedup, and the clock
	dedup Dedup        // cfg.Dedup, or seen
}

// Format prints the handler without its auth tokens.
func (h *webhookHandler) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "verify.webhookHandler{%v}", h.cfg)
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, http.StatusMethodNotAllowed, "verify webhook: only POST is accepted")
		return
	}
	ev, checked, err := h.parse(w, r)
	if err != nil {
		status, text := refusal(err)
		refuse(w, status, text)
		if h.cfg.OnReject != nil {
			h.cfg.OnReject(r, &WebhookRejection{Status: status, Err: err, CheckedURL: redactURL(checked)})
		}
		return
	}
	ctx := r.Context()
	dup, release, err := h.dedup.Claim(ctx, ev.UUID, h.cfg.replayWindow())
	switch {
	case err != nil:
		// The client left while another request handled this uuid, or a
		// shared Dedup could not be reached: either way, later.
		http.Error(w, "verify webhook: could not tell whether this event was handled; retry later", http.StatusServiceUnavailable)
		return
	case dup:
		http.Error(w, "verify webhook: event already handled", http.StatusOK)
		return
	}
	if err := h.call(ctx, ev, release); err != nil {
		// The callback's error text is the application's; it is not sent.
		http.Error(w, "verify webhook: the event handler failed; retry later", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// parse is parseSigned with the body's read bounded by cfg.BodyReadTimeout,
// a read deadline on the connection. Where w takes none
// (http.ErrNotSupported) the http.Server's ReadTimeout is the only bound.
// A body read to its end lifts the deadline (net/http does too, on HTTP/1),
// so that it cannot cut a slow callback short; a refusal ends the read
// (see refuse).
func (h *webhookHandler) parse(w http.ResponseWriter, r *http.Request) (*Event, string, error) {
	timeout := h.cfg.bodyReadTimeout()
	if timeout < 0 || r.Body == nil || r.Body == http.NoBody {
		return parseSigned(r, h.cfg, h.seen.now())
	}
	rc := http.NewResponseController(w)
	set := rc.SetReadDeadline(time.Now().Add(timeout)) == nil
	ev, checked, err := parseSigned(r, h.cfg, h.seen.now())
	if set && err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	}
	return ev, checked, err
}

// refuse answers status and text, and closes the connection without
// reading what is left of the body: net/http would read up to 256 KiB of
// it first, before answering and again once the handler returns, at
// whatever pace the sender chooses. The read deadline set in the past ends
// that read; the answer, already buffered, still goes out.
func refuse(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Connection", "close")
	http.Error(w, text, status)
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// refusal is the status and the text the handler answers a refused request
// with: one fixed text per reason, the sentinel's own, so that the answer
// says nothing of the configuration (how many tokens, PublicURL, the size
// cap, MaxEventAge) or of how far an unsigned body was read.
func refusal(err error) (status int, text string) {
	for _, r := range []struct {
		sentinel error
		status   int
	}{
		{ErrWebhookTooLarge, http.StatusRequestEntityTooLarge},
		{ErrWebhookSignature, http.StatusForbidden},
		{ErrWebhookStale, http.StatusBadRequest},
		{ErrWebhookMalformed, http.StatusBadRequest},
	} {
		if errors.Is(err, r.sentinel) {
			return r.status, r.sentinel.Error()
		}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return http.StatusRequestTimeout, "verify webhook: the body did not arrive in time"
	}
	return http.StatusBadRequest, "verify webhook: the body could not be read"
}

// call runs fn and releases the claim with its outcome, a panic counting
// as a failure.
func (h *webhookHandler) call(ctx context.Context, ev *Event, release func(bool)) (err error) {
	ok := false
	defer func() { release(ok) }()
	err = h.fn(ctx, ev)
	ok = err == nil
	return err
}

// replayGuard remembers handled uuids for a window, at most max of them,
// and lets one request at a time handle a uuid. It prunes lazily, on each
// call, so it needs no goroutine.
type replayGuard struct {
	window time.Duration
	max    int
	now    func() time.Time

	mu       sync.Mutex
	done     map[string]time.Time     // handled uuid -> when
	order    []handledUUID            // done's entries, oldest first, from head on
	head     int                      // order[:head] are pruned
	inflight map[string]chan struct{} // uuid being handled -> closed when it ends
	waiting  int                      // requests waiting on inflight, for tests
}

type handledUUID struct {
	uuid string
	at   time.Time
}

func newReplayGuard(window time.Duration, max int, now func() time.Time) *replayGuard {
	return &replayGuard{window: window, max: max, now: now,
		done: make(map[string]time.Time), inflight: make(map[string]chan struct{})}
}

// Claim implements Dedup over begin and end. window is the one g was made
// with: the handler's ReplayWindow.
func (g *replayGuard) Claim(ctx context.Context, uuid string, _ time.Duration) (bool, func(bool), error) {
	handled, err := g.begin(ctx, uuid)
	if err != nil || handled {
		return handled, nil, err
	}
	return false, func(ok bool) { g.end(uuid, ok) }, nil
}

// begin reports whether uuid was already handled. If not, the caller now
// owns it and must call end. While another request owns it, begin waits
// until that one ends or ctx does.
func (g *replayGuard) begin(ctx context.Context, uuid string) (handled bool, err error) {
	for {
		g.mu.Lock()
		g.prune()
		if _, ok := g.done[uuid]; ok {
			g.mu.Unlock()
			return true, nil
		}
		busy, ok := g.inflight[uuid]
		if !ok {
			g.inflight[uuid] = make(chan struct{})
			g.mu.Unlock()
			return false, nil
		}
		g.waiting++
		g.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			err = ctx.Err()
		}
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
		if err != nil {
			return false, err
		}
	}
}

// end releases uuid, remembering it as handled when ok.
func (g *replayGuard) end(uuid string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ch, found := g.inflight[uuid]; found {
		close(ch)
		delete(g.inflight, uuid)
	}
	if ok {
		at := g.now()
		g.done[uuid] = at
		g.order = append(g.order, handledUUID{uuid, at})
	}
	g.prune()
}

// prune forgets uuids older than the window and the oldest beyond max.
// The caller holds g.mu.
func (g *replayGuard) prune() {
	now := g.now()
	for g.head < len(g.order) {
		e := g.order[g.head]
		if now.Sub(e.at) < g.window && len(g.done) <= g.max {
			break
		}
		if at, ok := g.done[e.uuid]; ok && at.Equal(e.at) {
			delete(g.done, e.uuid)
		}
		g.order[g.head] = handledUUID{}
		g.head++
	}
	if g.head > 64 && g.head*2 > len(g.order) {
		g.order = append(g.order[:0:0], g.order[g.head:]...)
		g.head = 0
	}
}

// size is how many uuids are remembered, for tests.
func (g *replayGuard) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.done)
}

// waiters is how many requests wait for another one's outcome, for tests.
func (g *replayGuard) waiters() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}
