package verifytest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	verify "github.com/verifykit/verify-go"
)

// The events the server raises, and their payload. Every event carries
// uuid, type, account_sid, service_sid, entity_identity, factor_sid,
// factor_type, factor_friendly_name and date_created (RFC 3339, the
// server's clock). Challenge events add challenge_sid, challenge_status and
// challenge_details, plus challenge_hidden_details and challenge_metadata
// when the challenge has them. Every function here is called with s.mu
// held, at the moment the state changes, so each webhook gets its events
// in the order they happened.

// eventJSONFields are the fields that carry a JSON object: text in a form
// body, a nested object in a JSON body.
var eventJSONFields = []string{"challenge_details", "challenge_hidden_details", "challenge_metadata"}

// eventDetails is challenge_details as an event carries it.
type eventDetails struct {
	Message string         `json:"message"`
	Date    string         `json:"date"`
	Fields  []verify.Field `json:"fields"`
}

// factorEvent raises a factor.* event for f.
func (s *Server) factorEvent(typ verify.EventType, f *factor) {
	s.emit(f.entity.serviceSID, typ, factorFields(f))
}

// factorCreated raises factor.created for a factor just stored, then
// factor.verified if it was stored already verified (a helper's factor).
func (s *Server) factorCreated(f *factor) {
	s.factorEvent(verify.EventFactorCreated, f)
	if f.verified {
		s.factorEvent(verify.EventFactorVerified, f)
	}
}

// factorFields are the fields of every event about f or its challenges.
func factorFields(f *factor) url.Values {
	return url.Values{
		"entity_identity":      {f.entity.identity},
		"factor_sid":           {f.sid},
		"factor_type":          {string(f.kind)},
		"factor_friendly_name": {f.friendlyName},
	}
}

// challengeAnswered raises challenge.approved or challenge.denied for c,
// just answered. A challenge created without Details has an empty message
// and no fields, dated when it was created.
func (s *Server) challengeAnswered(c *challenge) {
	typ := verify.EventChallengeApproved
	if c.status == verify.StatusDenied {
		typ = verify.EventChallengeDenied
	}
	v := factorFields(c.factor)
	v.Set("challenge_sid", c.sid)
	v.Set("challenge_status", string(c.status))
	details := eventDetails{Date: c.created.UTC().Format(time.RFC3339), Fields: []verify.Field{}}
	if c.details != nil {
		details.Message = c.details.Message
		details.Date = c.detailsDate.UTC().Format(time.RFC3339)
		details.Fields = append(details.Fields, c.details.Fields...)
	}
	v.Set("challenge_details", compactJSON(details))
	if len(c.hidden) > 0 {
		v.Set("challenge_hidden_details", compactJSON(c.hidden))
	}
	if len(c.metadata) > 0 {
		v.Set("challenge_metadata", compactJSON(c.metadata))
	}
	s.emit(c.serviceSID, typ, v)
}

// emit completes an event's fields and queues it for every enabled webhook
// of the service that subscribes to its type, in creation order.
func (s *Server) emit(serviceSID string, typ verify.EventType, fields url.Values) {
	svc := s.services[serviceSID]
	if svc == nil {
		return
	}
	ev := &event{uuid: newUUID(), typ: typ, challengeSID: fields.Get("challenge_sid"), factorSID: fields.Get("factor_sid"), fields: fields}
	fields.Set("uuid", ev.uuid)
	fields.Set("type", string(typ))
	fields.Set("account_sid", s.accountSID)
	fields.Set("service_sid", serviceSID)
	fields.Set("date_created", s.now().Format(time.RFC3339))
	for _, h := range svc.webhooks {
		if h.receives(typ) {
			s.hooks.enqueue(h.sid, h.url, ev)
		}
	}
}

// receives reports whether the webhook is enabled and subscribes to typ,
// by name or with EventAll.
func (h *webhook) receives(typ verify.EventType) bool {
	return h.status == verify.WebhookStatusEnabled &&
		(slices.Contains(h.events, verify.EventAll) || slices.Contains(h.events, typ))
}

// jsonEventBody is an event's fields as one JSON object: text fields as
// strings, the JSON fields as nested objects.
func jsonEventBody(fields url.Values) []byte {
	m := make(map[string]any, len(fields))
	for k := range fields {
		v := fields.Get(k)
		if slices.Contains(eventJSONFields, k) {
			m[k] = json.RawMessage(v)
		} else {
			m[k] = v
		}
	}
	return []byte(compactJSON(m))
}

// compactJSON is v as compact JSON text, with <, > and & as they are.
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("verifytest: encoding an event field: %v", err)) // strings, maps and fields of strings always encode
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// newUUID is a random (version 4) UUID, an event's id.
func newUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("verifytest: reading random bytes: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
