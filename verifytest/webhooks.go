package verifytest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	verify "github.com/verifykit/verify-go"
)

// webhook is a service's subscription to events: everything a delivery
// needs (where, which events, whether enabled, which payload version).
// A service keeps them in creation order in service.webhooks.
type webhook struct {
	sid          string
	serviceSID   string
	friendlyName string
	url          string
	events       []verify.EventType
	status       verify.WebhookStatus
	version      verify.WebhookVersion
	created      time.Time
	updated      time.Time
}

// webhookJSON is a webhook on the wire.
type webhookJSON struct {
	URL          string   `json:"url"`
	SID          string   `json:"sid"`
	AccountSID   string   `json:"account_sid"`
	ServiceSID   string   `json:"service_sid"`
	FriendlyName string   `json:"friendly_name"`
	EventTypes   []string `json:"event_types"`
	Method       string   `json:"webhook_method"`
	WebhookURL   string   `json:"webhook_url"`
	Status       string   `json:"status"`
	Version      string   `json:"version"`
	DateCreated  *string  `json:"date_created"`
	DateUpdated  *string  `json:"date_updated"`
}

func (s *Server) webhookWire(h *webhook) webhookJSON {
	events := make([]string, len(h.events))
	for i, e := range h.events {
		events[i] = string(e)
	}
	return webhookJSON{
		URL: s.URL + "/v2/Services/" + h.serviceSID + "/Webhooks/" + h.sid, SID: h.sid,
		AccountSID: s.accountSID, ServiceSID: h.serviceSID, FriendlyName: h.friendlyName,
		EventTypes: events, Method: http.MethodPost, WebhookURL: h.url,
		Status: string(h.status), Version: string(h.version),
		DateCreated: date(h.created), DateUpdated: date(h.updated),
	}
}

// parseWebhookUpdate reads the fields Create and Update share.
func parseWebhookUpdate(form url.Values) verify.UpdateWebhookParams {
	p := verify.UpdateWebhookParams{
		FriendlyName: form.Get("FriendlyName"), WebhookURL: form.Get("WebhookUrl"),
		Status: verify.WebhookStatus(form.Get("Status")), Version: verify.WebhookVersion(form.Get("Version")),
	}
	for _, e := range form["EventTypes"] {
		p.EventTypes = append(p.EventTypes, verify.EventType(e))
	}
	return p
}

// webhookFor finds the webhook a path names; the caller holds s.mu.
func (s *Server) webhookFor(r *http.Request) (*webhook, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(svc.webhooks, func(h *webhook) bool { return h.sid == r.PathValue("sid") }); i >= 0 {
		return svc.webhooks[i], nil
	}
	return nil, notFound("Webhook " + r.PathValue("sid"))
}

// parseWebhook reads and checks a new webhook, with the API's defaults:
// enabled, v2.
func parseWebhook(form url.Values) (verify.CreateWebhookParams, *apiError) {
	p := verify.CreateWebhookParams(parseWebhookUpdate(form))
	if err := validation(p.Validate()); err != nil {
		return p, err
	}
	if p.Status == "" {
		p.Status = verify.WebhookStatusEnabled
	}
	if p.Version == "" {
		p.Version = verify.WebhookVersionV2
	}
	return p, nil
}

// createWebhook stores a webhook on the path's service; the caller holds s.mu.
func (s *Server) createWebhook(r *http.Request, p verify.CreateWebhookParams) (any, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	return s.webhookWire(s.addWebhook(svc, p)), nil
}

// addWebhook stores a checked webhook, with its defaults applied, on svc;
// the caller holds s.mu.
func (s *Server) addWebhook(svc *service, p verify.CreateWebhookParams) *webhook {
	now := s.now()
	h := &webhook{
		sid: newSID("YW"), serviceSID: svc.sid, friendlyName: p.FriendlyName, url: p.WebhookURL,
		events: p.EventTypes, status: p.Status, version: p.Version, created: now, updated: now,
	}
	svc.webhooks = append(svc.webhooks, h)
	return h
}

// webhookHelperName is the friendly name of the webhooks WebhookURL registers.
const webhookHelperName = "verifytest"

// WebhookURL registers a webhook on the default service (ServiceSID), as
// Webhooks.Create would, and returns its SID: enabled, version v2, named
// "verifytest", receiving the events listed, or every event when none is.
// rawURL must be an absolute http or https URL with a host, as the API
// requires (an httptest.Server's URL will do; user info for basic auth is
// allowed); it is used, and signed, exactly as given, query included.
// Events that happen from now on are delivered to it.
func (s *Server) WebhookURL(rawURL string, events ...verify.EventType) (sid string, err error) {
	if len(events) == 0 {
		events = []verify.EventType{verify.EventAll}
	}
	p := verify.CreateWebhookParams{FriendlyName: webhookHelperName, WebhookURL: rawURL,
		EventTypes: append([]verify.EventType(nil), events...)}
	if err := p.Validate(); err != nil {
		return "", err
	}
	p.Status, p.Version = verify.WebhookStatusEnabled, verify.WebhookVersionV2
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[s.defaultSvc]
	if svc == nil {
		return "", fmt.Errorf("verifytest: the default service %s was deleted; register the webhook with Webhooks.Create on another", s.defaultSvc)
	}
	return s.addWebhook(svc, p).sid, nil
}

// checkedWebhookUpdate reads and checks a webhook's Update form.
func checkedWebhookUpdate(form url.Values) (verify.UpdateWebhookParams, *apiError) {
	p := parseWebhookUpdate(form)
	return p, validation(p.Validate())
}

// patchWebhook changes the fields sent; EventTypes, when sent, replaces the
// whole list. The caller holds s.mu.
func (s *Server) patchWebhook(r *http.Request, p verify.UpdateWebhookParams) (any, *apiError) {
	h, err := s.webhookFor(r)
	if err != nil {
		return nil, err
	}
	if p.FriendlyName != "" {
		h.friendlyName = p.FriendlyName
	}
	if p.WebhookURL != "" {
		h.url = p.WebhookURL
	}
	if len(p.EventTypes) > 0 {
		h.events = p.EventTypes
	}
	if p.Status != "" {
		h.status = p.Status
	}
	if p.Version != "" {
		h.version = p.Version
	}
	h.updated = s.now()
	return s.webhookWire(h), nil
}

// removeWebhook deletes the webhook; the caller holds s.mu.
func (s *Server) removeWebhook(h *webhook) {
	svc := s.services[h.serviceSID]
	svc.webhooks = slices.DeleteFunc(svc.webhooks, func(x *webhook) bool { return x == h })
}

// webhooksOf lists the path's service's webhooks in creation order; the
// caller holds s.mu.
func (s *Server) webhooksOf(r *http.Request) ([]*webhook, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, err
	}
	return svc.webhooks, nil
}
