package verifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	verify "github.com/verifykit/verify-go"
)

// Authenticator is a passkey authenticator and the browser around it, in
// software: it takes the options a relying party hands the browser and
// returns the JSON that PublicKeyCredential.toJSON() gives for the
// credential, so tests can register and sign in with passkeys without a
// browser. Its keys are ES256. It is safe for concurrent use.
type Authenticator struct {
	origin string
	opts   AuthenticatorOptions

	mu    sync.Mutex
	creds []*softCredential
	next  Misbehaviour
}

// AuthenticatorOptions shape an Authenticator; the zero value is a platform
// authenticator (Touch ID, Windows Hello) with attestation none.
type AuthenticatorOptions struct {
	// Attachment is how the authenticator is attached: platform (the
	// default) or cross-platform (a security key). Options asking for the
	// other attachment are refused, as a browser finds no authenticator.
	Attachment verify.AuthenticatorAttachment
	// PackedAttestation makes registrations carry a packed self-attestation
	// (signed with the credential's own key) instead of attestation none.
	PackedAttestation bool
	// NonDiscoverable makes credentials server-side only, even when the
	// options prefer discoverable ones (a security key without resident
	// keys); options that require them are then refused.
	NonDiscoverable bool
}

// Misbehaviour is how the next ceremony of an Authenticator goes wrong,
// for testing that a relying party refuses it.
type Misbehaviour struct {
	// Origin is put in clientDataJSON instead of the authenticator's own.
	Origin string
	// NoUserVerification clears the user-verified (UV) flag.
	NoUserVerification bool
	// NoUserPresence clears the user-present (UP) flag.
	NoUserPresence bool
	// ReplaySignCount makes an assertion repeat the last sign count this
	// authenticator gave for the credential instead of counting up (a
	// cloned authenticator). A relying party can tell only once the count
	// it stored is above 0 and not below the repeated one: after one
	// accepted assertion, and not when the last one given was refused.
	ReplaySignCount bool
}

// softCredential is one credential the authenticator holds.
type softCredential struct {
	id           []byte
	key          *ecdsa.PrivateKey
	rpID         string
	userHandle   []byte
	discoverable bool
	signCount    uint32
}

// NewAuthenticator returns an authenticator in a browser at origin, such
// as https://example.com; opts may be nil. A page's URL is cut to its
// origin as a browser serializes it (scheme, lower-case host, a port only
// when it is not the scheme's default), since that is what clientDataJSON
// carries.
func NewAuthenticator(origin string, opts *AuthenticatorOptions) *Authenticator {
	a := &Authenticator{origin: browserOrigin(origin)}
	if opts != nil {
		a.opts = *opts
	}
	if a.opts.Attachment == "" {
		a.opts.Attachment = verify.AuthenticatorPlatform
	}
	return a
}

// browserOrigin is the origin of the page at rawURL as a browser writes it
// in clientDataJSON; rawURL itself when it has no scheme and host.
func browserOrigin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return rawURL
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// MisbehaveNext makes the next Register or Assert misbehave as m says;
// the ceremonies after it behave again.
func (a *Authenticator) MisbehaveNext(m Misbehaviour) {
	a.mu.Lock()
	a.next = m
	a.mu.Unlock()
}

// Credentials is how many credentials the authenticator holds.
func (a *Authenticator) Credentials() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.creds)
}

// creationOptionsJSON is what Register reads of
// PublicKeyCredentialCreationOptions (JSON form).
type creationOptionsJSON struct {
	RP struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Challenge              string             `json:"challenge"`
	PubKeyCredParams       json.RawMessage    `json:"pubKeyCredParams"`
	ExcludeCredentials     []descriptorJSON   `json:"excludeCredentials"`
	AuthenticatorSelection authenticatorCrits `json:"authenticatorSelection"`
}

type authenticatorCrits struct {
	AuthenticatorAttachment string `json:"authenticatorAttachment"`
	ResidentKey             string `json:"residentKey"`
	RequireResidentKey      bool   `json:"requireResidentKey"`
	UserVerification        string `json:"userVerification"`
}

type descriptorJSON struct {
	ID string `json:"id"`
}

// requestOptionsJSON is what Assert reads of
// PublicKeyCredentialRequestOptions (JSON form).
type requestOptionsJSON struct {
	Challenge        string           `json:"challenge"`
	RPID             string           `json:"rpId"`
	AllowCredentials []descriptorJSON `json:"allowCredentials"`
	UserVerification string           `json:"userVerification"`
}

// Register creates a credential as navigator.credentials.create does.
// options are the creation options in any of the forms a test has at hand:
// a whole Verify response (its "options"), {"publicKey": {…}} as Verify
// sends it, or the bare options object a browser's
// PublicKeyCredential.parseCreationOptionsFromJSON takes. It returns the
// registration credential's toJSON() form: id, rawId, type,
// authenticatorAttachment, clientExtensionResults and response
// (clientDataJSON, attestationObject, transports, publicKeyAlgorithm,
// publicKey, authenticatorData).
func (a *Authenticator) Register(options []byte) ([]byte, error) {
	raw, err := unwrapOptions(options)
	if err != nil {
		return nil, err
	}
	var o creationOptionsJSON
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("verifytest: reading creation options: %w", err)
	}
	userHandle, err := decodeB64URL("user.id", o.User.ID)
	if err != nil {
		return nil, err
	}
	if !offersES256(o.PubKeyCredParams) {
		return nil, errors.New("verifytest: NotSupportedError: pubKeyCredParams does not offer ES256 (alg -7)")
	}
	sel := o.AuthenticatorSelection
	if sel.AuthenticatorAttachment != "" && sel.AuthenticatorAttachment != string(a.opts.Attachment) {
		return nil, fmt.Errorf("verifytest: NotAllowedError: the options ask for a %s authenticator, this one is %s", sel.AuthenticatorAttachment, a.opts.Attachment)
	}
	discoverable := sel.ResidentKey == "required" || sel.ResidentKey == "preferred" || sel.RequireResidentKey
	if a.opts.NonDiscoverable {
		if sel.ResidentKey == "required" || sel.RequireResidentKey {
			return nil, errors.New("verifytest: NotAllowedError: the options require a discoverable credential, this authenticator makes none")
		}
		discoverable = false
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.takeMisbehaviour()
	rpID, err := a.rpID(o.RP.ID)
	if err != nil {
		return nil, err
	}
	for _, ex := range o.ExcludeCredentials {
		if a.find(rpID, ex.ID) != nil {
			return nil, errors.New("verifytest: InvalidStateError: the authenticator already holds a credential in excludeCredentials")
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cred := &softCredential{id: randomBytes(32), key: key, rpID: rpID, userHandle: userHandle, discoverable: discoverable}
	cose, err := coseKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	attested := make([]byte, 0, 18+len(cred.id)+len(cose))
	attested = append(attested, make([]byte, 16)...) // AAGUID: zero, as for attestation none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(cred.id)))
	attested = append(append(attested, cred.id...), cose...)
	authData := authenticatorData(rpID, flagsFor(sel.UserVerification, m)|flagAttested, 0, attested)
	clientData := a.clientData("webauthn.create", o.Challenge, m)
	attStmt := map[string]any{}
	format := "none"
	if a.opts.PackedAttestation {
		sig, err := sign(key, authData, clientData)
		if err != nil {
			return nil, err
		}
		format, attStmt = "packed", map[string]any{"alg": int64(webauthncose.AlgES256), "sig": sig}
	}
	attObj, err := webauthncbor.Marshal(map[string]any{"fmt": format, "attStmt": attStmt, "authData": authData})
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	a.creds = append(a.creds, cred)
	b64 := base64.RawURLEncoding.EncodeToString
	id := b64(cred.id)
	return json.Marshal(map[string]any{
		"id": id, "rawId": id, "type": "public-key",
		"authenticatorAttachment": string(a.opts.Attachment),
		"clientExtensionResults":  map[string]any{},
		"response": map[string]any{
			"clientDataJSON":     b64(clientData),
			"attestationObject":  b64(attObj),
			"transports":         a.transports(),
			"publicKeyAlgorithm": webauthncose.AlgES256,
			"publicKey":          b64(spki),
			"authenticatorData":  b64(authData),
		},
	})
}

// Assert signs in as navigator.credentials.get does, with the newest
// credential the options allow: one in allowCredentials, or with none
// listed, a discoverable credential for the relying party. options are in
// any of the forms Register takes. It returns the assertion's toJSON()
// form: id, rawId, type, authenticatorAttachment, clientExtensionResults
// and response (clientDataJSON, authenticatorData, signature, and
// userHandle for a discoverable credential).
func (a *Authenticator) Assert(options []byte) ([]byte, error) {
	raw, err := unwrapOptions(options)
	if err != nil {
		return nil, err
	}
	var o requestOptionsJSON
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("verifytest: reading request options: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.takeMisbehaviour()
	rpID, err := a.rpID(o.RPID)
	if err != nil {
		return nil, err
	}
	var cred *softCredential
	for _, c := range slices.Backward(a.creds) {
		if c.rpID != rpID {
			continue
		}
		allowed := len(o.AllowCredentials) == 0 && c.discoverable
		for _, d := range o.AllowCredentials {
			allowed = allowed || d.ID == base64.RawURLEncoding.EncodeToString(c.id)
		}
		if allowed {
			cred = c
			break
		}
	}
	if cred == nil {
		return nil, fmt.Errorf("verifytest: NotAllowedError: no credential for %s that the options allow", rpID)
	}
	if !m.ReplaySignCount {
		cred.signCount++
	}
	authData := authenticatorData(rpID, flagsFor(o.UserVerification, m), cred.signCount, nil)
	clientData := a.clientData("webauthn.get", o.Challenge, m)
	sig, err := sign(cred.key, authData, clientData)
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	response := map[string]any{
		"clientDataJSON":    b64(clientData),
		"authenticatorData": b64(authData),
		"signature":         b64(sig),
	}
	if cred.discoverable {
		response["userHandle"] = b64(cred.userHandle)
	}
	id := b64(cred.id)
	return json.Marshal(map[string]any{
		"id": id, "rawId": id, "type": "public-key",
		"authenticatorAttachment": string(a.opts.Attachment),
		"clientExtensionResults":  map[string]any{},
		"response":                response,
	})
}

// takeMisbehaviour returns and clears the next ceremony's misbehaviour;
// the caller holds a.mu.
func (a *Authenticator) takeMisbehaviour() Misbehaviour {
	m := a.next
	a.next = Misbehaviour{}
	return m
}

// rpID is the relying party ID a ceremony uses: the options' (which must
// be the origin's host or a parent domain of it, as a browser checks), or
// the origin's host.
func (a *Authenticator) rpID(fromOptions string) (string, error) {
	u, err := url.Parse(a.origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("verifytest: the authenticator's origin %q is not a URL with a host", a.origin)
	}
	host := u.Hostname()
	if fromOptions == "" {
		return host, nil
	}
	if host != fromOptions && !strings.HasSuffix(host, "."+fromOptions) {
		return "", fmt.Errorf("verifytest: SecurityError: relying party ID %q is not %s or a parent domain of it", fromOptions, host)
	}
	return fromOptions, nil
}

// find is the credential for rpID with the base64url id; the caller holds
// a.mu.
func (a *Authenticator) find(rpID, id string) *softCredential {
	for _, c := range a.creds {
		if c.rpID == rpID && base64.RawURLEncoding.EncodeToString(c.id) == id {
			return c
		}
	}
	return nil
}

// transports are the transports the credential's toJSON reports.
func (a *Authenticator) transports() []string {
	if a.opts.Attachment == verify.AuthenticatorCrossPlatform {
		return []string{"usb"}
	}
	return []string{"internal"}
}

// clientData is clientDataJSON as a browser serializes it.
func (a *Authenticator) clientData(typ, challenge string, m Misbehaviour) []byte {
	origin := a.origin
	if m.Origin != "" {
		origin = m.Origin
	}
	out, _ := json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{typ, challenge, origin, false}) // strings and a bool always encode
	return out
}

// Authenticator data flags.
const (
	flagUserPresent  = 0x01
	flagUserVerified = 0x04
	flagAttested     = 0x40
)

// flagsFor are the UP and UV flags for a ceremony asking userVerification:
// the user is present and verified (a biometric) unless verification is
// discouraged, or m clears them.
func flagsFor(userVerification string, m Misbehaviour) byte {
	var f byte = flagUserPresent | flagUserVerified
	if userVerification == "discouraged" || m.NoUserVerification {
		f &^= flagUserVerified
	}
	if m.NoUserPresence {
		f &^= flagUserPresent
	}
	return f
}

// authenticatorData is rpIdHash, flags, the sign count and any attested
// credential data.
func authenticatorData(rpID string, flags byte, signCount uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, signCount)
	return append(out, attested...)
}

// sign is the ES256 (ASN.1) signature of authData and clientDataJSON's
// hash, as assertions and packed attestations carry it.
func sign(key *ecdsa.PrivateKey, authData, clientData []byte) ([]byte, error) {
	h := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(bytes.Clone(authData), h[:]...))
	return ecdsa.SignASN1(rand.Reader, key, digest[:])
}

// coseKey is pub as a COSE_Key (EC2, P-256, ES256).
func coseKey(pub *ecdsa.PublicKey) ([]byte, error) {
	raw, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	return webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         int64(webauthncose.P256), XCoord: raw[1:33], YCoord: raw[33:65],
	})
}

// offersES256 reports whether pubKeyCredParams (an array, or the single
// object Verify's documented example shows) offers alg -7.
func offersES256(raw json.RawMessage) bool {
	type param struct {
		Type string `json:"type"`
		Alg  int64  `json:"alg"`
	}
	var list []param
	if err := json.Unmarshal(raw, &list); err != nil {
		var one param
		if json.Unmarshal(raw, &one) != nil {
			return false
		}
		list = []param{one}
	}
	return slices.ContainsFunc(list, func(p param) bool { return p.Type == "public-key" && p.Alg == int64(webauthncose.AlgES256) })
}

// unwrapOptions finds the options object in a Verify response ("options"),
// in {"publicKey": …}, or takes raw as the options themselves.
func unwrapOptions(raw []byte) (json.RawMessage, error) {
	for range 2 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("verifytest: options are not a JSON object: %w", err)
		}
		switch {
		case m["options"] != nil:
			raw = m["options"]
		case m["publicKey"] != nil:
			return m["publicKey"], nil
		default:
			return raw, nil
		}
	}
	return raw, nil
}

// decodeB64URL decodes a base64url field of the options.
func decodeB64URL(field, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("verifytest: %s must be non-empty base64url", field)
	}
	return b, nil
}

// randomBytes is n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return b
}
