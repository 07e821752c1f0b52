package redisevents

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	verify "github.com/verifykit/verify-go"
)

// An event on the bus is a JSON object of the fields Wait and a login need
// to know what happened to which challenge: never its details, hidden
// details or metadata, which stay on the instance that received the
// webhook. Events from the bus are hints: Wait Fetches the challenge.
type wireEvent struct {
	V               int    `json:"v"`
	UUID            string `json:"uuid"`
	Type            string `json:"type"`
	AccountSID      string `json:"account_sid,omitempty"`
	ServiceSID      string `json:"service_sid,omitempty"`
	EntityIdentity  string `json:"entity_identity,omitempty"`
	FactorSID       string `json:"factor_sid,omitempty"`
	FactorType      string `json:"factor_type,omitempty"`
	ChallengeSID    string `json:"challenge_sid"`
	ChallengeStatus string `json:"challenge_status,omitempty"`
	DateCreated     string `json:"date_created,omitempty"`
}

const (
	wireVersion = 1
	// maxMessage caps what decode reads; an event is well under 1 KiB.
	maxMessage = 4 << 10
	// maxField caps each string field.
	maxField = 256
)

var errBadMessage = errors.New("redisevents: not an event")

// encode is ev as it goes on the bus.
func encode(ev *verify.Event) ([]byte, error) {
	w := wireEvent{
		V: wireVersion, UUID: ev.UUID, Type: string(ev.Type), AccountSID: ev.AccountSID, ServiceSID: ev.ServiceSID,
		EntityIdentity: ev.EntityIdentity, FactorSID: ev.FactorSID, FactorType: string(ev.FactorType),
		ChallengeSID: ev.ChallengeSID, ChallengeStatus: string(ev.ChallengeStatus),
	}
	if !ev.DateCreated.IsZero() {
		w.DateCreated = ev.DateCreated.UTC().Format(time.RFC3339Nano)
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("redisevents: cannot publish event %q: %w", ev.UUID, err)
	}
	return json.Marshal(w)
}

// decode reads an event from the bus, refusing anything encode would not
// have written: another version, a challenge SID that is not one, no uuid
// or type, an overlong field or message, a bad date.
func decode(b []byte) (*verify.Event, error) {
	if len(b) > maxMessage {
		return nil, fmt.Errorf("%w: %d bytes", errBadMessage, len(b))
	}
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadMessage, err)
	}
	if w.V != wireVersion {
		return nil, fmt.Errorf("%w: version %d", errBadMessage, w.V)
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadMessage, err)
	}
	ev := &verify.Event{
		UUID: w.UUID, Type: verify.EventType(w.Type), AccountSID: w.AccountSID, ServiceSID: w.ServiceSID,
		EntityIdentity: w.EntityIdentity, FactorSID: w.FactorSID, FactorType: verify.FactorType(w.FactorType),
		ChallengeSID: w.ChallengeSID, ChallengeStatus: verify.ChallengeStatus(w.ChallengeStatus),
	}
	if w.DateCreated != "" {
		t, err := time.Parse(time.RFC3339, w.DateCreated)
		if err != nil {
			return nil, fmt.Errorf("%w: date_created: %v", errBadMessage, err)
		}
		ev.DateCreated = t.UTC()
	}
	return ev, nil
}

// check holds what an event on the bus must be.
func (w *wireEvent) check() error {
	switch {
	case !isSID("YC", w.ChallengeSID):
		return errors.New("challenge_sid is not a challenge SID")
	case w.UUID == "" || w.Type == "":
		return errors.New("no uuid or type")
	}
	for _, f := range []string{w.UUID, w.Type, w.AccountSID, w.ServiceSID, w.EntityIdentity, w.FactorSID, w.FactorType, w.ChallengeStatus, w.DateCreated} {
		if len(f) > maxField {
			return fmt.Errorf("a field is over %d bytes", maxField)
		}
	}
	return nil
}

// isSID reports whether s is prefix and 32 hex digits.
func isSID(prefix, s string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for _, c := range s[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
