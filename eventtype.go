package verify

// EventType names what happened in a Verify event, and what a webhook
// subscribes to.
type EventType string

// Event types, as webhooks subscribe to them and events carry them.
const (
	EventAll               EventType = "*" // every event; for subscriptions only
	EventFactorCreated     EventType = "factor.created"
	EventFactorVerified    EventType = "factor.verified"
	EventFactorDeleted     EventType = "factor.deleted"
	EventChallengeApproved EventType = "challenge.approved"
	EventChallengeDenied   EventType = "challenge.denied"
)

// Known reports whether t is one of the event types this SDK names.
func (t EventType) Known() bool {
	switch t {
	case EventAll, EventFactorCreated, EventFactorVerified, EventFactorDeleted, EventChallengeApproved, EventChallengeDenied:
		return true
	}
	return false
}
