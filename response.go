package verify

import (
	"context"
	"net/http"
)

// ResponseInfo is what the API's last answer to a call said beside its
// body: the request id a support ticket asks for, the headers (rate-limit
// headers among them) and how many attempts the call took. Fill one with
// CaptureResponse.
type ResponseInfo struct {
	StatusCode int         // HTTP status of the last answer; 0 when none came
	RequestID  string      // its Twilio-Request-Id header
	Header     http.Header // all its headers, as received
	Attempts   int         // attempts the call made, retries included
}

type responseInfoKey struct{}

// CaptureResponse returns a copy of ctx that makes every call given it
// record its last answer in info, whether the call succeeded or not:
//
//	var info verify.ResponseInfo
//	ch, err := c.Challenges.Create(verify.CaptureResponse(ctx, &info), …)
//	log.Printf("challenge %s, request %s", ch.SID, info.RequestID)
//
// Each call overwrites info, so give each call its own; calls running at
// once must not share one. A List records its last page, and Wait its last
// Fetch.
func CaptureResponse(ctx context.Context, info *ResponseInfo) context.Context {
	return context.WithValue(ctx, responseInfoKey{}, info)
}

// record fills the ResponseInfo ctx carries, if any, from what the call saw.
func (st *callState) record(ctx context.Context) {
	info, _ := ctx.Value(responseInfoKey{}).(*ResponseInfo)
	if info == nil {
		return
	}
	*info = ResponseInfo{StatusCode: st.status, Header: st.header, Attempts: st.attempt + 1}
	if st.header != nil {
		info.RequestID = st.header.Get("Twilio-Request-Id")
	}
}
