package verifytest

import (
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

// webhookForm reads the fields Create and Update share.
func webhookForm(form url.Values) verify.UpdateWebhookParams {
	p := verify.UpdateWebhookParams{
		FriendlyName: form.Get("FriendlyName"), URL: form.Get("WebhookUrl"),
		Status: verify.WebhookStatus(form.Get("Status")), Version: verify.WebhookVersion(form.Get("Version")),
	}
	for _, e := range form["EventTypes"] {
		p.EventTypes = append(p.EventTypes, verify.EventType(e))
	}
	return p
}

// webhookFor finds the webhook a path names; the caller holds s.mu.
func (s *Server) webhookFor(r *http.Request) (*service, int, *apiError) {
	svc, err := s.serviceFor(r)
	if err != nil {
		return nil, 0, err
	}
	i := slices.IndexFunc(svc.webhooks, func(h *webhook) bool { return h.sid == r.PathValue("sid") })
	if i < 0 {
		return nil, 0, notFound("Webhook " + r.PathValue("sid"))
	}
	return svc, i, nil
}

func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		reply(w, 0, nil, badRequest("The request body is not a valid form: %v", err))
		return
	}
	u := webhookForm(r.PostForm)
	p := verify.CreateWebhookParams(u)
	if err := validation(p.Validate()); err != nil {
		reply(w, 0, nil, err)
		return
	}
	if p.Status == "" {
		p.Status = verify.WebhookStatusEnabled
	}
	if p.Version == "" {
		p.Version = verify.WebhookVersionV2
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.serviceFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	now := s.now()
	h := &webhook{
		sid: newSID("YW"), serviceSID: svc.sid, friendlyName: p.FriendlyName, url: p.URL,
		events: p.EventTypes, status: p.Status, version: p.Version, created: now, updated: now,
	}
	svc.webhooks = append(svc.webhooks, h)
	reply(w, http.StatusCreated, s.webhookWire(h), nil)
}

func (s *Server) handleFetchWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, i, err := s.webhookFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	reply(w, http.StatusOK, s.webhookWire(svc.webhooks[i]), nil)
}

// handleUpdateWebhook changes the fields sent; EventTypes, when sent,
// replaces the whole list.
func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		reply(w, 0, nil, badRequest("The request body is not a valid form: %v", err))
		return
	}
	p := webhookForm(r.PostForm)
	if err := validation(p.Validate()); err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, i, err := s.webhookFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	h := svc.webhooks[i]
	if p.FriendlyName != "" {
		h.friendlyName = p.FriendlyName
	}
	if p.URL != "" {
		h.url = p.URL
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
	reply(w, http.StatusOK, s.webhookWire(h), nil)
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, i, err := s.webhookFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	svc.webhooks = slices.Delete(svc.webhooks, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	p, err := readPageQuery(r.URL.Query())
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.serviceFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	servePage(s, w, r, p, "webhooks", svc.webhooks, s.webhookWire)
}
