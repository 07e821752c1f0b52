package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// PasskeyCreationOptions are the WebAuthn options that register a passkey,
// kept exactly as Verify sent them (Raw, and MarshalJSON) and read into the
// fields below for the server's own use. Verify's shape departs from
// WebAuthn's: the options sit in a "publicKey" member and pubKeyCredParams
// may be one object instead of a list. BrowserJSON gives the form
// PublicKeyCredential.parseCreationOptionsFromJSON() accepts.
//
// Reading never fails: a member of an unexpected shape leaves its field
// zero, and Raw still holds it.
type PasskeyCreationOptions struct {
	Challenge              string                        // base64url: what the authenticator signs
	RP                     PasskeyRelyingParty           // rp: ID and Name (no Origins in options)
	User                   PasskeyUser                   // user: the entity the passkey is for
	PubKeyCredParams       []PasskeyCredentialParameter  // the key algorithms Verify accepts
	Timeout                time.Duration                 // timeout, sent in milliseconds; 0 when absent
	ExcludeCredentials     []PasskeyCredentialDescriptor // passkeys the user already has, not to register again
	AuthenticatorSelection PasskeyAuthenticatorSelection // which authenticators may hold the passkey
	Attestation            string                        // attestation conveyance, such as "none"

	raw json.RawMessage
}

// PasskeyRequestOptions are the WebAuthn options that sign a login, kept
// exactly as Verify sent them (Raw, and MarshalJSON) and read into the
// fields below for the server's own use. BrowserJSON gives the form
// PublicKeyCredential.parseRequestOptionsFromJSON() accepts (Verify wraps
// the options in a "publicKey" member).
//
// Reading never fails: a member of an unexpected shape leaves its field
// zero, and Raw still holds it.
type PasskeyRequestOptions struct {
	Challenge        string                        // base64url: what the authenticator signs
	RPID             string                        // rpId: the relying party's domain
	AllowCredentials []PasskeyCredentialDescriptor // the passkeys that may answer; empty: any discoverable one (usernameless)
	Timeout          time.Duration                 // timeout, sent in milliseconds; 0 when absent
	UserVerification PasskeyRequirement            // whether the authenticator must verify the user

	raw json.RawMessage
}

// PasskeyUser is the user a passkey is registered for, as WebAuthn names it.
type PasskeyUser struct {
	ID          string `json:"id"`          // base64url user handle; Verify's names the entity
	Name        string `json:"name"`        // shown by the authenticator
	DisplayName string `json:"displayName"` // shown by the authenticator
}

// PasskeyCredentialParameter is one key type and COSE algorithm a new
// passkey may use, such as ES256 (-7).
type PasskeyCredentialParameter struct {
	Type string `json:"type"` // "public-key"
	Alg  int    `json:"alg"`  // COSE algorithm identifier
}

// PasskeyCredentialDescriptor names one registered passkey.
type PasskeyCredentialDescriptor struct {
	Type       string   `json:"type"`                 // "public-key"
	ID         string   `json:"id"`                   // base64url credential id
	Transports []string `json:"transports,omitempty"` // how the browser may reach it: internal, hybrid, usb, …
}

// PasskeyAuthenticatorSelection says which authenticators may create a passkey.
type PasskeyAuthenticatorSelection struct {
	AuthenticatorAttachment AuthenticatorAttachment `json:"authenticatorAttachment"` // platform or cross-platform
	RequireResidentKey      bool                    `json:"requireResidentKey"`      // the older spelling of ResidentKey required
	ResidentKey             PasskeyRequirement      `json:"residentKey"`             // whether the passkey must be discoverable
	UserVerification        PasskeyRequirement      `json:"userVerification"`        // whether the authenticator must verify the user
}

// UnmarshalJSON keeps the options as they are and reads what it can of them.
func (o *PasskeyCreationOptions) UnmarshalJSON(b []byte) error {
	*o = PasskeyCreationOptions{raw: keepRaw(b)}
	var w struct {
		PublicKey *creationOptionsWire `json:"publicKey"`
		creationOptionsWire
	}
	_ = json.Unmarshal(b, &w) // a member of the wrong kind is skipped, the others read
	v := &w.creationOptionsWire
	if w.PublicKey != nil {
		v = w.PublicKey
	}
	o.Challenge, o.RP, o.User = v.Challenge, PasskeyRelyingParty{ID: v.RP.ID, Name: v.RP.Name}, v.User
	o.PubKeyCredParams, o.Timeout, o.ExcludeCredentials = v.PubKeyCredParams, millis(v.Timeout), v.ExcludeCredentials
	o.AuthenticatorSelection, o.Attestation = v.AuthenticatorSelection, v.Attestation
	return nil
}

// UnmarshalJSON keeps the options as they are and reads what it can of them.
func (o *PasskeyRequestOptions) UnmarshalJSON(b []byte) error {
	*o = PasskeyRequestOptions{raw: keepRaw(b)}
	var w struct {
		PublicKey *requestOptionsWire `json:"publicKey"`
		requestOptionsWire
	}
	_ = json.Unmarshal(b, &w) // a member of the wrong kind is skipped, the others read
	v := &w.requestOptionsWire
	if w.PublicKey != nil {
		v = w.PublicKey
	}
	o.Challenge, o.RPID, o.AllowCredentials = v.Challenge, v.RPID, v.AllowCredentials
	o.Timeout, o.UserVerification = millis(v.Timeout), v.UserVerification
	return nil
}

// creationOptionsWire and requestOptionsWire are the WebAuthn members as
// Verify spells them, read in one pass.
type creationOptionsWire struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User                   PasskeyUser                   `json:"user"`
	PubKeyCredParams       credentialParameters          `json:"pubKeyCredParams"`
	Timeout                float64                       `json:"timeout"`
	ExcludeCredentials     []PasskeyCredentialDescriptor `json:"excludeCredentials"`
	AuthenticatorSelection PasskeyAuthenticatorSelection `json:"authenticatorSelection"`
	Attestation            string                        `json:"attestation"`
}

type requestOptionsWire struct {
	Challenge        string                        `json:"challenge"`
	RPID             string                        `json:"rpId"`
	AllowCredentials []PasskeyCredentialDescriptor `json:"allowCredentials"`
	Timeout          float64                       `json:"timeout"`
	UserVerification PasskeyRequirement            `json:"userVerification"`
}

// credentialParameters reads pubKeyCredParams as a list, or as the one
// object Verify may send instead; any other shape leaves it empty.
type credentialParameters []PasskeyCredentialParameter

// UnmarshalJSON never fails: an error here would stop the whole options
// from being read, where a member of an unexpected shape is to leave only
// its own field zero.
func (p *credentialParameters) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one PasskeyCredentialParameter
		if json.Unmarshal(b, &one) == nil {
			*p = credentialParameters{one}
		}
		return nil
	}
	var list []PasskeyCredentialParameter
	if json.Unmarshal(b, &list) == nil {
		*p = list
	}
	return nil
}

// MarshalJSON writes the options exactly as Verify sent them (null when it
// sent none), so a PasskeyFactor stored as JSON keeps them whole.
func (o PasskeyCreationOptions) MarshalJSON() ([]byte, error) { return rawOrNull(o.raw), nil }

// MarshalJSON writes the options exactly as Verify sent them (null when it
// sent none).
func (o PasskeyRequestOptions) MarshalJSON() ([]byte, error) { return rawOrNull(o.raw), nil }

// Raw is a copy of the options exactly as Verify sent them; nil when it
// sent none (or null).
func (o *PasskeyCreationOptions) Raw() json.RawMessage { return bytes.Clone(o.raw) }

// Raw is a copy of the options exactly as Verify sent them; nil when it
// sent none (or null).
func (o *PasskeyRequestOptions) Raw() json.RawMessage { return bytes.Clone(o.raw) }

// BrowserJSON is the options as PublicKeyCredential.parseCreationOptionsFromJSON()
// takes them: the members of Verify's "publicKey" object (or of the options
// themselves when there is none), pubKeyCredParams made a list when Verify
// sent one object, everything else as sent. The error matches
// ErrInvalidResponse when the options lack a member WebAuthn requires
// (challenge, rp, user, pubKeyCredParams), have one of the wrong kind, or
// are not an object.
func (o *PasskeyCreationOptions) BrowserJSON() (json.RawMessage, error) {
	m, err := browserMembers(o.raw, "creation", "challenge", "rp", "user", "pubKeyCredParams")
	if err != nil {
		return nil, err
	}
	switch p := bytes.TrimSpace(m["pubKeyCredParams"]); p[0] {
	case '{':
		m["pubKeyCredParams"] = append(append([]byte{'['}, p...), ']')
	case '[':
	default:
		return nil, fmt.Errorf("%w: Verify's passkey creation options have a pubKeyCredParams that is neither a list nor an object", ErrInvalidResponse)
	}
	return json.Marshal(m)
}

// BrowserJSON is the options as PublicKeyCredential.parseRequestOptionsFromJSON()
// takes them: the members of Verify's "publicKey" object (or of the options
// themselves when there is none), as sent. The error matches
// ErrInvalidResponse when the options have no challenge or are not an object.
func (o *PasskeyRequestOptions) BrowserJSON() (json.RawMessage, error) {
	m, err := browserMembers(o.raw, "request", "challenge")
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// keepRaw copies b (json.Unmarshal reuses its buffer); null keeps nothing.
func keepRaw(b []byte) json.RawMessage {
	if t := bytes.TrimSpace(b); len(t) == 0 || string(t) == "null" {
		return nil
	}
	return bytes.Clone(b)
}

func rawOrNull(raw json.RawMessage) []byte {
	if raw == nil {
		return []byte("null")
	}
	return raw
}

// optionMembers are the members of the WebAuthn options in b: those of its
// "publicKey" object when it has one, else its own; nil when b is not an
// object.
func optionMembers(b []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	if pk := bytes.TrimSpace(m["publicKey"]); len(pk) > 0 && pk[0] == '{' {
		var inner map[string]json.RawMessage
		if json.Unmarshal(pk, &inner) == nil {
			return inner
		}
	}
	return m
}

// millis is a WebAuthn timeout in milliseconds as a time.Duration; 0 when
// negative or too large for one.
func millis(ms float64) time.Duration {
	if ms < 0 || ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// browserMembers are the option members to hand the browser, once each of
// required is there; kind names the options in the error.
func browserMembers(raw json.RawMessage, kind string, required ...string) (map[string]json.RawMessage, error) {
	if raw == nil {
		return nil, fmt.Errorf("%w: Verify sent no passkey %s options", ErrInvalidResponse, kind)
	}
	m := optionMembers(raw)
	if m == nil {
		return nil, fmt.Errorf("%w: Verify's passkey %s options are not a JSON object", ErrInvalidResponse, kind)
	}
	for _, name := range required {
		if v := bytes.TrimSpace(m[name]); len(v) == 0 || string(v) == "null" {
			return nil, fmt.Errorf("%w: Verify's passkey %s options have no %s, which WebAuthn requires", ErrInvalidResponse, kind, name)
		}
	}
	if c := bytes.TrimSpace(m["challenge"]); c[0] != '"' {
		return nil, fmt.Errorf("%w: Verify's passkey %s options have a challenge that is not a string", ErrInvalidResponse, kind)
	}
	delete(m, "publicKey") // a "publicKey" member that is not an object is no WebAuthn member either
	return m, nil
}
