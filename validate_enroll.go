package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file checks the enrollment limits: entities, factors, access tokens
// and webhooks. Each Validate returns a *ValidationError naming the field.

// Validate checks the page size and limit.
func (p *ListParams) Validate() error {
	if p.PageSize < 0 || p.PageSize > MaxPageSize {
		return invalid("PageSize", "must be between 1 and 1000 (0 for the API's default)")
	}
	if p.Limit < 0 {
		return invalid("Limit", "must be 0 (all) or more")
	}
	return nil
}

// Validate checks every limit the API enforces on a TOTP factor.
func (p *CreateTOTPFactorParams) Validate() error {
	if err := checkFriendlyName("FriendlyName", p.FriendlyName, true); err != nil {
		return err
	}
	if !p.Secret.IsZero() && !isBase32(p.Secret.Reveal()) {
		return invalid("Binding.Secret", "must be base32 (letters A–Z and digits 2–7), as authenticator apps take it")
	}
	if err := checkTOTPConfig("Config", p.TimeStep, p.Skew, p.CodeLength, p.Alg); err != nil {
		return err
	}
	return checkJSONMap("Metadata", p.Metadata, plainText)
}

// Validate checks every limit the API enforces on a push factor.
func (p *CreatePushFactorParams) Validate() error {
	if err := checkFriendlyName("FriendlyName", p.FriendlyName, true); err != nil {
		return err
	}
	if p.PublicKey == "" {
		return invalid("Binding.PublicKey", "is required: the device's P-256 public key, base64 DER")
	}
	if !isP256PublicKey(p.PublicKey) {
		return invalid("Binding.PublicKey", "must be a P-256 public key as base64 DER SubjectPublicKeyInfo")
	}
	switch {
	case p.AppID == "":
		return invalid("Config.AppId", "is required: your app's store id, such as com.example.myapp")
	case utf8.RuneCountInString(p.AppID) > MaxAppIDLength:
		return invalid("Config.AppId", "must be at most 100 characters")
	case p.SDKVersion == "":
		return invalid("Config.SdkVersion", "is required: the Verify Push SDK version on the device")
	case p.NotificationPlatform == "":
		return invalid("Config.NotificationPlatform", "is required: apn, fcm or none")
	}
	if err := checkNotification(p.NotificationPlatform, p.NotificationToken, true); err != nil {
		return err
	}
	return checkJSONMap("Metadata", p.Metadata, plainText)
}

// Validate checks the limits the API enforces on a factor update.
func (p *UpdateFactorParams) Validate() error {
	if utf8.RuneCountInString(p.AuthPayload.Reveal()) > MaxAuthPayloadLength {
		return invalid("AuthPayload", "must be at most 5456 characters")
	}
	if err := checkFriendlyName("FriendlyName", p.FriendlyName, false); err != nil {
		return err
	}
	if err := checkNotification(p.NotificationPlatform, p.NotificationToken, false); err != nil {
		return err
	}
	return checkTOTPConfig("Config", p.TimeStep, p.Skew, p.CodeLength, p.Alg)
}

// Validate checks the factor name and the TTL.
func (p *CreateAccessTokenParams) Validate() error {
	if err := checkFriendlyName("FactorFriendlyName", p.FactorFriendlyName, false); err != nil {
		return err
	}
	return checkSeconds("Ttl", nonZero(p.TTL), MinAccessTokenTTL, MaxAccessTokenTTL)
}

// Validate checks the name, URL and event types of a new webhook.
func (p *CreateWebhookParams) Validate() error {
	if err := checkFriendlyName("FriendlyName", p.FriendlyName, true); err != nil {
		return err
	}
	if p.WebhookURL == "" {
		return invalid("WebhookUrl", "is required")
	}
	if len(p.EventTypes) == 0 {
		return invalid("EventTypes", "must name at least one event type, such as verify.EventChallengeApproved or verify.EventAll")
	}
	return checkWebhook(p.WebhookURL, p.EventTypes, p.Status, p.Version)
}

// Validate checks whatever fields of a webhook update are set.
func (p *UpdateWebhookParams) Validate() error {
	if err := checkFriendlyName("FriendlyName", p.FriendlyName, false); err != nil {
		return err
	}
	return checkWebhook(p.WebhookURL, p.EventTypes, p.Status, p.Version)
}

// checkFriendlyName bounds a friendly name; required says whether it may be empty.
func checkFriendlyName(field, name string, required bool) error {
	return checkText(field, name, MaxFriendlyNameLength, required)
}

// checkText requires valid UTF-8 of at most maxLen characters; required
// says whether it may be empty.
func checkText(field, text string, maxLen int, required bool) error {
	switch {
	case text == "" && required:
		return invalid(field, "is required, up to %d characters", maxLen)
	case !utf8.ValidString(text):
		return invalid(field, "must be valid UTF-8")
	case utf8.RuneCountInString(text) > maxLen:
		return invalid(field, "must be at most %d characters", maxLen)
	}
	return nil
}

// checkTOTPConfig bounds the TOTP settings of a factor (prefix "Config")
// or a service ("Totp"); zero (nil for skew) is not sent.
func checkTOTPConfig(prefix string, timeStep time.Duration, skew *int, codeLength int, alg TOTPAlgorithm) error {
	if err := checkSeconds(prefix+".TimeStep", nonZero(timeStep), MinTOTPTimeStep, MaxTOTPTimeStep); err != nil {
		return err
	}
	switch {
	case skew != nil && (*skew < 0 || *skew > MaxTOTPSkew):
		return invalid(prefix+".Skew", "must be 0, 1 or 2 steps")
	case codeLength != 0 && (codeLength < MinTOTPCodeLength || codeLength > MaxTOTPCodeLength):
		return invalid(prefix+".CodeLength", "must be between 3 and 8 digits")
	}
	switch alg {
	case "", TOTPAlgorithmSHA1, TOTPAlgorithmSHA256, TOTPAlgorithmSHA512:
		return nil
	}
	return invalid(prefix+".Alg", "must be sha1, sha256 or sha512")
}

// checkNotification checks the push platform and token; onCreate requires
// a token unless the platform is none.
func checkNotification(platform NotificationPlatform, token string, onCreate bool) error {
	switch platform {
	case "", NotificationPlatformAPN, NotificationPlatformFCM, NotificationPlatformNone:
	default:
		return invalid("Config.NotificationPlatform", "must be apn, fcm or none")
	}
	if token == "" {
		if onCreate && platform != NotificationPlatformNone {
			return invalid("Config.NotificationToken", "is required for apn and fcm: the device's push token, 32 to 255 characters")
		}
		return nil
	}
	if n := utf8.RuneCountInString(token); n < MinNotificationTokenLength || n > MaxNotificationTokenLength {
		return invalid("Config.NotificationToken", "must be 32 to 255 characters")
	}
	return nil
}

// checkWebhook checks a webhook's URL, event types and enums where set.
func checkWebhook(rawURL string, events []EventType, status WebhookStatus, version WebhookVersion) error {
	if rawURL != "" {
		if err := checkWebhookURL(rawURL); err != nil {
			return err
		}
	}
	for _, e := range events {
		if e != EventAll && !e.Known() {
			return invalid("EventTypes", "must be *, factor.created, factor.verified, factor.deleted, challenge.approved or challenge.denied")
		}
	}
	switch status {
	case "", WebhookStatusEnabled, WebhookStatusDisabled:
	default:
		return invalid("Status", "must be enabled or disabled")
	}
	switch version {
	case "", WebhookVersionV1, WebhookVersionV2:
		return nil
	}
	return invalid("Version", "must be v1 or v2")
}

// checkWebhookURL refuses a webhook URL that can never be called: one with
// spaces or control characters, not absolute http or https, or without a
// host. It takes what the API takes: plain http to any host, and user info
// (basic auth). Its errors never quote the URL, which may hold a password.
func checkWebhookURL(rawURL string) error {
	if strings.IndexFunc(rawURL, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return invalid("WebhookUrl", "must not contain spaces or control characters (percent-encode them)")
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http") {
		return invalid("WebhookUrl", "must be an absolute http or https URL such as https://example.com/hooks/verify")
	}
	if u.Hostname() == "" {
		return invalid("WebhookUrl", "must name a host, as in https://example.com/hooks/verify")
	}
	return nil
}

// isBase32 reports whether s is an RFC 4648 base32 secret, padded or not,
// in either case (authenticator apps read both).
func isBase32(s string) bool {
	if strings.TrimRight(s, "=") == "" {
		return false
	}
	// As authenticator apps and TOTP libraries read it: padded to a whole
	// block of 8, where padding already present must be exactly right.
	if n := len(s) % 8; n != 0 {
		s += strings.Repeat("=", 8-n)
	}
	_, err := base32.StdEncoding.DecodeString(strings.ToUpper(s))
	return err == nil
}

// isP256PublicKey reports whether s is base64 DER SubjectPublicKeyInfo of
// an ECDSA P-256 key, the only key ES256 push factors take.
func isP256PublicKey(s string) bool {
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return false
	}
	pub, ok := k.(*ecdsa.PublicKey)
	return ok && pub.Curve == elliptic.P256()
}
