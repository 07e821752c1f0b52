package verifytest

import (
	"strconv"
	"testing"
)

// TestOutboxKeepsTheLatest drives the outbox past several compactions: it
// lists the last maxOutbox messages in order, never holds twice that many,
// and LastCode finds the newest.
func TestOutboxKeepsTheLatest(t *testing.T) {
	s := &Server{}
	const total = 3*maxOutbox + 7
	for i := range total {
		s.mu.Lock()
		s.send(Message{To: "+15017122661", Code: strconv.Itoa(i)})
		n := len(s.outbox)
		s.mu.Unlock()
		if n >= 2*maxOutbox {
			t.Fatalf("after %d messages the outbox holds %d", i+1, n)
		}
	}
	got := s.Outbox()
	if len(got) != maxOutbox {
		t.Fatalf("Outbox lists %d messages, want %d", len(got), maxOutbox)
	}
	for i, m := range got {
		if want := strconv.Itoa(total - maxOutbox + i); m.Code != want {
			t.Fatalf("message %d has code %s, want %s", i, m.Code, want)
		}
	}
	if code := s.LastCode("+15017122661"); code != strconv.Itoa(total-1) {
		t.Errorf("LastCode %s, want %d", code, total-1)
	}
}
