package verify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
)

// deleteOp is one of the SDK's Deletes and the path it must send.
type deleteOp struct {
	name string
	path string
	call func(ctx context.Context, c *Client) error
}

func deleteOps() []deleteOp {
	return []deleteOp{
		{"Entities.Delete", pathEntity, func(ctx context.Context, c *Client) error {
			return c.Entities.Delete(ctx, testService, testIdentity)
		}},
		{"Factors.Delete", pathFactor, func(ctx context.Context, c *Client) error {
			return c.Factors.Delete(ctx, testService, testIdentity, testFactor)
		}},
		{"Webhooks.Delete", pathWebhook, func(ctx context.Context, c *Client) error {
			return c.Webhooks.Delete(ctx, testService, testWebhook)
		}},
		{"Services.Delete", pathService, func(ctx context.Context, c *Client) error {
			return c.Services.Delete(ctx, testService)
		}},
	}
}

// noContent is the API's answer to a DELETE: 204 and no body.
var noContent = httpmock.NewStringResponder(http.StatusNoContent, "")

// TestDeleteTwiceDeletesOnce: a DELETE is retried like a GET, and a 404 is
// success only when an earlier attempt may have reached the server (it
// deleted the resource); a 404 on the first attempt, or after answers that
// prove nothing was applied (a 429, a refused connection), is ErrNotFound.
func TestDeleteTwiceDeletesOnce(t *testing.T) {
	t.Parallel()
	notFound := twilioError(404, 20404, "The requested resource was not found")
	scenarios := []struct {
		name     string
		answers  []httpmock.Responder
		notFound bool // the caller gets ErrNotFound; else nil
	}{
		{"204 with an empty body", []httpmock.Responder{noContent}, false},
		{"200 with a body that is not JSON", []httpmock.Responder{httpmock.NewStringResponder(200, "<html>deleted</html>")}, false},
		{"200 announcing a 100 MB body", []httpmock.Responder{func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, ContentLength: 100 << 20, Body: io.NopCloser(strings.NewReader("{"))}, nil
		}}, false},
		{"first-attempt 404", []httpmock.Responder{notFound}, true},
		{"reset, then 404", []httpmock.Responder{reset, notFound}, false},
		{"503, then 404", []httpmock.Responder{twilioError(503, 0, "down"), notFound}, false},
		{"502 HTML, then 404", []httpmock.Responder{httpmock502(), notFound}, false},
		{"429, then 404", []httpmock.Responder{twilioError(429, 20429, "slow down"), notFound}, true},
		{"refused, then 404", []httpmock.Responder{refused, notFound}, true},
		{"503, 429, then 404", []httpmock.Responder{twilioError(503, 0, "down"), twilioError(429, 20429, "slow down"), notFound}, false},
		{"503, then 204", []httpmock.Responder{twilioError(503, 0, "down"), noContent}, false},
	}
	for _, op := range deleteOps() {
		for _, sc := range scenarios {
			t.Run(op.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, WithMaxRetries(3))
				h.mock.RegisterResponder(http.MethodDelete, apiBase+op.path, sequence(sc.answers...))
				err := op.call(context.Background(), h.client)
				var apiErr *APIError
				switch {
				case sc.notFound && (!errors.Is(err, ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Status != 404):
					t.Errorf("err = %v, want *APIError 404 matching ErrNotFound", err)
				case !sc.notFound && err != nil:
					t.Errorf("err = %v, want nil: the resource is gone", err)
				case errors.Is(err, ErrOutcomeUnknown):
					t.Errorf("err = %v matches ErrOutcomeUnknown; a DELETE can be sent again", err)
				}
				reqs := h.requests()
				if len(reqs) != len(sc.answers) {
					t.Errorf("sent %d requests, want %d", len(reqs), len(sc.answers))
				}
				for _, s := range reqs {
					wantMethodPath(t, s, http.MethodDelete, op.path)
					if len(s.Form) != 0 || s.Header.Get("Content-Type") != "" {
						t.Errorf("DELETE sent a body %v (Content-Type %q)", s.Form, s.Header.Get("Content-Type"))
					}
				}
			})
		}
	}
}
