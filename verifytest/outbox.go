package verifytest

import (
	"log/slog"
	"slices"
	"time"

	verify "github.com/verifykit/verify-go"
)

// Message is one message the server "sent" for a verification: what the
// user would receive by SMS, call, email or WhatsApp. Nothing leaves the
// process; tests read it from Outbox or LastCode.
type Message struct {
	ServiceSID      string         // VA…
	VerificationSID string         // VE…, the verification whose code it carries
	Channel         verify.Channel // sms, call, email or whatsapp (auto is sent as sms)
	To              string         // the phone number or email address
	Body            string         // the text: "Your verifytest verification code is: 123456"
	Code            string         // the code in Body, for tests; a plain string, since this is a fake
	Time            time.Time      // when it was sent, on the server's clock
}

// maxOutbox is how many messages Outbox keeps: the latest ones, so that a
// long-running server (cmd/verify-fake) does not grow.
const maxOutbox = 10000

// WithMessageLogger logs every message the server sends, at info level:
// "message sent" with its channel, to, body and verification_sid. The body
// holds the code, as the user would read it; cmd/verify-fake logs to
// stderr this way, so that a walk-through shows the SMS.
func WithMessageLogger(logger *slog.Logger) Option {
	return func(s *Server) { s.messageLog = logger }
}

// Outbox returns the messages sent so far, oldest first (the latest 10,000).
// A resend of a pending verification is a message of its own, with the
// same code.
func (s *Server) Outbox() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.listedMessages())
}

// LastCode returns the code of the latest message sent to to, a phone
// number or an email address, or "" if none was: what the user would type.
func (s *Server) LastCode(to string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range slices.Backward(s.listedMessages()) {
		if m.To == to {
			return m.Code
		}
	}
	return ""
}

// listedMessages is what Outbox shows: the last maxOutbox messages. The
// caller holds s.mu.
func (s *Server) listedMessages() []Message {
	return s.outbox[max(0, len(s.outbox)-maxOutbox):]
}

// send records m in the outbox, which drops its oldest half once it holds
// twice what it shows, and logs it; the caller holds s.mu.
func (s *Server) send(m Message) {
	s.outbox = append(s.outbox, m)
	if len(s.outbox) >= 2*maxOutbox {
		s.outbox = append(s.outbox[:0], s.outbox[len(s.outbox)-maxOutbox:]...)
	}
	if s.messageLog != nil {
		s.messageLog.Info("message sent", "channel", string(m.Channel), "to", m.To, "body", m.Body,
			"verification_sid", m.VerificationSID)
	}
}
