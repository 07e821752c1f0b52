package redisevents

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	verify "github.com/verifykit/verify-go"
)

// TestEncodingCarriesNoSecret: an event on the bus has its ids, type,
// status and date, never its details, hidden details, metadata, friendly
// name or raw fields.
func TestEncodingCarriesNoSecret(t *testing.T) {
	t.Parallel()
	ev := approved(newSID(), "uuid-1")
	ev.ChallengeHiddenDetails = verify.NewSecretMap(map[string]string{"session": "hidden-s3cr3t"})
	ev.ChallengeDetails = verify.Details{Message: "details-s3cr3t"}
	ev.ChallengeMetadata = verify.StringMap{"os": "metadata-s3cr3t"}
	ev.FactorFriendlyName = "name-s3cr3t"
	ev.Raw = map[string][]string{"x": {"raw-s3cr3t"}}
	b, err := encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("s3cr3t")) {
		t.Errorf("encoded %s", b)
	}
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.UUID != ev.UUID || got.ChallengeSID != ev.ChallengeSID || got.Type != ev.Type || got.ChallengeStatus != ev.ChallengeStatus ||
		got.AccountSID != ev.AccountSID || got.ServiceSID != ev.ServiceSID || got.FactorSID != ev.FactorSID ||
		got.FactorType != ev.FactorType || got.EntityIdentity != ev.EntityIdentity || !got.DateCreated.Equal(ev.DateCreated) {
		t.Errorf("decoded %+v, want %+v", got, ev)
	}
}

// TestPublishRefusesWhatTheBusWouldNotCarry: an event whose challenge SID
// is not one, or without a uuid, fails Publish (500 to Twilio) rather than
// going out for every Wait to drop.
func TestPublishRefusesWhatTheBusWouldNotCarry(t *testing.T) {
	t.Parallel()
	bus := &Bus{prefix: DefaultPrefix}
	for name, ev := range map[string]*verify.Event{
		"nil":     nil,
		"bad SID": approved("YC123", "uuid"),
		"no uuid": approved(newSID(), ""),
		"overlong field": func() *verify.Event {
			e := approved(newSID(), "u")
			e.EntityIdentity = strings.Repeat("x", 300)
			return e
		}(),
	} {
		if err := bus.Publish(ctx, ev); err == nil {
			t.Errorf("%s: Publish succeeded", name)
		}
	}
}

// TestDecodeRefuses: what encode never writes is not an event.
func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	sid := newSID()
	for name, msg := range map[string]string{
		"not JSON":      `approved`,
		"array":         `[1]`,
		"version 2":     `{"v":2,"uuid":"u","type":"challenge.approved","challenge_sid":"` + sid + `"}`,
		"no version":    `{"uuid":"u","type":"challenge.approved","challenge_sid":"` + sid + `"}`,
		"factor SID":    `{"v":1,"uuid":"u","type":"challenge.approved","challenge_sid":"YF` + sid[2:] + `"}`,
		"short SID":     `{"v":1,"uuid":"u","type":"challenge.approved","challenge_sid":"YC12"}`,
		"no type":       `{"v":1,"uuid":"u","challenge_sid":"` + sid + `"}`,
		"bad date":      `{"v":1,"uuid":"u","type":"t","challenge_sid":"` + sid + `","date_created":"yesterday"}`,
		"huge":          `{"v":1,"uuid":"` + strings.Repeat("u", maxMessage) + `","type":"t","challenge_sid":"` + sid + `"}`,
		"wrong type":    `{"v":1,"uuid":7,"type":"t","challenge_sid":"` + sid + `"}`,
		"trailing junk": `{"v":1,"uuid":"u","type":"t","challenge_sid":"` + sid + `"} {}`,
	} {
		if ev, err := decode([]byte(msg)); err == nil || !errors.Is(err, errBadMessage) {
			t.Errorf("%s: decoded %+v, err %v", name, ev, err)
		}
	}
}

// FuzzDecode: whatever arrives on the channel, decode does not panic; what
// it accepts has a challenge SID and encodes back to what decodes the same.
func FuzzDecode(f *testing.F) {
	ev := approved("YC"+strings.Repeat("0a", 16), "3a1c1b1e-0000-4000-8000-000000000001")
	b, _ := encode(ev)
	f.Add(b)
	f.Add([]byte(`{"v":1,"uuid":"u","type":"challenge.denied","challenge_sid":"YCffffffffffffffffffffffffffffffff","date_created":"2026-01-02T03:04:05+02:00"}`))
	f.Add([]byte(`{"v":1,"v":1,"uuid":"\u0000","type":"\ud800","challenge_sid":"YC00000000000000000000000000000000"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"v":1,"uuid":"u","type":"t","challenge_sid":"YC00000000000000000000000000000000","date_created":"2026-01-02T03:04:05.25-07:00"}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		ev, err := decode(msg)
		if err != nil {
			if ev != nil {
				t.Fatal("an error with an event")
			}
			return
		}
		if !isSID("YC", ev.ChallengeSID) || ev.UUID == "" || ev.Type == "" {
			t.Fatalf("accepted %+v", ev)
		}
		again, err := encode(ev)
		if err != nil {
			t.Fatalf("an accepted event does not encode: %v", err)
		}
		back, err := decode(again)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", again, err)
		}
		if back.UUID != ev.UUID || back.Type != ev.Type || back.ChallengeSID != ev.ChallengeSID || back.ChallengeStatus != ev.ChallengeStatus ||
			back.EntityIdentity != ev.EntityIdentity || !back.DateCreated.Equal(ev.DateCreated) || back.DateCreated.Location() != time.UTC {
			t.Fatalf("round trip: %+v became %+v", ev, back)
		}
	})
}
