package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	verify "github.com/verifykit/verify-go"
)

// loginSMS sends a code by SMS to the phone number on record of the
// session's user, the fallback for a user without their push phone or
// authenticator app at hand. Who and which number come from the session
// and the user store, never from the request. Each send is counted before
// it is made, against the session (maxSMSPerSession), the client's address
// and the user's UTC day, so that someone who has the password can neither
// text the user again and again nor run up the bill; Verify itself sends
// the same code again for a resend, up to 5 times in its 10 minutes. A
// send Verify refused is given back; the sends of a session that logs in
// with the code are given back too.
func (a *app) loginSMS(w http.ResponseWriter, r *http.Request) {
	id, sess, phone, ok := a.factorSession(w, r, smsNumber, errNoPhone)
	if !ok {
		return
	}
	u := sess.user
	charges := []charge{{"sms addr " + a.addrKey(r), smsPerAddress},
		{"sms user " + u.name + " " + a.now().UTC().Format(time.DateOnly), smsPerUserDaily}}
	if wait, ok := a.attempts.try(charges...); !ok {
		tooMany(w, wait)
		return
	}
	if !a.sessions.trySMS(id) {
		a.attempts.refund(charges...) // nothing sent
		http.Error(w, "too many codes sent in this session; log in with your password again", http.StatusTooManyRequests)
		return
	}
	_, err := a.verify.Verifications.Create(r.Context(), a.serviceSID, &verify.CreateVerificationParams{To: phone, Channel: verify.ChannelSMS})
	if err != nil && !errors.Is(err, verify.ErrOutcomeUnknown) { // refused: nothing sent
		a.attempts.refund(charges...)
		a.fail(w, r, err)
		return
	}
	a.sessions.update(id, func(s *session) { s.smsCharges = append(s.smsCharges, charges...) })
	if err != nil {
		a.fail(w, r, err)
		return
	}
	fmt.Fprintf(w, "code sent by SMS to your number ending %s; POST /login/sms/check with code\n", phone[len(phone)-2:])
}

// loginSMSCheck checks the code the session's user received by SMS, the
// latest sent to their number. It is counted as a TOTP code is, before it
// is checked: per session, client address and user, in the same counts.
func (a *app) loginSMSCheck(w http.ResponseWriter, r *http.Request) {
	c, ok := a.readCode(w, r, codeKind{
		factor: smsNumber, none: errNoPhone,
		prompt: "enter the code we sent by SMS", min: verify.MinCodeLength, max: verify.MaxCodeLength,
	})
	if !ok {
		return
	}
	if c.sess.smsSends == 0 {
		http.Error(w, "no code was sent in this session; POST /login/sms first", http.StatusBadRequest)
		return
	}
	id, phone, code := c.id, c.factor, c.code
	charges, ok := a.countCode(w, r, id, c.sess.user)
	if !ok {
		return
	}
	chk, err := a.verify.VerificationChecks.Create(r.Context(), a.serviceSID, &verify.CheckVerificationParams{
		To: phone, Code: verify.NewSecret(code),
	})
	if errors.Is(err, verify.ErrVerificationNotFound) { // approved elsewhere, canceled or expired
		http.Error(w, "no code is waiting: it expired or was used; POST /login/sms for a new one", http.StatusUnauthorized)
		return
	}
	a.codeChecked(w, r, id, err == nil && chk.Approved(), err, append(charges, c.sess.smsCharges...)...)
}

// smsNumber picks the number on record from a user's factors.
func smsNumber(f factors) string { return f.phone }

// errNoPhone answers a user without a phone number on record.
const errNoPhone = "this account has no phone number on record; use /login/push or /login/totp"
