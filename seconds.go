package verify

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// This file holds the durations the API counts in whole seconds: the SDK's
// fields are time.Duration, the wire's are integers.

// seconds is d in whole seconds, as the API reads it.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// setSeconds sends d as key in whole seconds, unless d is nil.
func setSeconds(form url.Values, key string, d *time.Duration) {
	if d != nil {
		form.Set(key, seconds(*d))
	}
}

// checkSeconds bounds an optional duration and requires whole seconds.
func checkSeconds(field string, d *time.Duration, lo, hi time.Duration) error {
	if d == nil {
		return nil
	}
	if *d < lo || *d > hi || *d%time.Second != 0 {
		return invalid(field, "must be whole seconds from %d to %d", lo/time.Second, hi/time.Second)
	}
	return nil
}

// nonZero is d, or nil when d is zero: "not sent".
func nonZero(d time.Duration) *time.Duration {
	if d == 0 {
		return nil
	}
	return &d
}

// UnmarshalJSON reads the API's notification, its ttl in seconds.
func (n *Notification) UnmarshalJSON(b []byte) error {
	type plain Notification
	w := struct {
		*plain
		TTL int64 `json:"ttl"`
	}{plain: (*plain)(n)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	n.TTL = time.Duration(w.TTL) * time.Second
	return nil
}

// MarshalJSON writes the notification as the API does, its ttl in seconds.
func (n Notification) MarshalJSON() ([]byte, error) {
	type plain Notification
	return json.Marshal(struct {
		plain
		TTL int64 `json:"ttl"`
	}{plain(n), int64(n.TTL / time.Second)})
}

// UnmarshalJSON reads the API's access token, its ttl in seconds.
func (t *AccessToken) UnmarshalJSON(b []byte) error {
	type plain AccessToken
	w := struct {
		*plain
		TTL int64 `json:"ttl"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t.TTL = time.Duration(w.TTL) * time.Second
	return nil
}

// MarshalJSON writes the access token as the API does, its ttl in seconds
// and its token redacted.
func (t AccessToken) MarshalJSON() ([]byte, error) {
	type plain AccessToken
	return json.Marshal(struct {
		plain
		TTL int64 `json:"ttl"`
	}{plain(t), int64(t.TTL / time.Second)})
}

// UnmarshalJSON reads a factor's config, its time_step in seconds.
func (c *FactorConfig) UnmarshalJSON(b []byte) error {
	if c.unmarshalFlat(b) {
		return nil
	}
	type plain FactorConfig
	w := struct {
		*plain
		TimeStep int64 `json:"time_step"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	c.TimeStep = time.Duration(w.TimeStep) * time.Second
	return nil
}

// MarshalJSON writes the config as the API does, its time_step in seconds.
func (c FactorConfig) MarshalJSON() ([]byte, error) {
	type plain FactorConfig
	return json.Marshal(struct {
		plain
		TimeStep int64 `json:"time_step"`
	}{plain(c), int64(c.TimeStep / time.Second)})
}

// UnmarshalJSON reads a service's TOTP settings, time_step in seconds (null: 0).
func (s *TOTPSettings) UnmarshalJSON(b []byte) error {
	type plain TOTPSettings
	w := struct {
		*plain
		TimeStep int64 `json:"time_step"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.TimeStep = time.Duration(w.TimeStep) * time.Second
	return nil
}

// MarshalJSON writes the settings as the API does, time_step in seconds.
func (s TOTPSettings) MarshalJSON() ([]byte, error) {
	type plain TOTPSettings
	return json.Marshal(struct {
		plain
		TimeStep int64 `json:"time_step"`
	}{plain(s), int64(s.TimeStep / time.Second)})
}

// unmarshalFlat is UnmarshalJSON for a config of the usual shape: each
// member one of FactorConfig's own, spelled as the API spells it, with a
// plain string or integer value, or null. It reports false, leaving c as it
// was, for anything else, which json.Unmarshal then reads.
func (c *FactorConfig) unmarshalFlat(b []byte) bool {
	cfg := *c
	cfg.TimeStep = 0 // set by time_step alone, as in UnmarshalJSON
	ok := scanFlatObject(b, func(key, value []byte, kind byte) bool {
		if kind == flatNull {
			return true // null leaves a string or an integer as it was
		}
		text := kind == flatString
		var n int64
		var ok bool
		switch string(key) {
		case "alg":
			cfg.Alg, ok = TOTPAlgorithm(value), text
		case "skew":
			n, ok = flatInt(value, kind, strconv.IntSize)
			cfg.Skew = int(n)
		case "code_length":
			n, ok = flatInt(value, kind, strconv.IntSize)
			cfg.CodeLength = int(n)
		case "time_step":
			n, ok = flatInt(value, kind, 64)
			cfg.TimeStep = time.Duration(n) * time.Second
		case "sdk_version":
			cfg.SDKVersion, ok = string(value), text
		case "app_id":
			cfg.AppID, ok = string(value), text
		case "notification_platform":
			cfg.NotificationPlatform, ok = NotificationPlatform(value), text
		case "notification_token":
			cfg.NotificationToken, ok = string(value), text
		}
		return ok // false too for another key, which json may match to a field regardless of case
	})
	if ok {
		*c = cfg
	}
	return ok
}
