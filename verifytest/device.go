package verifytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	verify "github.com/verifykit/verify-go"
)

// Device simulates a phone with the Verify Push SDK: it holds the private
// key of a push factor, enrolls it with an access token, and answers
// challenges the way the mobile SDKs do, authenticating with its factor's
// JWT rather than the account's credentials. Its factor's config is app id
// com.example.verifytest, SDK version verifytest-1.0, platform fcm with a
// random token; its name is the access token's factor name, or
// "verifytest device". It reaches the server through
// its own http.Transport, not http.DefaultTransport, and faults injected
// with FailNext, DropNext, LoseNextResponse or SetLatency never touch its
// requests.
type Device struct {
	FactorSID  string // the push factor, YF…; empty until Enroll succeeds
	ServiceSID string // the service the factor belongs to, VA…
	Identity   string // the entity the factor belongs to
	PublicKey  string // base64 DER SubjectPublicKeyInfo, as registered

	srv        *Server
	key        *ecdsa.PrivateKey
	accountSID string // from the factor Enroll created
}

// What a Device registers on its factor: Config.AppId, Config.SdkVersion,
// platform fcm with a random 64-character token, and this friendly name
// unless the access token names the factor.
const (
	deviceFriendlyName = "verifytest device"
	deviceAppID        = "com.example.verifytest"
	deviceSDKVersion   = "verifytest-1.0"
)

// NewDevice returns a phone with a fresh ES256 key pair for identity on the
// service, not yet enrolled: hand Enroll an access token, as your app would.
func (s *Server) NewDevice(serviceSID, identity string) (*Device, error) {
	if err := verify.ValidateIdentity(identity); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("verifytest: generating a device key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("verifytest: encoding the device key: %w", err)
	}
	return &Device{
		ServiceSID: serviceSID, Identity: identity, PublicKey: base64.StdEncoding.EncodeToString(der),
		srv: s, key: key,
	}, nil
}

// Enroll registers the device as a push factor the way the Verify Push SDK
// does: it creates the factor with accessToken (from AccessTokens.Create)
// as its credential, then verifies it by signing the new factor's SID with
// its key, authenticated by the factor's own JWT. On success FactorSID is
// set and the factor is verified.
func (d *Device) Enroll(ctx context.Context, accessToken string) error {
	if d.FactorSID != "" {
		return fmt.Errorf("verifytest: device already enrolled as %s; make a new Device for another factor", d.FactorSID)
	}
	form := url.Values{
		"FactorType": {string(verify.FactorTypePush)}, "FriendlyName": {deviceFriendlyName},
		"Binding.Alg": {"ES256"}, "Binding.PublicKey": {d.PublicKey},
		"Config.AppId": {deviceAppID}, "Config.SdkVersion": {deviceSDKVersion},
		"Config.NotificationPlatform": {string(verify.NotificationPlatformFCM)}, "Config.NotificationToken": {randomHex(32)},
		"Metadata": {`{"os":"verifytest"}`},
	}
	var created verify.NewFactor
	if _, err := d.send(ctx, http.MethodPost, d.entityPath()+"/Factors", form, accessToken, &created); err != nil {
		return fmt.Errorf("verifytest: device creating its factor: %w", err)
	}
	d.accountSID = created.AccountSID
	digest := sha256.Sum256([]byte(created.SID))
	sig, err := ecdsa.SignASN1(rand.Reader, d.key, digest[:])
	if err != nil {
		return fmt.Errorf("verifytest: device signing its factor SID: %w", err)
	}
	cred, err := deviceJWT(d.key, created.SID, d.accountSID, d.srv.Now())
	if err != nil {
		return err
	}
	var verified verify.Factor
	form = url.Values{"AuthPayload": {base64.StdEncoding.EncodeToString(sig)}}
	if _, err := d.send(ctx, http.MethodPost, d.entityPath()+"/Factors/"+created.SID, form, cred, &verified); err != nil {
		return fmt.Errorf("verifytest: device verifying factor %s: %w", created.SID, err)
	}
	if verified.Status != verify.FactorStatusVerified {
		return fmt.Errorf("verifytest: factor %s is %s after verification", created.SID, verified.Status)
	}
	d.FactorSID = created.SID
	return nil
}

// NewPushDevice is the one-line shortcut for tests: a new Device enrolled
// for identity through the same path as Enroll, with an access token the
// server issues directly. Its factor is verified.
func (s *Server) NewPushDevice(serviceSID, identity string) (*Device, error) {
	p := &accessTokenParams{identity: identity}
	if err := verify.ValidateIdentity(identity); err != nil {
		return nil, err
	}
	s.mu.Lock()
	svc := s.services[serviceSID]
	var tok *accessToken
	if svc != nil {
		tok = s.issueAccessToken(svc, p)
	}
	s.mu.Unlock()
	if tok == nil {
		return nil, fmt.Errorf("verifytest: no service %s on this server; use ServiceSID or NewService", serviceSID)
	}
	d, err := s.NewDevice(serviceSID, identity)
	if err != nil {
		return nil, err
	}
	if err := d.Enroll(context.Background(), tok.token); err != nil {
		return nil, err
	}
	return d, nil
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
// as the challenge's AuthPayload, as the mobile SDK does.
func (d *Device) respond(ctx context.Context, challengeSID string, status verify.ChallengeStatus) (*verify.Challenge, error) {
	payload, err := d.SignedPayload(ctx, challengeSID, status)
	if err != nil {
		return nil, err
	}
	cred, err := d.credential()
	if err != nil {
		return nil, err
	}
	form := url.Values{"AuthPayload": {payload}, "Metadata": {`{"os":"verifytest","device":"simulated"}`}}
	var ch verify.Challenge
	if _, err := d.send(ctx, http.MethodPost, d.entityPath()+"/Challenges/"+challengeSID, form, cred, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// fetchRaw reads the challenge's JSON and the signature fields header.
func (d *Device) fetchRaw(ctx context.Context, challengeSID string) ([]string, map[string]any, error) {
	cred, err := d.credential()
	if err != nil {
		return nil, nil, err
	}
	var body map[string]any
	header, err := d.send(ctx, http.MethodGet, d.entityPath()+"/Challenges/"+challengeSID, nil, cred, &body)
	if err != nil {
		return nil, nil, fmt.Errorf("verifytest: device fetching %s: %w", challengeSID, err)
	}
	fields := header.Get("Twilio-Verify-Signature-Fields")
	if fields == "" {
		return nil, nil, errors.New("verifytest: challenge has no Twilio-Verify-Signature-Fields header; is it a push challenge?")
	}
	return strings.Split(fields, ","), body, nil
}

// credential is the device's JWT for its enrolled factor, fresh on the
// server's clock.
func (d *Device) credential() (string, error) {
	if d.FactorSID == "" {
		return "", errors.New("verifytest: device is not enrolled; call Enroll with an access token first")
	}
	return deviceJWT(d.key, d.FactorSID, d.accountSID, d.srv.Now())
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
