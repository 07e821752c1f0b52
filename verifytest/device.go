package verifytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	verify "github.com/verifykit/verify-go"
)

// Device simulates a phone with the Verify Push SDK: it holds the private
// key of a push factor and answers challenges the way the mobile SDKs do.
// It reaches the server through its own http.Transport, not
// http.DefaultTransport, and faults injected with FailNext, DropNext,
// LoseNextResponse or SetLatency never touch its requests.
type Device struct {
	FactorSID  string // the push factor, YF…
	ServiceSID string // the service the factor belongs to, VA…
	Identity   string // the entity the factor belongs to
	PublicKey  string // base64 DER SubjectPublicKeyInfo, as registered

	srv    *Server
	key    *ecdsa.PrivateKey
	client *verify.Client
}

// NewPushDevice creates an ES256 key pair, registers its public key on a
// new, verified push factor for identity, and returns the device holding
// the private key.
func (s *Server) NewPushDevice(serviceSID, identity string) (*Device, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("verifytest: generating a device key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("verifytest: encoding the device key: %w", err)
	}
	encoded := base64.StdEncoding.EncodeToString(der)
	pub, err := parsePublicKey(encoded) // stored as the API stores it: from the registered string
	if err != nil {
		return nil, err
	}
	f := &factor{sid: newSID("YF"), kind: verify.FactorTypePush, verified: true, publicKey: pub}
	if err := s.addFactor(serviceSID, identity, f); err != nil {
		return nil, err
	}
	return &Device{
		FactorSID: f.sid, ServiceSID: serviceSID, Identity: identity, PublicKey: encoded,
		srv: s, key: key, client: s.Client(verify.WithHTTPClient(s.devices.client)),
	}, nil
}

func parsePublicKey(encoded string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("verifytest: public key is not base64: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("verifytest: public key is not DER SubjectPublicKeyInfo: %w", err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, errors.New("verifytest: public key must be ECDSA P-256")
	}
	return pub, nil
}

// Approve answers the challenge as the user tapping "approve".
func (d *Device) Approve(ctx context.Context, challengeSID string) (*verify.Challenge, error) {
	return d.respond(ctx, challengeSID, verify.StatusApproved)
}

// Deny answers the challenge as the user tapping "deny".
func (d *Device) Deny(ctx context.Context, challengeSID string) (*verify.Challenge, error) {
	return d.respond(ctx, challengeSID, verify.StatusDenied)
}

// SignedPayload fetches the challenge and returns the JWT the device would
// send for status, without sending it: for tests that tamper with it.
func (d *Device) SignedPayload(ctx context.Context, challengeSID string, status verify.ChallengeStatus) (string, error) {
	fields, body, err := d.fetchRaw(ctx, challengeSID)
	if err != nil {
		return "", err
	}
	claims := jwt.MapClaims{"status": string(status)}
	for _, f := range fields {
		if v, ok := body[f]; ok {
			claims[f] = v
		}
	}
	token := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	return token.SignedString(d.key)
}

// respond signs status over the fields the server asked for and sends it
// with Update, as the mobile SDK does.
func (d *Device) respond(ctx context.Context, challengeSID string, status verify.ChallengeStatus) (*verify.Challenge, error) {
	payload, err := d.SignedPayload(ctx, challengeSID, status)
	if err != nil {
		return nil, err
	}
	return d.client.Challenges.Update(ctx, d.ServiceSID, d.Identity, challengeSID, &verify.UpdateChallengeParams{
		AuthPayload: payload,
		Metadata:    map[string]string{"os": "verifytest", "device": "simulated"},
	})
}

// fetchRaw reads the challenge's JSON and the signature fields header.
func (d *Device) fetchRaw(ctx context.Context, challengeSID string) ([]string, map[string]any, error) {
	if err := verify.ValidateIdentity(d.Identity); err != nil {
		return nil, nil, err
	}
	u := d.srv.URL + "/v2/Services/" + d.ServiceSID + "/Entities/" + d.Identity + "/Challenges/" + challengeSID
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.SetBasicAuth(d.srv.accountSID, d.srv.authToken)
	resp, err := d.srv.devices.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("verifytest: device fetching %s: %w", challengeSID, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("verifytest: device fetching %s: HTTP %d: %s", challengeSID, resp.StatusCode, raw)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, nil, err
	}
	header := resp.Header.Get("Twilio-Verify-Signature-Fields")
	if header == "" {
		return nil, nil, errors.New("verifytest: challenge has no Twilio-Verify-Signature-Fields header; is it a push challenge?")
	}
	return strings.Split(header, ","), body, nil
}

// verifyPushPayload checks a device's JWT against the factor's key and the
// stored challenge, returning the status it signed. The caller holds s.mu.
func (s *Server) verifyPushPayload(c *challenge, payload string) (verify.ChallengeStatus, error) {
	token, err := jwt.Parse(payload, func(*jwt.Token) (any, error) { return c.factor.publicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}))
	if err != nil {
		return "", fmt.Errorf("invalid signature: %w", err)
	}
	if typ, _ := token.Header["typ"].(string); typ != "JWT" {
		return "", errors.New(`JWT header typ must be "JWT"`)
	}
	claims, _ := token.Claims.(jwt.MapClaims)
	view := c.signedView(s.accountSID, s.URL)
	for _, field := range signatureFields {
		got, _ := json.Marshal(claims[field])
		want, _ := json.Marshal(view[field])
		if string(got) != string(want) {
			return "", fmt.Errorf("signed field %s does not match the challenge", field)
		}
	}
	switch status := verify.ChallengeStatus(fmt.Sprint(claims["status"])); status {
	case verify.StatusApproved, verify.StatusDenied:
		return status, nil
	}
	return "", errors.New("signed status must be approved or denied")
}
