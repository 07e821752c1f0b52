package verify

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// This file keeps secrets out of the formatted and logged form of the
// params that carry them: AuthPayload (a TOTP code or a push JWT) and the
// values of HiddenDetails and Metadata.

// Format prints the params with AuthPayload and HiddenDetails' values
// redacted, whatever the verb.
func (p CreateChallengeParams) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "verify.CreateChallengeParams{FactorSID: %s, ExpirationDate: %s, Details: %s, HiddenDetails: %s, AuthPayload: %s}",
		p.FactorSID, p.ExpirationDate.Format("2006-01-02T15:04:05Z07:00"), detailsText(p.Details), redactedMap(p.HiddenDetails), redacted(p.AuthPayload))
}

// LogValue gives log/slog the params with the same redactions as Format.
func (p CreateChallengeParams) LogValue() slog.Value {
	return slog.GroupValue(slog.String("factor_sid", p.FactorSID), slog.Time("expiration_date", p.ExpirationDate),
		slog.String("details", detailsText(p.Details)), slog.String("hidden_details", redactedMap(p.HiddenDetails)),
		slog.String("auth_payload", redacted(p.AuthPayload)))
}

// Format prints the params with AuthPayload and Metadata's values redacted, whatever the verb.
func (p UpdateChallengeParams) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "verify.UpdateChallengeParams{AuthPayload: %s, Metadata: %s}", redacted(p.AuthPayload), redactedMap(p.Metadata))
}

// LogValue gives log/slog the params with the same redactions as Format.
func (p UpdateChallengeParams) LogValue() slog.Value {
	return slog.GroupValue(slog.String("auth_payload", redacted(p.AuthPayload)), slog.String("metadata", redactedMap(p.Metadata)))
}

// Format prints the params with AuthPayload redacted, whatever the verb.
func (p UpdateFactorParams) Format(f fmt.State, _ rune) {
	skew := "nil"
	if p.Skew != nil {
		skew = fmt.Sprint(*p.Skew)
	}
	fmt.Fprintf(f, "verify.UpdateFactorParams{AuthPayload: %s, FriendlyName: %q, NotificationToken: %q, SDKVersion: %q, "+
		"NotificationPlatform: %q, TimeStep: %d, Skew: %s, CodeLength: %d, Alg: %q}",
		redacted(p.AuthPayload), p.FriendlyName, p.NotificationToken, p.SDKVersion, p.NotificationPlatform,
		p.TimeStep, skew, p.CodeLength, p.Alg)
}

// LogValue gives log/slog the params with AuthPayload redacted.
func (p UpdateFactorParams) LogValue() slog.Value {
	return slog.GroupValue(slog.String("auth_payload", redacted(p.AuthPayload)), slog.String("friendly_name", p.FriendlyName),
		slog.Int("time_step", p.TimeStep), slog.Int("code_length", p.CodeLength), slog.String("alg", string(p.Alg)))
}

// redactedMap shows a map's keys, in order, each value redacted.
func redactedMap(m StringMap) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + ":" + redacted(m[k]))
	}
	b.WriteByte(']')
	return b.String()
}

// detailsText is what the user is shown, which is no secret.
func detailsText(d *Details) string {
	if d == nil {
		return "nil"
	}
	return fmt.Sprintf("{Message: %q, Fields: %v}", d.Message, d.Fields)
}
