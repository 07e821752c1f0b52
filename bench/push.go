package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	verify "github.com/verifykit/verify-go"
	"github.com/verifykit/verify-go/verifytest"
)

// The push role of the server: a service whose push challenges a phone
// answers a fixed time after their creation, for the login benchmarks.
// Until then a Fetch reads pending, afterwards approved; at that moment
// the server also POSTs a signed challenge.approved event to every webhook
// registered for the service through the Webhooks API, as Twilio does.
const (
	pushServiceSID     = "VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	pushPrefix         = "/v2/Services/" + pushServiceSID + "/"
	pushChallengesPath = pushPrefix + "Entities/" + identity + "/Challenges"
	pushWebhooksPath   = pushPrefix + "Webhooks"

	defaultAnswerAfter = 2 * time.Second
)

// pushRole serves the push service. Every counter lives in a generation
// that the admin endpoint replaces, so a late delivery from an earlier
// run never counts in the next one.
type pushRole struct {
	gen  atomic.Pointer[pushGen]
	next atomic.Int64 // SID counter
	hc   *http.Client // delivers webhooks

	mu       sync.Mutex
	webhooks map[string]string // YW… -> URL, for challenge.approved
}

// pushGen is one measured run: its answer delay, its challenges and what
// the API saw of them.
type pushGen struct {
	answerAfter time.Duration

	creates, fetches, pending atomic.Int64   // pending: Fetches that read pending
	delivered, failed         atomic.Int64   // webhook deliveries answered 2xx, or not
	answers                   sync.WaitGroup // answers scheduled and not yet given and delivered

	mu         sync.Mutex
	challenges map[string]*pushChallenge
	polls      []int64 // UnixNano of each Fetch but a challenge's first, for the waiting window
}

type pushChallenge struct {
	gen      *pushGen
	sid      string
	created  time.Time
	details  []byte // {"message":…,"date":…,"fields":[…]}
	answered atomic.Bool
	fetches  atomic.Int64
}

// pushStats is what the admin endpoint reports about the current run.
type pushStats struct {
	Creates          int64 // challenges created
	Fetches          int64 // Fetches of them (404s excluded)
	PendingFetches   int64 // of which read pending
	MaxCallsPerLogin int64 // 1 (its Create) + the Fetches of the challenge fetched most
	Delivered        int64 // challenge.approved deliveries answered 2xx
	DeliveryFailed   int64 // deliveries that failed or were answered otherwise
	PeakConns        int64 // API connections open at once, at most
	PollsInWindow    int64 // Fetches but each challenge's first, between the from and to query parameters (UnixNano)
}

func newPushRole() *pushRole {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost = 64, 64
	p := &pushRole{hc: &http.Client{Transport: t, Timeout: 5 * time.Second}, webhooks: map[string]string{}}
	p.reset(defaultAnswerAfter)
	return p
}

func (p *pushRole) reset(answerAfter time.Duration) {
	p.gen.Store(&pushGen{answerAfter: answerAfter, challenges: map[string]*pushChallenge{}})
	peakConns.Store(openConns.Load())
}

// admin answers the bench: POST /push?answer_after=2s starts a new run,
// GET /push[?from=&to=] reports the current one as JSON, once every answer
// its challenges are due has been given and delivered.
func (p *pushRole) admin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		d, err := time.ParseDuration(r.URL.Query().Get("answer_after"))
		if err != nil || d < 0 {
			http.Error(w, "answer_after: want a duration", http.StatusBadRequest)
			return
		}
		p.reset(d)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	g := p.gen.Load()
	g.answers.Wait()
	st := pushStats{
		Creates: g.creates.Load(), Fetches: g.fetches.Load(), PendingFetches: g.pending.Load(),
		Delivered: g.delivered.Load(), DeliveryFailed: g.failed.Load(), PeakConns: peakConns.Load(),
	}
	from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
	g.mu.Lock()
	for _, ch := range g.challenges {
		st.MaxCallsPerLogin = max(st.MaxCallsPerLogin, 1+ch.fetches.Load())
	}
	for _, t := range g.polls {
		if t >= from && t < to {
			st.PollsInWindow++
		}
	}
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

// ServeHTTP answers the push service's API requests; the caller checked
// the credentials.
func (p *pushRole) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == pushChallengesPath:
		p.create(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, pushChallengesPath+"/"):
		p.fetch(w, strings.TrimPrefix(r.URL.Path, pushChallengesPath+"/"))
	case r.Method == http.MethodPost && r.URL.Path == pushWebhooksPath:
		p.createWebhook(w, r)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, pushWebhooksPath+"/"):
		p.mu.Lock()
		delete(p.webhooks, strings.TrimPrefix(r.URL.Path, pushWebhooksPath+"/"))
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"code":20404,"message":"The requested resource %s was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, r.URL.Path)
	}
}

// create makes a pending push challenge and schedules its answer.
func (p *pushRole) create(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	now := time.Now().UTC()
	msg := r.PostForm.Get("Details.Message")
	fields := r.PostForm["Details.Fields"]
	valid := r.PostForm.Get("FactorSid") == factorSID && msg != ""
	for _, f := range fields {
		valid = valid && json.Valid([]byte(f))
	}
	if !valid {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(badFactor)
		return
	}
	quoted, _ := json.Marshal(msg)
	details := fmt.Appendf(nil, `{"message":%s,"date":%q,"fields":[%s]}`, quoted, now.Format(time.RFC3339), strings.Join(fields, ","))
	g := p.gen.Load()
	ch := &pushChallenge{gen: g, sid: fmt.Sprintf("YC%032x", p.next.Add(1)), created: now, details: details}
	g.mu.Lock()
	g.challenges[ch.sid] = ch
	g.mu.Unlock()
	g.creates.Add(1)
	g.answers.Add(1)
	time.AfterFunc(g.answerAfter, func() {
		defer g.answers.Done()
		p.answer(ch)
	})
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(ch.render(false))
}

func (p *pushRole) fetch(w http.ResponseWriter, sid string) {
	g := p.gen.Load()
	g.mu.Lock()
	ch := g.challenges[sid]
	if ch != nil && ch.fetches.Add(1) > 1 {
		g.polls = append(g.polls, time.Now().UnixNano())
	}
	g.mu.Unlock()
	if ch == nil {
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprintf(w, `{"code":20404,"message":"The requested resource %s/%s was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, pushChallengesPath, sid)
		return
	}
	g.fetches.Add(1)
	answered := ch.answered.Load()
	if !answered {
		g.pending.Add(1)
	}
	_, _ = w.Write(ch.render(answered))
}

// render is the challenge as the API returns it, pending or approved.
func (ch *pushChallenge) render(approved bool) []byte {
	status, responded := "pending", "null"
	if approved {
		status, responded = "approved", strconv.Quote(ch.created.Add(ch.gen.answerAfter).Format(time.RFC3339))
	}
	created := ch.created.Format(time.RFC3339)
	u := "https://verify.twilio.com" + pushChallengesPath + "/" + ch.sid
	return fmt.Appendf(nil, `{"sid":%q,"account_sid":%q,"service_sid":%q,"entity_sid":"YEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",`+
		`"identity":%q,"factor_sid":%q,"date_created":%q,"date_updated":%q,"date_responded":%s,"expiration_date":%q,`+
		`"status":%q,"responded_reason":"none","details":%s,"hidden_details":{"session":"web-42"},"metadata":null,`+
		`"factor_type":"push","url":%q,"links":{"notifications":"%s/Notifications"}}`,
		ch.sid, accountSID, pushServiceSID, identity, factorSID, created, created, responded,
		ch.created.Add(5*time.Minute).Format(time.RFC3339), status, ch.details, u, u)
}

// answer approves the challenge, then delivers challenge.approved to
// every registered webhook.
func (p *pushRole) answer(ch *pushChallenge) {
	ch.answered.Store(true)
	p.mu.Lock()
	urls := make([]string, 0, len(p.webhooks))
	for _, u := range p.webhooks {
		urls = append(urls, u)
	}
	p.mu.Unlock()
	for _, u := range urls {
		form := url.Values{
			"uuid":              {newUUID()},
			"type":              {string(verify.EventChallengeApproved)},
			"account_sid":       {accountSID},
			"service_sid":       {pushServiceSID},
			"entity_identity":   {identity},
			"factor_sid":        {factorSID},
			"factor_type":       {"push"},
			"challenge_sid":     {ch.sid},
			"challenge_status":  {"approved"},
			"challenge_details": {string(ch.details)},
			"date_created":      {time.Now().UTC().Format(time.RFC3339)},
		}
		if p.deliver(u, form) {
			ch.gen.delivered.Add(1)
		} else {
			ch.gen.failed.Add(1)
		}
	}
}

// deliver POSTs a signed form event to webhookURL, as Twilio does.
func (p *pushRole) deliver(webhookURL string, form url.Values) bool {
	req, err := http.NewRequest(http.MethodPost, webhookURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(verify.SignatureHeader, verifytest.SignWebhook(authToken, webhookURL, form))
	resp, err := p.hc.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// createWebhook registers where challenge.approved events go.
func (p *pushRole) createWebhook(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	u, err := url.Parse(r.PostForm.Get("WebhookUrl"))
	if err != nil || u.Scheme != "http" || u.Host == "" || r.PostForm.Get("FriendlyName") == "" || len(r.PostForm["EventTypes"]) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(badFactor)
		return
	}
	approved := false
	for _, t := range r.PostForm["EventTypes"] {
		approved = approved || t == string(verify.EventChallengeApproved) || t == string(verify.EventAll)
	}
	sid := fmt.Sprintf("YW%032x", p.next.Add(1))
	if approved {
		p.mu.Lock()
		p.webhooks[sid] = u.String()
		p.mu.Unlock()
	}
	types, _ := json.Marshal(r.PostForm["EventTypes"])
	name, _ := json.Marshal(r.PostForm.Get("FriendlyName"))
	now := time.Now().UTC().Format(time.RFC3339)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"url":"https://verify.twilio.com%s/%s","sid":%q,"account_sid":%q,"service_sid":%q,"friendly_name":%s,`+
		`"event_types":%s,"webhook_method":"POST","webhook_url":%q,"status":"enabled","version":"v2","date_created":%q,"date_updated":%q}`,
		pushWebhooksPath, sid, sid, accountSID, pushServiceSID, name, types, u.String(), now, now)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b.Bytes())
}

// newUUID is a random version 4 UUID, as Twilio's event ids are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
