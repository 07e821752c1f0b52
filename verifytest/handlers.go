package verifytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	verify "github.com/verifykit/verify-go"
)

// apiError is a failure the handlers answer with Twilio's error JSON.
type apiError struct {
	status, code int
	message      string
}

func (e *apiError) Error() string { return e.message }

func fail(status, code int, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return fail(http.StatusBadRequest, codeInvalidRequest, format, args...)
}

func notFound(what string) *apiError {
	return fail(http.StatusNotFound, codeNotFound, "The requested resource %s was not found", what)
}

// writeError answers with Twilio's error body.
func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code": code, "message": message, "status": status,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// reply writes v, or the error if err is set; all handlers end here.
func reply(w http.ResponseWriter, status int, v any, err *apiError) {
	if err != nil {
		writeError(w, err.status, err.code, err.message)
		return
	}
	writeJSON(w, status, v)
}

// formOf parses the request's form body.
func formOf(r *http.Request) (url.Values, *apiError) {
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("The request body is not a valid form: %v", err)
	}
	return r.PostForm, nil
}

// resourceHandler finds what a path names, under s.mu, and lets answer
// write the response; a failed find answers with its error.
func resourceHandler[T any](s *Server, find func(*http.Request) (T, *apiError), answer func(http.ResponseWriter, T)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		v, err := find(r)
		if err != nil {
			reply(w, 0, nil, err)
			return
		}
		answer(w, v)
	}
}

// fetchHandler answers with the resource find reads from the path, as
// render puts it on the wire.
func fetchHandler[T, J any](s *Server, find func(*http.Request) (T, *apiError), render func(T) J) http.HandlerFunc {
	return resourceHandler(s, find, func(w http.ResponseWriter, v T) { reply(w, http.StatusOK, render(v), nil) })
}

// deleteHandler removes the resource find reads from the path and answers
// 204 with no body, as the API does.
func deleteHandler[T any](s *Server, find func(*http.Request) (T, *apiError), remove func(T)) http.HandlerFunc {
	return resourceHandler(s, find, func(w http.ResponseWriter, v T) {
		remove(v)
		w.WriteHeader(http.StatusNoContent)
	})
}

// formHandler reads and checks a form with parse, outside the lock, then
// applies it under s.mu; apply's result is the answer, with status.
func formHandler[P any](s *Server, status int, parse func(url.Values) (P, *apiError), apply func(*http.Request, P) (any, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		form, err := formOf(r)
		var p P
		if err == nil {
			p, err = parse(form)
		}
		if err != nil {
			reply(w, 0, nil, err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		out, err := apply(r, p)
		reply(w, status, out, err)
	}
}

// challengeFor finds the challenge a path names and refreshes its status;
// the caller holds s.mu.
func (s *Server) challengeFor(r *http.Request, sid string) (*challenge, *apiError) {
	ent, err := s.entityFor(r)
	if err != nil {
		return nil, err
	}
	for _, c := range ent.challenges {
		if c.sid == sid {
			c.refresh(s.now())
			return c, nil
		}
	}
	return nil, notFound("Challenge " + sid)
}

// writeChallenge answers with a challenge, announcing the fields a push
// device must sign.
func (s *Server) writeChallenge(w http.ResponseWriter, status int, c *challenge) {
	if c.factor.kind == verify.FactorTypePush {
		w.Header().Set("Twilio-Verify-Signature-Fields", strings.Join(signatureFields, ","))
	}
	writeJSON(w, status, s.challengeWire(c))
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	params, expires, perr := s.parseCreate(r)
	if perr != nil {
		reply(w, 0, nil, perr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ent, err := s.entityFor(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	f := ent.factors[params.FactorSID]
	switch {
	case f == nil:
		err = notFound("Factor " + params.FactorSID)
	case !f.verified:
		err = fail(http.StatusForbidden, codeFactorNotVerified, "The Factor %s is not verified", f.sid)
	case f.kind == verify.FactorTypePush && (params.Details == nil || params.Details.Message == ""):
		err = badRequest("Details.Message is required for push factors")
	case f.kind == verify.FactorTypePasskeys:
		err = badRequest("Passkeys challenges are created with POST /v2/Services/%s/Passkeys/Challenges", f.entity.serviceSID)
	case f.kind == verify.FactorTypePush && !params.AuthPayload.IsZero():
		err = badRequest("AuthPayload on Create is only for totp factors")
	}
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	now := s.now()
	if expires.IsZero() {
		expires = now.Add(defaultExpiry)
	}
	if !expires.After(now) || expires.Sub(now) > verify.MaxExpiration {
		reply(w, 0, nil, badRequest("ExpirationDate must be in the future and at most 60 minutes after creation"))
		return
	}
	c := &challenge{
		seq: s.nextSeq(), sid: newSID("YC"), serviceSID: r.PathValue("service"), entity: ent, factor: f,
		created: now, updated: now, expires: expires.UTC().Truncate(time.Second),
		status: verify.StatusPending, reason: verify.ReasonNone,
		details: params.Details, hidden: params.HiddenDetails.Reveal(),
	}
	if c.details != nil {
		c.detailsDate = now
	}
	ent.challenges = append(ent.challenges, c)
	if !params.AuthPayload.IsZero() {
		if s.totpValid(f, params.AuthPayload.Reveal(), now) {
			c.respond(verify.StatusApproved, now)
			s.challengeAnswered(c)
		} else {
			c.wrongAttempts++
		}
	}
	s.writeChallenge(w, http.StatusCreated, c)
}

// parseCreate decodes and validates the Create form.
func (s *Server) parseCreate(r *http.Request) (*verify.CreateChallengeParams, time.Time, *apiError) {
	f, perr := formOf(r)
	if perr != nil {
		return nil, time.Time{}, perr
	}
	p := &verify.CreateChallengeParams{FactorSID: f.Get("FactorSid"), AuthPayload: verify.NewSecret(f.Get("AuthPayload"))}
	var expires time.Time
	if v := f.Get("ExpirationDate"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, expires, badRequest("ExpirationDate must be an ISO 8601 date-time")
		}
		expires = t
	}
	if msg, fields := f.Get("Details.Message"), f["Details.Fields"]; msg != "" || len(fields) > 0 {
		p.Details = &verify.Details{Message: msg}
		for i, raw := range fields {
			field, err := decodeField(raw)
			if err != nil {
				return nil, expires, badRequest("Details.Fields[%d] must be a JSON object with string label and value", i)
			}
			p.Details.Fields = append(p.Details.Fields, field)
		}
	}
	hidden, err := decodeStringMap(f, "HiddenDetails")
	if err != nil {
		return nil, expires, err
	}
	p.HiddenDetails = verify.NewSecretMap(hidden)
	if err := validation(p.Validate()); err != nil {
		return nil, expires, err
	}
	return p, expires, nil
}

// decodeField reads one {"label":…,"value":…} object, refusing other keys.
func decodeField(raw string) (verify.Field, error) {
	var f verify.Field
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, err
	}
	return f, nil
}

// decodeStringMap reads a form value holding one JSON object of strings.
func decodeStringMap(f url.Values, key string) (map[string]string, *apiError) {
	vals := f[key]
	if len(vals) == 0 {
		return nil, nil
	}
	var m map[string]string
	if len(vals) > 1 || json.Unmarshal([]byte(vals[0]), &m) != nil || m == nil {
		return nil, badRequest("%s must be one JSON object with string values", key)
	}
	return m, nil
}

// invalidParameter turns the SDK's *verify.ValidationError into the 400
// the Services, Verifications and VerificationCheck endpoints answer:
// 60200, "Invalid parameter: To".
func invalidParameter(err error) *apiError {
	var ve *verify.ValidationError
	if errors.As(err, &ve) {
		return parameterError(ve.Field, ve.Rule)
	}
	if err != nil {
		return fail(http.StatusBadRequest, codeInvalidParameter, "Invalid parameter: %v", err)
	}
	return nil
}

// parameterError is a 60200 naming the parameter, as the API words it.
func parameterError(field, rule string) *apiError {
	return fail(http.StatusBadRequest, codeInvalidParameter, "Invalid parameter: %s: %s", field, rule)
}

// validation turns the SDK's *verify.ValidationError into a 400.
func validation(err error) *apiError {
	var ve *verify.ValidationError
	if errors.As(err, &ve) {
		return badRequest("Invalid parameter %s: %s", ve.Field, ve.Rule)
	}
	if err != nil {
		return badRequest("%v", err)
	}
	return nil
}

func (s *Server) handleFetch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.challengeFor(r, r.PathValue("sid"))
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.writeChallenge(w, http.StatusOK, c)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	form, perr := formOf(r)
	var metadata map[string]string
	if perr == nil {
		metadata, perr = decodeStringMap(form, "Metadata")
	}
	if perr != nil {
		reply(w, 0, nil, perr)
		return
	}
	params := &verify.UpdateChallengeParams{AuthPayload: verify.NewSecret(form.Get("AuthPayload")), Metadata: metadata}
	if err := validation(params.Validate()); err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.challengeFor(r, r.PathValue("sid"))
	if err == nil {
		err = s.answer(c, params)
	}
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	s.writeChallenge(w, http.StatusOK, c)
}

// answer applies an Update to a challenge; the caller holds s.mu.
func (s *Server) answer(c *challenge, p *verify.UpdateChallengeParams) *apiError {
	switch c.status {
	case verify.StatusExpired:
		return fail(http.StatusForbidden, codeExpired, "Challenge %s has expired", c.sid)
	case verify.StatusApproved, verify.StatusDenied:
		return fail(http.StatusForbidden, codeAlreadyResponded, "Challenge %s was already %s", c.sid, c.status)
	}
	if c.passkey != nil {
		return badRequest("Passkeys challenges are approved with POST /v2/Services/%s/Passkeys/ApproveChallenge", c.serviceSID)
	}
	if p.AuthPayload.IsZero() {
		return badRequest("AuthPayload is required to verify a challenge")
	}
	payload := p.AuthPayload.Reveal()
	if c.factor.kind == verify.FactorTypeTOTP {
		if err := checkTOTPCodeLength(payload); err != nil {
			return err
		}
	}
	now := s.now()
	if p.Metadata != nil {
		c.metadata = p.Metadata
	}
	switch c.factor.kind {
	case verify.FactorTypeTOTP:
		if c.wrongAttempts > maxWrongAttempts {
			return fail(http.StatusTooManyRequests, codeMaxAttempts, "Max check attempts reached for challenge %s", c.sid)
		}
		if s.totpValid(c.factor, payload, now) {
			c.respond(verify.StatusApproved, now)
			s.challengeAnswered(c)
			return nil
		}
		c.wrongAttempts++
		c.updated = now
		if c.wrongAttempts > maxWrongAttempts {
			return fail(http.StatusTooManyRequests, codeMaxAttempts, "Max check attempts reached for challenge %s", c.sid)
		}
		return nil
	default:
		status, err := s.verifyPushPayload(c, payload)
		if err != nil {
			return fail(http.StatusForbidden, codeVerifyFailed, "Verification failed: %v", err)
		}
		c.respond(status, now)
		s.challengeAnswered(c)
		return nil
	}
}

func (s *Server) handleNotify(w http.ResponseWriter, r *http.Request) {
	form, perr := formOf(r)
	if perr != nil {
		reply(w, 0, nil, perr)
		return
	}
	ttl := verify.MaxNotifyTTL
	if v := form.Get("Ttl"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || time.Duration(n)*time.Second > verify.MaxNotifyTTL {
			reply(w, 0, nil, badRequest("Ttl must be an integer between 0 and 300"))
			return
		}
		ttl = time.Duration(n) * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.challengeFor(r, r.PathValue("sid"))
	switch {
	case err != nil:
	case c.factor.kind != verify.FactorTypePush:
		err = badRequest("Notifications are only sent for push challenges")
	case c.status == verify.StatusExpired:
		err = fail(http.StatusForbidden, codeExpired, "Challenge %s has expired", c.sid)
	case c.status != verify.StatusPending:
		err = fail(http.StatusForbidden, codeAlreadyResponded, "Challenge %s was already %s", c.sid, c.status)
	case c.notifications >= maxNotifications:
		err = fail(http.StatusTooManyRequests, codeMaxNotifications, "Max notifications reached for challenge %s", c.sid)
	}
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	c.notifications++
	reply(w, http.StatusCreated, verify.Notification{
		SID: newSID("NT"), AccountSID: s.accountSID, ServiceSID: c.serviceSID, EntitySID: c.entity.sid,
		Identity: c.entity.identity, ChallengeSID: c.sid, Priority: "high", TTL: ttl,
		DateCreated: s.now().Truncate(time.Second),
	}, nil)
}
