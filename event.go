package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/verifykit/verify-go/internal/twiliosig"
)

// EventType names what happened in a Verify event, and what a webhook
// subscribes to. Values the SDK does not know yet are kept as they come.
type EventType string

// Event types, as webhooks subscribe to them and events carry them.
const (
	EventAll               EventType = "*" // every event; for subscriptions only, never carried by an event
	EventFactorCreated     EventType = "factor.created"
	EventFactorVerified    EventType = "factor.verified"
	EventFactorDeleted     EventType = "factor.deleted"
	EventChallengeApproved EventType = "challenge.approved"
	EventChallengeDenied   EventType = "challenge.denied"
)

// Known reports whether t is one of the event types this SDK names. EventAll
// is not one: it is a subscription to all of them, which no event carries.
func (t EventType) Known() bool {
	switch t {
	case EventFactorCreated, EventFactorVerified, EventFactorDeleted, EventChallengeApproved, EventChallengeDenied:
		return true
	}
	return false
}

// Defaults of WebhookConfig.
const (
	// DefaultWebhookMaxBodyBytes caps a delivery's body. A usual event is
	// 1–2 KB. With every limit filled (a 64-character identity and factor
	// name, a 256-character message, 20 fields of 36 and 128 characters,
	// hidden details and metadata of 1,024 characters as JSON) one is 7.3 KB
	// as a form of plain ASCII, 29 KB as a form of quotes (escaped in JSON,
	// then percent-encoded) and at most 24 KB as JSON, whatever the text.
	// Only a form whose every limit is filled with non-ASCII text is larger
	// (52 KB in CJK, 69 KB in emoji): set MaxBodyBytes to 96 << 10 if your
	// challenges carry that much.
	DefaultWebhookMaxBodyBytes = 32 << 10
	// DefaultWebhookBodyReadTimeout bounds how long NewWebhookHandler waits
	// for a delivery's body; Twilio sends its few kilobytes at once.
	DefaultWebhookBodyReadTimeout = 5 * time.Second
	DefaultReplayWindow           = 15 * time.Minute // how long a handled uuid is remembered
)

// maxFormFields caps the fields of a form body, counted before its
// signature is computed: a Verify event has about 15.
const maxFormFields = 64

// maxReplayEntries caps how many handled uuids a webhook handler remembers,
// whatever the window: the oldest are forgotten first.
const maxReplayEntries = 10_000

// Sentinels for the ways a webhook delivery is refused, for errors.Is.
var (
	// ErrWebhookSignature: X-Twilio-Signature is missing or does not match
	// the URL, the body and any of the auth tokens (HTTP 403 from the handler).
	ErrWebhookSignature = errors.New("verify: webhook signature invalid")
	// ErrWebhookTooLarge: the body is over WebhookConfig.MaxBodyBytes, or a
	// form body has more than 64 fields (HTTP 413).
	ErrWebhookTooLarge = errors.New("verify: webhook body too large")
	// ErrWebhookMalformed: the body was signed but is not a Verify event:
	// not a form or JSON object, no uuid or type, no date_created while
	// MaxEventAge applies, a JSON field that does not decode, a SID field
	// that is not a SID, or a form whose signed bytes read another way too
	// (a field glued to its key, split, cut short, swallowed or repeated:
	// see ParseEvent) (HTTP 400).
	ErrWebhookMalformed = errors.New("verify: webhook payload malformed")
	// ErrWebhookStale: a signed event whose date_created is older than
	// WebhookConfig.MaxEventAge: a replay, or a retry too late to tell from
	// one (HTTP 400 from the handler, which does not call back).
	ErrWebhookStale = errors.New("verify: webhook event too old")
)

// maxClockSkew is how far Twilio's clock may be ahead of ours when an
// event's age is judged.
const maxClockSkew = 5 * time.Minute

// WebhookConfig says how to verify webhook deliveries, for ParseEvent and
// NewWebhookHandler. It prints, logs and marshals (fmt with any verb,
// log/slog, encoding/json) with its auth tokens counted, never shown, and
// any password in PublicURL as "xxxxx"; inside a struct of your own, even
// in an unexported field, the tokens show as pointers (PublicURL, a plain
// string, shows as it is there: one reason it may not hold a password).
type WebhookConfig struct {
	// AuthTokens are the account's auth tokens; a signature made with any
	// one of them verifies, so a rotation can list the old and the new:
	// AuthTokens: verify.Secrets(current, previous).
	AuthTokens []Secret
	// PublicURL is the webhook URL as registered at Twilio, for servers
	// behind proxies or load balancers that see another scheme, host or
	// path. A bodySHA256 Twilio adds on delivery is taken from the request.
	// Empty: the URL is rebuilt from the request.
	//
	// Leave out any user:password@ of a URL registered with HTTP Basic
	// auth: Twilio signs the URL without it (its security notes: it drops
	// the username and password before computing the signature), and a
	// PublicURL with user info is refused, so that no password is kept in
	// a field that prints. Without PublicURL the URL rebuilt from the
	// request has none either, and verifies as well.
	PublicURL string
	// TrustForwardedHeaders lets X-Forwarded-Proto and X-Forwarded-Host
	// replace the request's scheme and Host when PublicURL is empty. Set it
	// only behind a proxy that overwrites those headers.
	TrustForwardedHeaders bool
	// MaxBodyBytes caps the body; zero or less means 32 KiB
	// (DefaultWebhookMaxBodyBytes, which says what fits).
	MaxBodyBytes int64
	// BodyReadTimeout bounds how long NewWebhookHandler waits for a
	// delivery's body once the handler starts: a sender that trickles it
	// gets 408 instead of holding a connection, a goroutine and a buffer.
	// Zero means 5 s (DefaultWebhookBodyReadTimeout); negative means none
	// of the handler's own, the http.Server's ReadTimeout alone. The
	// handler sets it as a read deadline through http.ResponseController;
	// where the ResponseWriter takes none (httptest.ResponseRecorder, a
	// middleware's wrapper without an Unwrap method), and for ParseEvent,
	// which has no ResponseWriter, the server's ReadTimeout is the only
	// bound: see "Server settings" in docs/webhooks.md.
	BodyReadTimeout time.Duration
	// ReplayWindow is how long NewWebhookHandler remembers a handled event's
	// uuid to answer Twilio's retries without calling back again (in
	// memory, at most 10,000 uuids; the oldest go first). Zero or less
	// means 15 minutes.
	ReplayWindow time.Duration
	// Dedup is where NewWebhookHandler remembers handled uuids and makes
	// concurrent deliveries of one uuid wait for each other. Nil means in
	// the handler's own memory. Behind a load balancer, where Twilio's
	// retry may reach another instance, give every instance the same
	// shared one, such as the redisevents module's *Bus. ParseEvent does
	// not use it.
	Dedup Dedup
	// MaxEventAge refuses a signed event whose date_created is older than
	// this with ErrWebhookStale: a captured delivery replayed once its uuid
	// is forgotten. Zero means ReplayWindow plus 5 minutes of clock skew;
	// negative means no limit, for a receiver of verifytest's fake running
	// on a clock set in the past (WithClock). While it applies, an event
	// without a well-formed date_created is refused (ErrWebhookMalformed):
	// one whose age cannot be judged could be a replay of any age.
	MaxEventAge time.Duration
	// OnReject, if set, is called by NewWebhookHandler for each delivery it
	// refuses (403, 413 or 400), after the answer is written, on the
	// request's goroutine: keep it quick. The answer itself is a fixed text;
	// the rejection says why, and for which URL, so that a wrong token or
	// PublicURL does not go unnoticed. For example:
	//
	//	OnReject: func(r *http.Request, rej *verify.WebhookRejection) {
	//		logger.Info("webhook rejected", "rejection", rej)
	//	},
	//
	// ParseEvent does not call it: it returns the same error.
	OnReject func(r *http.Request, rej *WebhookRejection)
}

// Secrets wraps each non-empty value as a Secret, in order, for
// WebhookConfig.AuthTokens; empty values are left out, so that
// verify.Secrets(os.Getenv("TWILIO_AUTH_TOKEN"), os.Getenv("TWILIO_AUTH_TOKEN_PREVIOUS"))
// lists the tokens that are set.
func Secrets(values ...string) []Secret {
	out := make([]Secret, 0, len(values))
	for _, v := range values {
		if v != "" {
			out = append(out, NewSecret(v))
		}
	}
	return out
}

// Format prints the configuration with its auth tokens counted, never
// shown, and PublicURL's password as "xxxxx", whatever the verb.
func (c WebhookConfig) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "verify.WebhookConfig{AuthTokens: %d redacted, PublicURL: %q, TrustForwardedHeaders: %v, MaxBodyBytes: %d, BodyReadTimeout: %v, ReplayWindow: %v, MaxEventAge: %v, OnReject: %v, Dedup: %s}",
		len(c.AuthTokens), redactURL(c.PublicURL), c.TrustForwardedHeaders, c.MaxBodyBytes, c.BodyReadTimeout, c.ReplayWindow, c.MaxEventAge, c.OnReject != nil, dedupName(c.Dedup))
}

// shownWebhookConfig is what the configuration shows of itself to log/slog and
// encoding/json: the same as Format.
type shownWebhookConfig struct {
	AuthTokens            int    `json:"auth_tokens"` // how many
	PublicURL             string `json:"public_url"`  // its password as xxxxx
	TrustForwardedHeaders bool   `json:"trust_forwarded_headers"`
	MaxBodyBytes          int64  `json:"max_body_bytes"`
	BodyReadTimeout       string `json:"body_read_timeout"`
	ReplayWindow          string `json:"replay_window"`
	MaxEventAge           string `json:"max_event_age"`
	OnReject              bool   `json:"on_reject"` // whether set
	Dedup                 string `json:"dedup"`     // its type, or "in-memory"
}

// dedupName is how a configuration shows its Dedup: the type, never the
// value (which may hold a connection's password), or "in-memory" for nil.
func dedupName(d Dedup) string {
	if d == nil {
		return "in-memory"
	}
	return fmt.Sprintf("%T", d)
}

func (c WebhookConfig) shown() shownWebhookConfig {
	return shownWebhookConfig{len(c.AuthTokens), redactURL(c.PublicURL), c.TrustForwardedHeaders, c.MaxBodyBytes,
		c.BodyReadTimeout.String(), c.ReplayWindow.String(), c.MaxEventAge.String(), c.OnReject != nil, dedupName(c.Dedup)}
}

// LogValue gives log/slog the configuration as Format shows it.
func (c WebhookConfig) LogValue() slog.Value {
	s := c.shown()
	return slog.GroupValue(slog.Int("auth_tokens", s.AuthTokens), slog.String("public_url", s.PublicURL),
		slog.Bool("trust_forwarded_headers", s.TrustForwardedHeaders), slog.Int64("max_body_bytes", s.MaxBodyBytes),
		slog.String("body_read_timeout", s.BodyReadTimeout), slog.String("replay_window", s.ReplayWindow), slog.String("max_event_age", s.MaxEventAge), slog.Bool("on_reject", s.OnReject), slog.String("dedup", s.Dedup))
}

// MarshalJSON writes the configuration as Format shows it: the tokens
// counted, PublicURL's password as "xxxxx".
func (c WebhookConfig) MarshalJSON() ([]byte, error) { return json.Marshal(c.shown()) }

// redactURL is rawURL with the password of its user info, if any, replaced
// by "xxxxx" (as net/url's Redacted does), the rest left as written.
func redactURL(rawURL string) string {
	sep := strings.Index(rawURL, "://")
	if sep < 0 {
		return rawURL
	}
	start := sep + len("://")
	end := len(rawURL)
	if i := strings.IndexAny(rawURL[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(rawURL[start:end], "@")
	if at < 0 {
		return rawURL
	}
	colon := strings.Index(rawURL[start:start+at], ":")
	if colon < 0 {
		return rawURL
	}
	return rawURL[:start+colon+1] + "xxxxx" + rawURL[start+at:]
}

func (c *WebhookConfig) maxBody() int64 {
	if c.MaxBodyBytes > 0 {
		return c.MaxBodyBytes
	}
	return DefaultWebhookMaxBodyBytes
}

// bodyReadTimeout is BodyReadTimeout with its default; negative means none.
func (c *WebhookConfig) bodyReadTimeout() time.Duration {
	if c.BodyReadTimeout != 0 {
		return c.BodyReadTimeout
	}
	return DefaultWebhookBodyReadTimeout
}

func (c *WebhookConfig) replayWindow() time.Duration {
	if c.ReplayWindow > 0 {
		return c.ReplayWindow
	}
	return DefaultReplayWindow
}

// maxEventAge is MaxEventAge with its default; negative means no limit.
func (c *WebhookConfig) maxEventAge() time.Duration {
	if c.MaxEventAge != 0 {
		return c.MaxEventAge
	}
	return c.replayWindow() + maxClockSkew
}

// check reports a configuration that can verify nothing.
func (c *WebhookConfig) check() error {
	if len(c.AuthTokens) == 0 {
		return errors.New("verify: WebhookConfig.AuthTokens is empty; set it to your account's auth token")
	}
	for i, t := range c.AuthTokens {
		if t.IsZero() {
			return fmt.Errorf("verify: WebhookConfig.AuthTokens[%d] is empty; remove it or set the token", i)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("verify: WebhookConfig.PublicURL must be an absolute http or https URL, the one registered at Twilio")
		}
		if u.User != nil {
			return errors.New("verify: WebhookConfig.PublicURL holds user info (user:password@); Twilio signs the URL without it, so leave it out")
		}
		if _, _, has := rawQueryParam(u.RawQuery, bodyHashParam); has {
			return errors.New("verify: WebhookConfig.PublicURL holds a bodySHA256; use the URL as registered at Twilio, without the one Twilio adds to each delivery")
		}
	}
	return nil
}

// Event is one Verify webhook delivery: a challenge approved or denied, or a
// factor created, verified or deleted. Fields an event type does not carry
// are zero.
type Event struct {
	UUID                   string          // uuid: the event's id; Twilio's retries repeat it
	Type                   EventType       // type: challenge.approved, factor.verified, …
	AccountSID             string          // account_sid: AC…
	ServiceSID             string          // service_sid: VA…
	EntityIdentity         string          // entity_identity: your id for the user
	FactorSID              string          // factor_sid: YF…
	FactorType             FactorType      // factor_type: push, totp
	FactorFriendlyName     string          // factor_friendly_name: the device's name
	ChallengeSID           string          // challenge_sid: YC…; empty for factor events
	ChallengeStatus        ChallengeStatus // challenge_status: approved or denied
	ChallengeDetails       Details         // challenge_details: what the user was shown
	ChallengeHiddenDetails SecretMap       // challenge_hidden_details: what you attached, not shown; prints redacted, Reveal reads it
	ChallengeMetadata      StringMap       // challenge_metadata: what the device sent with its answer
	DateCreated            time.Time       // date_created: when the event happened
	// Raw holds every field as received, known or not: a form body as
	// parsed, a JSON body's members as their string value or, for other
	// JSON values, their JSON text. The one exception is
	// challenge_hidden_details, which holds "[redacted]" when it was sent:
	// its value is in ChallengeHiddenDetails, which does not print.
	Raw url.Values
}

// String is a one-line summary of the event, for logs and fmt.Println:
// its type, then the challenge, its status, the factor, the uuid and the
// date, each when set. It shows no detail, metadata or identity.
//
//	challenge.approved challenge=YC… status=approved factor=YF… uuid=… created=2026-01-02T03:04:05Z
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(string(e.Type))
	add := func(name, value string) {
		if value != "" {
			b.WriteString(" " + name + "=" + value)
		}
	}
	add("challenge", e.ChallengeSID)
	add("status", string(e.ChallengeStatus))
	add("factor", e.FactorSID)
	if e.ChallengeSID == "" && e.FactorType != "" {
		b.WriteString(" (" + string(e.FactorType) + ")")
	}
	add("uuid", e.UUID)
	if !e.DateCreated.IsZero() {
		add("created", e.DateCreated.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// LogValue gives log/slog what String shows, as attributes: type, uuid,
// challenge_sid, challenge_status, factor_sid, factor_type and
// date_created, each when set.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("type", string(e.Type)), slog.String("uuid", e.UUID)}
	for _, a := range []slog.Attr{slog.String("challenge_sid", e.ChallengeSID), slog.String("challenge_status", string(e.ChallengeStatus)),
		slog.String("factor_sid", e.FactorSID), slog.String("factor_type", string(e.FactorType))} {
		if a.Value.String() != "" {
			attrs = append(attrs, a)
		}
	}
	if !e.DateCreated.IsZero() {
		attrs = append(attrs, slog.Time("date_created", e.DateCreated))
	}
	return slog.GroupValue(attrs...)
}

// stringFields are the Event fields that carry plain text.
var stringFields = []string{"uuid", "type", "account_sid", "service_sid", "entity_identity", "factor_sid",
	"factor_type", "factor_friendly_name", "challenge_sid", "challenge_status"}

// jsonFields are the Event fields that carry a JSON object: in a form body
// as JSON text, in a JSON body as an object or as a string of JSON text.
var jsonFields = []string{"challenge_details", hiddenDetailsField, "challenge_metadata"}

// sidFields are the Event fields that hold a SID, with its prefix.
var sidFields = []struct{ name, prefix string }{
	{"account_sid", "AC"}, {"service_sid", "VA"}, {"factor_sid", "YF"}, {"challenge_sid", "YC"},
}

// isSID reports whether s is prefix followed by 32 hex digits.
func isSID(s, prefix string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, c := range s[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// hiddenDetailsField is the field whose value Raw does not keep.
const hiddenDetailsField = "challenge_hidden_details"

// eventFields are all the fields ParseEvent reads.
var eventFields = slices.Concat(stringFields, jsonFields, []string{"date_created"})

// ParseEvent verifies a webhook delivery and decodes it into an *Event. It
// reads at most cfg.MaxBodyBytes of the body, checks X-Twilio-Signature
// against cfg.AuthTokens in constant time, and accepts a form body
// (application/x-www-form-urlencoded, the fields signed with the URL) or a
// JSON body (application/json, signed through bodySHA256 in the URL).
// Nothing about the body is judged before the signature is but its size:
// an unsigned request only ever learns that its signature is wrong, or
// that its body is over MaxBodyBytes or, for a form, over 64 fields, which
// are counted before any signature is computed. A request without a
// signature, with a header that is not one (the base64 of 20 bytes), or
// with a wrong one for a URL with bodySHA256 is refused before its body is
// read. ParseEvent sets no read deadline (it has no ResponseWriter): in
// your own handler, set one with http.ResponseController first, as
// NewWebhookHandler does with cfg.BodyReadTimeout.
//
// What the signature binds: the URL and the bytes of each key glued to its
// value, keys sorted, with no separator; not where one key or value ends.
// So a signed form has other readings with the same signature:
// date_created=D as the key "date_createdD" with an empty value,
// "challenge_st" with the value "atusapproved", a value that swallows the
// fields after it, or one that loses its tail to a new key. ParseEvent
// refuses the readings that touch the event's fields: a key that is a field
// name with more glued to it, or the start of one; a field given twice; a
// missing field whose name is in a value; a SID that is not 34 characters
// of its kind; and, while MaxEventAge applies, an event without
// date_created. So uuid, type, the SIDs, challenge_status and date_created
// are the ones Twilio sent. What it cannot bind: where a free-text value
// ends when the next key is one Twilio never sent (entity_identity
// "user-0001-alex" read as "user-0001-al" beside a key "ex"; the same for
// factor_friendly_name and factor_type), and a value running on into keys
// it does not know (a future field Twilio adds). Treat those as hints and
// Fetch what you act on (Wait does: an event only triggers a Fetch). With
// MaxEventAge negative it cannot tell a replay of any age. A JSON body is
// bound byte for byte through bodySHA256 and has one reading.
//
// Its errors match ErrWebhookSignature, ErrWebhookTooLarge,
// ErrWebhookMalformed or ErrWebhookStale, and say what failed without
// quoting the body or a token; a cfg that can verify nothing and a body
// that cannot be read give plain errors. ParseEvent is stateless:
// de-duplicating Twilio's retries is the handler's job (NewWebhookHandler
// does it).
func ParseEvent(r *http.Request, cfg WebhookConfig) (*Event, error) {
	return parseEvent(r, cfg, time.Now())
}

// parseEvent is ParseEvent on the clock now.
func parseEvent(r *http.Request, cfg WebhookConfig, now time.Time) (*Event, error) {
	ev, _, err := parseSigned(r, cfg, now)
	return ev, err
}

// parseSigned is parseEvent that also returns the URL the signature is
// checked against (empty only when cfg can verify nothing).
func parseSigned(r *http.Request, cfg WebhookConfig, now time.Time) (ev *Event, signed string, err error) {
	if err := cfg.check(); err != nil {
		return nil, "", err
	}
	signed = signedURL(r, cfg.PublicURL, cfg.TrustForwardedHeaders)
	ev, err = parseAt(r, cfg, now, signed)
	return ev, signed, err
}

// parseAt verifies r against the signed URL and decodes it. What can be
// refused without the body is refused before it is read: no signature, a
// header that is not one, and a wrong one for a JSON delivery, which Twilio
// signs through the URL alone. A form's fields are counted before its
// signature is computed.
func parseAt(r *http.Request, cfg WebhookConfig, now time.Time, signed string) (*Event, error) {
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return nil, fmt.Errorf("%w: no %s header; the request did not come from Twilio, or a proxy dropped the header", ErrWebhookSignature, SignatureHeader)
	}
	mac, ok := twiliosig.Decode(sig)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a signature (the base64 of a 20-byte HMAC-SHA1); the request did not come from Twilio", ErrWebhookSignature, SignatureHeader)
	}
	_, bodyHash, hashed := rawQueryParam(queryOf(signed), bodyHashParam)
	if hashed && !checkSignature(cfg.AuthTokens, mac, signed, nil) {
		// Twilio signed the URL alone; the body is bound to it by the hash
		// in that signed URL, and need not be read.
		return nil, signatureMismatch(r, cfg, mac, signed, nil)
	}
	body, err := readWebhookBody(r, cfg.maxBody())
	if err != nil {
		return nil, err
	}
	var form url.Values
	if hashed {
		if !checkBodyHash(bodyHash, body) {
			return nil, fmt.Errorf("%w: the body's SHA-256 is not the bodySHA256 in the URL; the body was changed on the way", ErrWebhookSignature)
		}
	} else {
		if n := bytes.Count(body, []byte("&")) + 1; n > maxFormFields {
			return nil, fmt.Errorf("%w: a form of %d fields, more than the %d a delivery may have (a Verify event has about 15)", ErrWebhookTooLarge, n, maxFormFields)
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, fmt.Errorf("%w: the body is neither a form the signature could cover nor bound by a bodySHA256 in the URL", ErrWebhookSignature)
		}
		data := twiliosig.FormData(form)
		if !checkSignature(cfg.AuthTokens, mac, signed, data) {
			err := signatureMismatch(r, cfg, mac, signed, data)
			if strings.Contains(r.Header.Get("Content-Type"), "json") {
				err = fmt.Errorf("%w (a JSON body is signed through a bodySHA256 in the URL, and the URL has none)", err)
			}
			return nil, err
		}
		if err := checkOneReading(form); err != nil {
			return nil, err
		}
	}

	// Signed: now the payload itself.
	media := "application/x-www-form-urlencoded"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if media, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, fmt.Errorf("%w: unreadable Content-Type header", ErrWebhookMalformed)
		}
	}
	raw := form
	switch {
	case media == "application/json" || strings.HasSuffix(media, "+json"):
		if raw, err = jsonMembers(body); err != nil {
			return nil, err
		}
	case media != "application/x-www-form-urlencoded":
		return nil, fmt.Errorf("%w: Content-Type is neither application/x-www-form-urlencoded nor application/json", ErrWebhookMalformed)
	case raw == nil:
		if raw, err = url.ParseQuery(string(body)); err != nil {
			return nil, fmt.Errorf("%w: the form body does not decode", ErrWebhookMalformed)
		}
		// Its bytes are bound by bodySHA256, but a form still has one
		// reading only: no field glued to more, none given twice.
		if err := checkOneReading(raw); err != nil {
			return nil, err
		}
	}
	ev, err := eventFromFields(raw)
	if err != nil {
		return nil, err
	}
	limit := cfg.maxEventAge()
	if limit >= 0 && ev.DateCreated.IsZero() {
		return nil, fmt.Errorf("%w: no date_created field, so the event's age cannot be judged (MaxEventAge -1 accepts events without one)", ErrWebhookMalformed)
	}
	if age := now.Sub(ev.DateCreated); !ev.DateCreated.IsZero() && limit >= 0 && age > limit {
		return nil, fmt.Errorf("%w: created %s ago, more than MaxEventAge (%s) allows; a replay, or a receiver whose clock is far from Twilio's",
			ErrWebhookStale, age.Round(time.Second), limit)
	}
	return ev, nil
}

// checkOneReading refuses a signed form that the same signed bytes could
// also have come from in another split. Twilio's signature covers the URL
// followed by each key and its value with nothing between them, so the
// bytes of date_created=2026-01-02T03:04:05Z are also those of the key
// "date_created2026-01-02T03:04:05Z" with an empty value, or of the key "d"
// with the value "ate_created2026-01-02T03:04:05Z"; a value may swallow the
// keys and values that follow it, or lose its tail to a new key
// (challenge_status=approve and d=). The signature binds the bytes, not the
// split. A form Twilio sends never has such keys, so any of these means the
// form was rewritten after signing:
//
//   - a key that is one of the event's fields with more after it
//     ("date_created2026…", "factor_sidYF…");
//   - a key that is the start of a field name ("challenge_st", "d", "");
//   - a field given twice (which one would count?);
//   - a field missing while a value holds its name (a field swallowed by
//     the value before it: challenge_sid = "YC…challenge_statusapproved").
//
// eventFromFields adds that every SID is one (AC, VA, YF or YC and 32 hex
// digits), so that none can be cut short or run on. What stays out of
// reach is documented on ParseEvent. The error names the field, never the
// key or value.
func checkOneReading(form url.Values) error {
	for _, k := range slices.Sorted(maps.Keys(form)) { // the first problem in key order: one error for one form
		vs := form[k]
		for _, f := range eventFields {
			switch {
			case k == f:
				if len(vs) > 1 {
					return fmt.Errorf("%w: the field %s is given %d times; Twilio sends it once", ErrWebhookMalformed, f, len(vs))
				}
			case strings.HasPrefix(k, f):
				return fmt.Errorf("%w: a key is the field name %s with more glued to it, the same signed bytes as %s and a value: a rewritten form", ErrWebhookMalformed, f, f)
			case strings.HasPrefix(f, k):
				return fmt.Errorf("%w: a key is the start of the field name %s, which the signed bytes cannot tell from %s split across key and value or a value's tail cut off: a rewritten form", ErrWebhookMalformed, f, f)
			}
		}
	}
	for _, f := range eventFields {
		if form.Has(f) {
			continue
		}
		for _, vs := range form {
			if slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, f) }) {
				return fmt.Errorf("%w: the field %s is missing and a value holds its name, the same signed bytes as a form with %s: a rewritten form", ErrWebhookMalformed, f, f)
			}
		}
	}
	return nil
}

// signatureMismatch says what to check when no token verifies mac for the
// signed URL. When one verifies it for another URL the request may have
// been meant for (rebuilt from the request, with or without the forwarded
// headers, or with the other scheme), the URL is what is wrong, and the
// error names the URL the signature is for; such a URL is only ever a
// diagnosis, never accepted. Otherwise the token is the likelier culprit.
func signatureMismatch(r *http.Request, cfg WebhookConfig, mac []byte, signed string, data []byte) error {
	for _, other := range []string{
		signedURL(r, "", true), signedURL(r, "", false), otherScheme(signed),
	} {
		if other != signed && other != "" && checkSignature(cfg.AuthTokens, mac, other, data) {
			return fmt.Errorf("%w: X-Twilio-Signature is for %s, not %s: the URL is wrong, not the token; set PublicURL to the URL registered at Twilio (or TrustForwardedHeaders behind a proxy that sets X-Forwarded-Proto and X-Forwarded-Host)",
				ErrWebhookSignature, redactURL(other), redactURL(signed))
		}
	}
	where := "the URL rebuilt from the request"
	if cfg.PublicURL != "" {
		where = "PublicURL"
	}
	return fmt.Errorf("%w: X-Twilio-Signature matches none of the %d auth token(s) for %s (%s), nor for the URL the request came to: "+
		"a wrong or outdated auth token (the account's, not an API key secret), a URL other than the one registered at Twilio (set PublicURL behind a proxy), or a forged request",
		ErrWebhookSignature, len(cfg.AuthTokens), where, redactURL(signed))
}

// otherScheme is rawURL with http and https swapped; "" for another scheme.
func otherScheme(rawURL string) string {
	switch {
	case strings.HasPrefix(rawURL, "https://"):
		return "http://" + rawURL[len("https://"):]
	case strings.HasPrefix(rawURL, "http://"):
		return "https://" + rawURL[len("http://"):]
	}
	return ""
}

// readWebhookBody reads the whole body, failing with ErrWebhookTooLarge past max.
func readWebhookBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds %d bytes", ErrWebhookTooLarge, r.ContentLength, max)
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("verify: reading the webhook body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrWebhookTooLarge, max)
	}
	return body, nil
}

// jsonMembers reads a JSON object's members into form-like values: strings
// as their text, null as "", anything else as its JSON text. The known text
// fields must be strings or null.
func jsonMembers(body []byte) (url.Values, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return nil, fmt.Errorf("%w: the JSON body is not an object", ErrWebhookMalformed)
	}
	raw := make(url.Values, len(members))
	for k, v := range members {
		v = bytes.TrimSpace(v)
		switch {
		case string(v) == "null":
			raw.Set(k, "")
		case v[0] == '"':
			var s string
			_ = json.Unmarshal(v, &s) // valid: the object decoded
			raw.Set(k, s)
		default:
			for _, f := range stringFields {
				if k == f {
					return nil, fmt.Errorf("%w: %s must be a JSON string", ErrWebhookMalformed, k)
				}
			}
			raw.Set(k, string(v))
		}
	}
	return raw, nil
}

// eventFromFields types the fields of a verified delivery.
func eventFromFields(raw url.Values) (*Event, error) {
	ev := &Event{
		UUID:               raw.Get("uuid"),
		Type:               EventType(raw.Get("type")),
		AccountSID:         raw.Get("account_sid"),
		ServiceSID:         raw.Get("service_sid"),
		EntityIdentity:     raw.Get("entity_identity"),
		FactorSID:          raw.Get("factor_sid"),
		FactorType:         FactorType(raw.Get("factor_type")),
		FactorFriendlyName: raw.Get("factor_friendly_name"),
		ChallengeSID:       raw.Get("challenge_sid"),
		ChallengeStatus:    ChallengeStatus(raw.Get("challenge_status")),
		Raw:                raw,
	}
	if ev.UUID == "" {
		return nil, fmt.Errorf("%w: no uuid field", ErrWebhookMalformed)
	}
	for _, f := range sidFields {
		if sid := raw.Get(f.name); sid != "" && !isSID(sid, f.prefix) {
			return nil, fmt.Errorf("%w: %s is not a %s SID (%s and 32 hex digits)", ErrWebhookMalformed, f.name, f.prefix, f.prefix)
		}
	}
	if ev.Type == "" {
		return nil, fmt.Errorf("%w: no type field", ErrWebhookMalformed)
	}
	if d := raw.Get("date_created"); d != "" {
		t, err := time.Parse(time.RFC3339, d)
		if err != nil {
			return nil, fmt.Errorf("%w: date_created is not an RFC 3339 date", ErrWebhookMalformed)
		}
		ev.DateCreated = t
	}
	targets := []any{&ev.ChallengeDetails, &ev.ChallengeHiddenDetails, &ev.ChallengeMetadata}
	for i, key := range jsonFields {
		text := raw.Get(key)
		if text == "" || text == "null" {
			continue
		}
		if err := json.Unmarshal([]byte(text), targets[i]); err != nil || !strings.HasPrefix(strings.TrimSpace(text), "{") {
			return nil, fmt.Errorf("%w: %s is not the JSON object expected", ErrWebhookMalformed, key)
		}
	}
	if raw.Has(hiddenDetailsField) {
		raw[hiddenDetailsField] = []string{redactedText} // the value is in ChallengeHiddenDetails, which does not print
	}
	return ev, nil
}
