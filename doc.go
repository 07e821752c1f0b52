// Package verify is a typed client for the Twilio Verify v2 API behind push
// and TOTP second-factor logins: challenges (create, answer, wait, list),
// enrollment (entities, TOTP and push factors, access tokens for the mobile
// SDK) and webhooks (configured through the API, received with
// NewWebhookHandler); and for the rest of a login: Services, one-time codes
// by SMS, call, email or WhatsApp (Verifications) and their checks
// (VerificationChecks), and passkeys (Passkeys: WebAuthn registration and
// login, usernameless included).
//
// Create a Client once and share it between goroutines:
//
//	c, err := verify.NewClient(verify.WithCredentials(accountSID, authToken))
//	f, err := c.Factors.CreateTOTP(ctx, serviceSID, identity, &verify.CreateTOTPFactorParams{FriendlyName: "Ada's phone"})
//	ch, err := c.Challenges.Create(ctx, serviceSID, identity, &verify.CreateChallengeParams{FactorSID: f.SID, …})
//	ch, err = c.Challenges.Wait(ctx, serviceSID, identity, ch.SID, &verify.WaitOptions{Events: hub})
//
// Every call takes a context, validates its input before sending anything,
// retries only what is safe to retry, and returns *APIError,
// *ValidationError or an error matching one of the package's sentinels.
// Secrets (codes, TOTP seeds, access tokens, hidden details) are Secret
// values, which never print or log; Reveal gives the value.
//
// An SMS login sends a code, then checks what the user typed; a wrong code
// is a pending check, not an error:
//
//	v, err := c.Verifications.Create(ctx, serviceSID, &verify.CreateVerificationParams{To: phone, Channel: verify.ChannelSMS})
//	chk, err := c.VerificationChecks.Create(ctx, serviceSID, &verify.CheckVerificationParams{VerificationSID: v.SID, Code: verify.NewSecret(code)})
//	if err == nil && chk.Approved() { … }
//
// To learn of answers without polling, register NewWebhookHandler at your
// webhook URL with an EventHub's Publish as its callback, and pass the hub
// to Wait as WaitOptions.Events.
//
// To test your code without a Twilio account, run the stateful fake in
// package github.com/verifykit/verify-go/verifytest: a Verify API server
// with simulated phones, authenticator apps, webhook deliveries and an
// outbox of the codes it sends by SMS.
package verify
