package verify

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits the API enforces; the SDK checks them before sending.
const (
	MaxMessageLength     = 256
	MaxFields            = 20
	MaxFieldLabelLength  = 36
	MaxFieldValueLength  = 128
	MaxJSONMapLength     = 1024 // HiddenDetails and Metadata, as JSON
	MaxAuthPayloadLength = 5456
	MinTOTPCodeLength    = 3
	MaxTOTPCodeLength    = 8
	MaxExpiration        = 60 * time.Minute
	MaxPageSize          = 1000
	MaxNotifyTTL         = 300 * time.Second
)

// checkSID validates a SID with its two-letter prefix and 32 hex digits.
func checkSID(field, sid, prefix string) error {
	if len(sid) != 34 || sid[:2] != prefix || !isHex(sid[2:]) {
		return invalid(field, "must be %s followed by 32 hex digits (34 characters)", prefix)
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// ValidateIdentity checks an entity identity: 8 to 64 characters of
// dash-separated ASCII letters and digits. The error is a *ValidationError.
func ValidateIdentity(id string) error {
	const rule = "must be 8 to 64 characters of dash-separated letters and digits, such as a UUID"
	if len(id) < 8 || len(id) > 64 || id[0] == '-' || id[len(id)-1] == '-' {
		return invalid("Identity", rule)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c == '-' && id[i-1] != '-':
		default:
			return invalid("Identity", rule)
		}
	}
	return nil
}

// Validate checks every limit the API enforces on Create, as Create does
// before sending; the error is a *ValidationError.
func (p *CreateChallengeParams) Validate() error { return p.validate(time.Now()) }

// validate checks every Create limit; now is the client's clock.
func (p *CreateChallengeParams) validate(now time.Time) error {
	if p.FactorSID == "" {
		return invalid("FactorSid", "is required")
	}
	if err := checkSID("FactorSid", p.FactorSID, "YF"); err != nil {
		return err
	}
	if !p.ExpirationDate.IsZero() {
		if !p.ExpirationDate.After(now) {
			return invalid("ExpirationDate", "must be in the future")
		}
		if p.ExpirationDate.Sub(now) > MaxExpiration {
			return invalid("ExpirationDate", "must be at most 60 minutes ahead")
		}
	}
	if err := p.Details.validate(); err != nil {
		return err
	}
	if err := checkJSONMap("HiddenDetails", p.HiddenDetails.m, Secret.Reveal); err != nil {
		return err
	}
	if !p.AuthPayload.IsZero() {
		if n := utf8.RuneCountInString(p.AuthPayload.Reveal()); n < MinTOTPCodeLength || n > MaxTOTPCodeLength {
			return invalid("AuthPayload", "a TOTP code must be 3 to 8 characters")
		}
	}
	return nil
}

// validate checks the message and field limits.
func (d *Details) validate() error {
	if d == nil {
		return nil
	}
	if d.Message == "" {
		return invalid("Details.Message", "is required when Details is set (push challenges need it)")
	}
	if !utf8.ValidString(d.Message) {
		return invalid("Details.Message", "must be valid UTF-8")
	}
	if utf8.RuneCountInString(d.Message) > MaxMessageLength {
		return invalid("Details.Message", "must be at most 256 characters")
	}
	if len(d.Fields) > MaxFields {
		return invalid("Details.Fields", "must hold at most 20 fields")
	}
	for i, f := range d.Fields {
		name := func() string { return "Details.Fields[" + strconv.Itoa(i) + "]" }
		if f.Label == "" {
			return invalid(name()+".Label", "is required")
		}
		if !utf8.ValidString(f.Label) || !utf8.ValidString(f.Value) {
			return invalid(name(), "label and value must be valid UTF-8")
		}
		if utf8.RuneCountInString(f.Label) > MaxFieldLabelLength {
			return invalid(name()+".Label", "must be at most 36 characters")
		}
		if utf8.RuneCountInString(f.Value) > MaxFieldValueLength {
			return invalid(name()+".Value", "must be at most 128 characters")
		}
	}
	return nil
}

// Validate checks the limits the API enforces on Update; the error is a
// *ValidationError. AuthPayload is required: it is what answers the challenge.
func (p *UpdateChallengeParams) Validate() error {
	if p.AuthPayload.IsZero() {
		return invalid("AuthPayload", "is required: the TOTP code, or the JWT the push device signed")
	}
	if utf8.RuneCountInString(p.AuthPayload.Reveal()) > MaxAuthPayloadLength {
		return invalid("AuthPayload", "must be at most 5456 characters")
	}
	return checkJSONMap("Metadata", p.Metadata, plainText)
}

// Validate checks the List filters and bounds; the error is a *ValidationError.
func (p *ListChallengesParams) Validate() error {
	if err := checkOptionalSID("FactorSid", p.FactorSID, "YF"); err != nil {
		return err
	}
	if p.Status != "" && !p.Status.Known() {
		return invalid("Status", "must be pending, expired, approved or denied")
	}
	if p.Order != "" && p.Order != OrderAsc && p.Order != OrderDesc {
		return invalid("Order", "must be asc or desc")
	}
	return p.ListParams.Validate()
}

// checkJSONMap bounds the JSON the map, its values text(v), encodes to.
func checkJSONMap[V any](field string, m map[string]V, text func(V) string) error {
	if len(m) == 0 {
		return nil
	}
	if err := checkUTF8Map(field, m, text); err != nil {
		return err
	}
	bp := formBuffers.Get().(*[]byte)
	*bp = appendJSONMap((*bp)[:0], m, text)
	n := utf8.RuneCount(*bp)
	formBuffers.Put(bp)
	if n > MaxJSONMapLength {
		return invalid(field, "must be at most 1024 characters as JSON")
	}
	return nil
}

// checkUTF8Map requires the keys and values, text(v), to be valid UTF-8,
// which encoding/json would otherwise change.
func checkUTF8Map[V any](field string, m map[string]V, text func(V) string) error {
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(text(v)) {
			return invalid(field, "keys and values must be valid UTF-8")
		}
	}
	return nil
}

// Validate checks the notification TTL; the error is a *ValidationError.
func (p *NotifyParams) Validate() error {
	return checkSeconds("Ttl", p.TTL, 0, MaxNotifyTTL)
}
