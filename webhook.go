package verify

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// WebhookStatus turns a webhook's deliveries on or off.
type WebhookStatus string

// Webhook statuses.
const (
	WebhookStatusEnabled  WebhookStatus = "enabled"
	WebhookStatusDisabled WebhookStatus = "disabled"
)

// WebhookVersion is the payload format a webhook receives.
type WebhookVersion string

// Webhook versions; v2 is the API's default for new webhooks.
const (
	WebhookVersionV1 WebhookVersion = "v1"
	WebhookVersionV2 WebhookVersion = "v2"
)

// Webhook is a URL Verify calls when challenges are answered and factors
// change; receive its events with NewWebhookHandler.
type Webhook struct {
	SID          string         `json:"sid"`            // YW…, 34 characters
	AccountSID   string         `json:"account_sid"`    // AC…
	ServiceSID   string         `json:"service_sid"`    // VA…
	FriendlyName string         `json:"friendly_name"`  // your name for it; no PII
	EventTypes   []EventType    `json:"event_types"`    // what it receives; EventAll for everything
	Status       WebhookStatus  `json:"status"`         // enabled or disabled
	Version      WebhookVersion `json:"version"`        // payload format
	WebhookURL   string         `json:"webhook_url"`    // where events are sent
	Method       string         `json:"webhook_method"` // the HTTP method events are sent with, POST
	DateCreated  time.Time      `json:"date_created"`   // when it was created
	DateUpdated  time.Time      `json:"date_updated"`   // when it last changed
	URL          string         `json:"url"`            // the webhook's absolute API URL
}

// String is a one-line summary for logs and fmt.Println: "webhook YW… "login" enabled".
func (w Webhook) String() string {
	return "webhook " + w.SID + " " + strconv.Quote(w.FriendlyName) + " " + string(w.Status)
}

// CreateWebhookParams are the inputs of Webhooks.Create; zero fields are not sent.
type CreateWebhookParams struct {
	FriendlyName string `url:"FriendlyName"` // required, up to 64 characters; no PII
	// WebhookURL is where Verify POSTs events (WebhookUrl, required): an absolute
	// http or https URL with a host, and no spaces or control characters.
	// It may carry basic auth (https://user:pass@example.com/hooks/verify).
	//
	// Use https: over plain http the events, and any password in the URL,
	// cross the network in clear for anyone on the path to read. A password
	// in the URL is stored with the webhook: whoever can read the service's
	// webhook configuration (Webhooks.Fetch or List, Webhook.WebhookURL, the
	// Console) may read it, so give it no other use. Check the
	// X-Twilio-Signature of every event either way (NewWebhookHandler).
	WebhookURL string         `url:"WebhookUrl"`        // required; see above
	EventTypes []EventType    `url:"EventTypes"`        // required, at least one; one form value each
	Status     WebhookStatus  `url:"Status,omitempty"`  // enabled (the API's default) or disabled
	Version    WebhookVersion `url:"Version,omitempty"` // v1 or v2 (the API's default)
}

// UpdateWebhookParams are the inputs of Webhooks.Update; zero fields are
// not sent and keep their current value.
type UpdateWebhookParams struct {
	FriendlyName string         `url:"FriendlyName,omitempty"` // up to 64 characters
	WebhookURL   string         `url:"WebhookUrl,omitempty"`   // as CreateWebhookParams.WebhookURL, with its warnings
	EventTypes   []EventType    `url:"EventTypes,omitempty"`   // replaces the list when set
	Status       WebhookStatus  `url:"Status,omitempty"`       // enabled or disabled
	Version      WebhookVersion `url:"Version,omitempty"`      // v1 or v2
}

// WebhookService configures where Verify sends events; use Client.Webhooks.
type WebhookService struct {
	client *Client
}

// Create registers a webhook URL for the service's events.
func (s *WebhookService) Create(ctx context.Context, serviceSID string, params *CreateWebhookParams) (*Webhook, error) {
	u, err := s.client.serviceURL(serviceSID, "Webhooks")
	if err != nil {
		return nil, err
	}
	return postValid[Webhook](ctx, s.client, u, params)
}

// Fetch reads one webhook.
func (s *WebhookService) Fetch(ctx context.Context, serviceSID, webhookSID string) (*Webhook, error) {
	u, err := s.client.webhookURL(serviceSID, webhookSID)
	if err != nil {
		return nil, err
	}
	return get[Webhook](ctx, s.client, u)
}

// Update changes a webhook; fields left zero keep their value.
func (s *WebhookService) Update(ctx context.Context, serviceSID, webhookSID string, params *UpdateWebhookParams) (*Webhook, error) {
	u, err := s.client.webhookURL(serviceSID, webhookSID)
	if err != nil {
		return nil, err
	}
	return postValid[Webhook](ctx, s.client, u, params)
}

// Delete removes a webhook; deleting twice deletes once, as for EntityService.Delete.
func (s *WebhookService) Delete(ctx context.Context, serviceSID, webhookSID string) error {
	u, err := s.client.webhookURL(serviceSID, webhookSID)
	if err != nil {
		return err
	}
	return s.client.delete(ctx, u)
}

// ListPage fetches the first page of the service's webhooks; page.Next goes on.
func (s *WebhookService) ListPage(ctx context.Context, serviceSID string, params *ListParams) (*Page[Webhook], error) {
	u, err := s.client.serviceURL(serviceSID, "Webhooks")
	if err != nil {
		return nil, err
	}
	return listPage[Webhook](ctx, s.client, u, params)
}

// List iterates over the service's webhooks, as ChallengeService.List does.
func (s *WebhookService) List(ctx context.Context, serviceSID string, params *ListParams) iter.Seq2[*Webhook, error] {
	p := copyListParams(params)
	return listAll(ctx, p.Limit, func(ctx context.Context) (*Page[Webhook], error) {
		return s.ListPage(ctx, serviceSID, &p)
	})
}

// webhookURL is one webhook's URL.
func (c *Client) webhookURL(serviceSID, webhookSID string) (string, error) {
	u, err := c.serviceURL(serviceSID, "Webhooks")
	if err != nil {
		return "", err
	}
	if err := checkSID("Sid", webhookSID, "YW"); err != nil {
		return "", err
	}
	return u + "/" + url.PathEscape(webhookSID), nil
}
