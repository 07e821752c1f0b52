package verifytest

import (
	"net/url"

	"github.com/verifykit/verify-go/internal/twiliosig"
)

// SignWebhook computes the X-Twilio-Signature (verify.SignatureHeader) of a
// delivery to rawURL with a form body, as Twilio does:
// base64(HMAC-SHA1(authToken, rawURL followed by each form key and value,
// keys sorted, a repeated key's values sorted)). rawURL is the URL as
// Twilio signs it: the webhook's URL as registered, without any
// user:password@. It is for tests and fakes that play Twilio, as the
// server's own deliveries do; receivers use verify.ParseEvent or
// verify.NewWebhookHandler.
func SignWebhook(authToken, rawURL string, form url.Values) string {
	return twiliosig.Sign(authToken, rawURL, form)
}

// SignWebhookJSON signs a delivery with a JSON body the way Twilio does: it
// adds bodySHA256 (the body's hex SHA-256) to rawURL's query, before any
// fragment, and signs that URL alone. It returns the URL to deliver to and
// the signature, for tests and fakes that play Twilio.
func SignWebhookJSON(authToken, rawURL string, body []byte) (deliveryURL, signature string) {
	return twiliosig.SignJSON(authToken, rawURL, body)
}
