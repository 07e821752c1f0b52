package verifytest

import (
	"net/http"
	"strconv"
	"time"
)

// Injected faults are for the code under test: requests from a Device (the
// simulated phone) neither consume nor suffer them.

// faults are failures queued by tests, consumed one per request.
type faults struct {
	failCount     int
	failStatus    int
	retryAfter    time.Duration
	latency       time.Duration
	dropCount     int // close the connection before handling
	loseResponses int // handle the request, then close without answering
}

// FailNext answers the next n requests with status and Twilio's error body
// (code 20429 for 429, 20500 otherwise), before they are applied. A
// retryAfter above zero is sent as Retry-After, in whole seconds. A Device's
// requests are not counted and never fail.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	s.faults.failCount, s.faults.failStatus, s.faults.retryAfter = n, status, retryAfter
	s.mu.Unlock()
}

// SetLatency delays every response by d (0 turns it off). A client whose
// per-attempt timeout is shorter sees a timeout. A Device is not delayed.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.faults.latency = d
	s.mu.Unlock()
}

// DropNext closes the connection of the next n requests without applying
// them or answering: the client sees a connection error. A Device's requests
// are not counted and never dropped.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	s.faults.dropCount = n
	s.mu.Unlock()
}

// LoseNextResponse applies the next n requests, then closes the connection
// without answering: the case where a POST's outcome is unknown to the client.
// A Device's requests are not counted and always answered.
func (s *Server) LoseNextResponse(n int) {
	s.mu.Lock()
	s.faults.loseResponses = n
	s.mu.Unlock()
}

// injectFault applies the queued faults to one request; it reports whether
// the request was answered (or dropped) here.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) bool {
	if s.devices.sent(r) {
		return false
	}
	s.mu.Lock()
	f := &s.faults
	latency := f.latency
	var failStatus int
	var retryAfter time.Duration
	drop, lose := false, false
	switch {
	case f.dropCount > 0:
		f.dropCount--
		drop = true
	case f.failCount > 0:
		f.failCount--
		failStatus, retryAfter = f.failStatus, f.retryAfter
	case f.loseResponses > 0:
		f.loseResponses--
		lose = true
	}
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch {
	case drop:
		hangUp(w)
		return true
	case failStatus != 0:
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Round(time.Second)/time.Second)))
		}
		code := codeInternal
		if failStatus == http.StatusTooManyRequests {
			code = codeTooManyRequests
		}
		writeError(w, failStatus, code, "Injected failure: "+http.StatusText(failStatus))
		return true
	case lose:
		s.api.ServeHTTP(discardWriter{header: http.Header{}}, r)
		hangUp(w)
		return true
	}
	return false
}

// hangUp closes the client's connection without a response.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// discardWriter swallows a response that is never delivered.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
