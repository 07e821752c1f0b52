package verifytest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	verify "github.com/verifykit/verify-go"
)

// The server sends every event to the enabled webhooks of its service that
// subscribe to its type, as Twilio does. Deliveries leave asynchronously:
// the API call that caused the event never waits for a receiver. Each
// webhook has its own queue, sent in event order, one delivery at a time
// (retries included), by a goroutine that exists only while the queue has
// work. Deliveries use their own http.Client and transport, so the faults
// injected for API requests (FailNext, DropNext, LoseNextResponse,
// SetLatency) and httpmock.Activate never touch them.

// DeliveryPolicy says how the server sends webhook events: how many times
// it tries one, how long it waits between tries, and how long a try may
// take. Zero fields (or less) take the defaults: 4 attempts, 10 ms before
// the first retry, doubled each time (10, 20, 40 ms), waits capped at 1 s,
// and 5 s per attempt.
type DeliveryPolicy struct {
	// Attempts is how many times one event is sent to one webhook, the
	// first try included; 1 means no retry. Default 4.
	Attempts int
	// Backoff is the wait before the first retry; each later wait doubles
	// it, up to MaxBackoff. Default 10 ms.
	Backoff time.Duration
	// MaxBackoff caps the wait between two tries. Default 1 s.
	MaxBackoff time.Duration
	// Timeout bounds one try, from connecting to reading the answer; a try
	// that takes longer fails and is retried. Default 5 s.
	Timeout time.Duration
}

// Defaults of DeliveryPolicy.
const (
	defaultDeliveryAttempts   = 4
	defaultDeliveryBackoff    = 10 * time.Millisecond
	defaultDeliveryMaxBackoff = time.Second
	defaultDeliveryTimeout    = 5 * time.Second
	deliveryUserAgent         = "verifytest-webhooks/1.0"
	maxReceiverBody           = 64 << 10 // read from a receiver's answer, then dropped
	// maxDeliveryRecords is how many attempts Deliveries lists: the latest
	// ones, so that a long-running server (cmd/verify-fake) does not grow.
	maxDeliveryRecords = 10000
)

// withDefaults fills the zero fields of p.
func (p DeliveryPolicy) withDefaults() DeliveryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = defaultDeliveryAttempts
	}
	if p.Backoff <= 0 {
		p.Backoff = defaultDeliveryBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = defaultDeliveryMaxBackoff
	}
	if p.Timeout <= 0 {
		p.Timeout = defaultDeliveryTimeout
	}
	return p
}

// backoff is the wait after the given failed attempt (1 for the first).
func (p DeliveryPolicy) backoff(attempt int) time.Duration {
	d := p.Backoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// WithDeliveryPolicy sets how webhook events are retried and timed out;
// see DeliveryPolicy for the defaults.
func WithDeliveryPolicy(p DeliveryPolicy) Option {
	return func(s *Server) { s.policy = p }
}

// WithDeliveryLogger logs each attempt to deliver an event to a webhook at
// info level on l: "webhook delivered" (2xx), "webhook refused" (4xx, final:
// check the receiver's auth token and URL) or "webhook delivery failed"
// (anything else, or no answer, retried as DeliveryPolicy says), with the
// webhook's SID and URL, the event's type, uuid, challenge or factor, the
// attempt and the status or error. Nothing secret is logged: no signature,
// no body. Without it deliveries are silent (Deliveries lists them).
func WithDeliveryLogger(l *slog.Logger) Option {
	return func(s *Server) { s.deliveryLog = l }
}

// WithJSONDeliveries sends webhook events as JSON bodies (application/json),
// signed the way Twilio signs them: bodySHA256, the body's hex SHA-256,
// added to the webhook's URL, and X-Twilio-Signature over that URL alone.
// Without it events are forms (application/x-www-form-urlencoded) signed
// over the URL and every field, as Twilio documents its event parameters.
func WithJSONDeliveries() Option {
	return func(s *Server) { s.jsonDeliveries = true }
}

// Delivery is one attempt to send an event to a webhook, as Deliveries
// lists it.
type Delivery struct {
	WebhookSID   string           // the webhook the event went to, YW…
	URL          string           // where it was POSTed: the webhook's URL as registered, with bodySHA256 added for a JSON body
	EventUUID    string           // the event's uuid field: the same on every attempt, and on a duplicate
	Type         verify.EventType // challenge.approved, challenge.denied, factor.created, factor.verified or factor.deleted
	ChallengeSID string           // the challenge, YC…, for challenge events; empty for factor events
	FactorSID    string           // the factor, YF…; for a challenge event, the challenge's factor
	Attempt      int              // 1 for the first try, 2 for the first retry, …; a duplicate counts from 1 again
	Duplicate    bool             // this is the second copy that DuplicateNextDelivery asked for
	StatusCode   int              // the receiver's HTTP status; 0 when no answer came (then Err says why)
	Err          error            // the connection error or timeout when no answer came; nil with a StatusCode
	Time         time.Time        // when the attempt started, on the server's clock (Now)
}

// retryable reports whether a failed attempt may succeed later: no answer
// (a connection error or a timeout), or any status but 2xx and 4xx.
func (d Delivery) retryable() bool {
	if d.Err != nil {
		return true
	}
	return (d.StatusCode < 200 || d.StatusCode >= 300) && (d.StatusCode < 400 || d.StatusCode >= 500)
}

// event is one thing that happened, as every webhook that receives it gets it.
type event struct {
	uuid         string
	typ          verify.EventType
	challengeSID string
	factorSID    string
	fields       url.Values
}

// outgoing is one event on its way to one webhook: the request is built
// and signed when the event happens, so later changes to the webhook do not
// alter it.
type outgoing struct {
	webhookSID  string
	url         string // where to POST
	contentType string
	body        []byte
	signature   string
	ev          *event
	duplicate   bool
	queued      time.Time // wall clock, for DelayDeliveries
}

// deliverer sends the server's events to its webhooks.
type deliverer struct {
	authToken string
	asJSON    bool
	policy    DeliveryPolicy
	now       func() time.Time // the server's clock, for Delivery.Time
	transport *http.Transport
	client    *http.Client
	ctx       context.Context // ends with Close: every wait and request stops
	stop      context.CancelFunc
	workers   sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	queues    map[string][]*outgoing // webhook SID -> deliveries not started; a key exists while its worker runs
	pending   int                    // deliveries queued or being sent
	changed   chan struct{}          // closed and replaced when an attempt is recorded or pending changes
	sent      []Delivery             // the latest attempts, in the order they ended (see record)
	forgotten int                    // attempts dropped from the front of sent: sent[i] is attempt forgotten+i, counting from 0
	drop      int                    // deliveries DropNextDelivery still has to lose
	duplicate int                    // deliveries DuplicateNextDelivery still has to double
	delay     time.Duration          // DelayDeliveries
	delaySet  chan struct{}          // closed and replaced when DelayDeliveries changes delay
	log       *slog.Logger           // WithDeliveryLogger; nil: silent
}

func newDeliverer(authToken string, asJSON bool, policy DeliveryPolicy, now func() time.Time) *deliverer {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	ctx, stop := context.WithCancel(context.Background())
	return &deliverer{
		authToken: authToken, asJSON: asJSON, policy: policy.withDefaults(), now: now,
		transport: transport,
		client: &http.Client{
			Transport: transport,
			// Twilio does not follow redirects; a 3xx is a failed try.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ctx: ctx, stop: stop,
		queues:   map[string][]*outgoing{},
		changed:  make(chan struct{}),
		delaySet: make(chan struct{}),
	}
}

// signal wakes everyone waiting on d.changed; the caller holds d.mu.
func (d *deliverer) signal() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// prepare builds and signs the request that carries ev to the webhook
// registered at rawURL.
func (d *deliverer) prepare(webhookSID, rawURL string, ev *event) *outgoing {
	o := &outgoing{webhookSID: webhookSID, ev: ev, queued: time.Now()}
	if d.asJSON {
		o.body = jsonEventBody(ev.fields)
		o.url, o.signature = SignWebhookJSON(d.authToken, rawURL, o.body)
		o.contentType = "application/json"
		return o
	}
	o.body = []byte(ev.fields.Encode())
	o.url, o.signature = rawURL, SignWebhook(d.authToken, rawURL, ev.fields)
	o.contentType = "application/x-www-form-urlencoded"
	return o
}

// enqueue queues ev for the webhook, applying DropNextDelivery and
// DuplicateNextDelivery, and starts the webhook's worker if it is idle.
// The caller holds the server's lock, so events queue in the order they
// happen.
func (d *deliverer) enqueue(webhookSID, rawURL string, ev *event) {
	o := d.prepare(webhookSID, rawURL, ev)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if d.drop > 0 {
		d.drop--
		return
	}
	jobs := []*outgoing{o}
	if d.duplicate > 0 {
		d.duplicate--
		dup := *o
		dup.duplicate = true
		jobs = append(jobs, &dup)
	}
	q, running := d.queues[webhookSID]
	d.queues[webhookSID] = append(q, jobs...)
	d.pending += len(jobs)
	d.signal()
	if !running {
		d.workers.Add(1)
		go d.work(webhookSID)
	}
}

// work sends the webhook's queue in order, then ends.
func (d *deliverer) work(webhookSID string) {
	defer d.workers.Done()
	for {
		d.mu.Lock()
		q := d.queues[webhookSID]
		if len(q) == 0 {
			delete(d.queues, webhookSID)
			d.mu.Unlock()
			return
		}
		o := q[0]
		q[0] = nil
		d.queues[webhookSID] = q[1:]
		d.mu.Unlock()

		d.deliver(o)

		d.mu.Lock()
		d.pending--
		d.signal()
		d.mu.Unlock()
	}
}

// deliver sends one event to one webhook, retrying as the policy says,
// until it is answered with 2xx or 4xx, the attempts run out, or the
// server closes.
func (d *deliverer) deliver(o *outgoing) {
	if !d.waitDelay(o.queued) {
		return
	}
	for attempt := 1; ; attempt++ {
		rec := Delivery{
			WebhookSID: o.webhookSID, URL: o.url, EventUUID: o.ev.uuid, Type: o.ev.typ,
			ChallengeSID: o.ev.challengeSID, FactorSID: o.ev.factorSID,
			Attempt: attempt, Duplicate: o.duplicate, Time: d.now(),
		}
		rec.StatusCode, rec.Err = d.post(o)
		if rec.Err != nil && d.ctx.Err() != nil {
			return // cut short by Close: not an answer from the receiver
		}
		d.logAttempt(rec)
		d.mu.Lock()
		d.record(rec)
		d.signal()
		d.mu.Unlock()
		if !rec.retryable() || attempt >= d.policy.Attempts {
			return
		}
		if !d.sleep(d.policy.backoff(attempt)) {
			return
		}
	}
}

// logAttempt writes rec to the delivery log, if there is one.
func (d *deliverer) logAttempt(rec Delivery) {
	if d.log == nil {
		return
	}
	msg, outcome := "webhook delivered", slog.Int("status", rec.StatusCode)
	switch {
	case rec.Err != nil:
		msg, outcome = "webhook delivery failed", slog.String("error", rec.Err.Error())
	case rec.StatusCode >= 400 && rec.StatusCode < 500:
		msg = "webhook refused"
	case rec.retryable():
		msg = "webhook delivery failed"
	}
	attrs := []slog.Attr{slog.String("webhook", rec.WebhookSID), slog.String("url", rec.URL),
		slog.String("type", string(rec.Type)), slog.String("uuid", rec.EventUUID)}
	if rec.ChallengeSID != "" {
		attrs = append(attrs, slog.String("challenge_sid", rec.ChallengeSID))
	} else {
		attrs = append(attrs, slog.String("factor_sid", rec.FactorSID))
	}
	attrs = append(attrs, slog.Int("attempt", rec.Attempt), outcome)
	if rec.Duplicate {
		attrs = append(attrs, slog.Bool("duplicate", true))
	}
	d.log.LogAttrs(d.ctx, slog.LevelInfo, msg, attrs...)
}

// record logs an attempt. The log keeps the last maxDeliveryRecords: once
// it holds twice that, the older half is forgotten, so that appending stays
// cheap and memory bounded. The caller holds d.mu.
func (d *deliverer) record(rec Delivery) {
	d.sent = append(d.sent, rec)
	if len(d.sent) >= 2*maxDeliveryRecords {
		n := len(d.sent) - maxDeliveryRecords
		clear(d.sent[:n]) // Err values may hold onto more
		d.sent = append(d.sent[:0], d.sent[n:]...)
		d.forgotten += n
	}
}

// listed is what Deliveries shows: the last maxDeliveryRecords attempts,
// and the number of the first of them (counting every attempt from 0).
// The caller holds d.mu.
func (d *deliverer) listed() ([]Delivery, int) {
	start := max(0, len(d.sent)-maxDeliveryRecords)
	return d.sent[start:], d.forgotten + start
}

// post makes one attempt and returns the receiver's status, or why there
// was none.
func (d *deliverer) post(o *outgoing) (int, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.policy.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(o.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", o.contentType)
	req.Header.Set(verify.SignatureHeader, o.signature)
	req.Header.Set("User-Agent", deliveryUserAgent)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReceiverBody))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// waitDelay holds a delivery until DelayDeliveries' delay has passed since
// it was queued, following changes to the delay. It reports false if the
// server closed meanwhile.
func (d *deliverer) waitDelay(queued time.Time) bool {
	for {
		d.mu.Lock()
		delay, set := d.delay, d.delaySet
		d.mu.Unlock()
		wait := time.Until(queued.Add(delay))
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			return true
		case <-set:
			t.Stop()
		case <-d.ctx.Done():
			t.Stop()
			return false
		}
	}
}

// sleep waits for dur, or reports false if the server closes first.
func (d *deliverer) sleep(dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.ctx.Done():
		return false
	}
}

// close drops what is queued, stops the attempt in flight and every wait,
// and returns once every worker has ended.
func (d *deliverer) close() {
	d.mu.Lock()
	d.closed = true
	for sid, q := range d.queues {
		d.pending -= len(q)
		d.queues[sid] = nil // the worker sees an empty queue and ends
	}
	d.signal()
	d.mu.Unlock()
	d.stop()
	d.workers.Wait()
	d.transport.CloseIdleConnections()
}

// Deliveries lists the attempts to send an event to a webhook so far, in
// the order the attempts ended: one entry per try, retries and duplicates
// included. It keeps the last 10,000 attempts and forgets older ones, so
// that a long-running server does not grow. A delivery lost to
// DropNextDelivery is not listed: it was never sent. Call WaitForDeliveries
// first to see everything the events so far lead to.
func (s *Server) Deliveries() []Delivery {
	d := s.hooks
	d.mu.Lock()
	defer d.mu.Unlock()
	recs, _ := d.listed()
	return append([]Delivery(nil), recs...)
}

// WaitForDeliveries waits until no delivery is queued or being sent
// (retries and DelayDeliveries included), so that every event that
// happened before the call has been answered, refused or given up on. It
// returns ctx's error if ctx ends first. An API call queues its events
// before it answers, so after the call returns WaitForDeliveries covers
// them.
func (s *Server) WaitForDeliveries(ctx context.Context) error {
	d := s.hooks
	for {
		d.mu.Lock()
		if d.pending == 0 {
			d.mu.Unlock()
			return nil
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitForDelivery waits until an attempt for which match returns true has
// been recorded, earlier ones still listed by Deliveries included, and
// returns it: for a test that must act between two attempts, such as
// starting a receiver after the first try was refused. It fails when ctx
// ends, or when the server is closed with nothing left to send.
func (s *Server) WaitForDelivery(ctx context.Context, match func(Delivery) bool) (Delivery, error) {
	d := s.hooks
	seen := 0 // attempts looked at, counting from the first ever recorded
	for {
		d.mu.Lock()
		recs, first := d.listed()
		fresh := append([]Delivery(nil), recs[max(0, min(seen-first, len(recs))):]...)
		seen = first + len(recs)
		over := d.closed && d.pending == 0
		ch := d.changed
		d.mu.Unlock()
		for _, rec := range fresh {
			if match(rec) {
				return rec, nil
			}
		}
		if over {
			return Delivery{}, errors.New("verifytest: the server is closed and no delivery matched")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Delivery{}, ctx.Err()
		}
	}
}
