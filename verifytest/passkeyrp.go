package verifytest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
)

// codeContactID is Twilio's error for a userHandle that is not base64url.
const codeContactID = 60420

type (
	parsedRegistration = protocol.ParsedCredentialCreationData
	parsedAssertion    = protocol.ParsedCredentialAssertionData
)

// credentialShape is the part of a credential's JSON read before
// go-webauthn parses it, to name the field at fault.
type credentialShape struct {
	Response *struct {
		ClientDataJSON    *string `json:"clientDataJSON"`
		AttestationObject *string `json:"attestationObject"`
		AuthenticatorData *string `json:"authenticatorData"`
		Signature         *string `json:"signature"`
		UserHandle        *string `json:"userHandle"`
	} `json:"response"`
}

// readShape decodes body's shape; a body that is not a JSON object with a
// response object is a 60306.
func readShape(body []byte) (*credentialShape, *apiError) {
	var shape credentialShape
	if err := json.Unmarshal(body, &shape); err != nil {
		return nil, badRequest("The request body is not a JSON credential: %v", err)
	}
	if shape.Response == nil {
		return nil, badRequest("response is required: send the credential as PublicKeyCredential.toJSON() gives it")
	}
	if shape.Response.ClientDataJSON == nil || !isBase64URL(*shape.Response.ClientDataJSON) {
		return nil, badRequest("response.clientDataJSON is missing or not base64url")
	}
	return &shape, nil
}

// isBase64URL reports whether s is non-empty base64url, padded or not.
func isBase64URL(s string) bool {
	_, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return s != "" && err == nil
}

// parseRegistration reads a registration credential (the browser's
// credential.toJSON() after navigator.credentials.create).
func parseRegistration(body []byte) (*parsedRegistration, *apiError) {
	shape, err := readShape(body)
	if err != nil {
		return nil, err
	}
	if a := shape.Response.AttestationObject; a == nil || !isBase64URL(*a) {
		return nil, fail(http.StatusBadRequest, codeAttestation, "Attestation object invalid or not provided: response.attestationObject must be base64url")
	}
	parsed, perr := protocol.ParseCredentialCreationResponseBytes(body)
	if perr != nil {
		return nil, fail(http.StatusBadRequest, codeAttestation, "Attestation object invalid: %s", describe(perr))
	}
	return parsed, nil
}

// parseAssertion reads an assertion (the browser's credential.toJSON()
// after navigator.credentials.get).
func parseAssertion(body []byte) (*parsedAssertion, *apiError) {
	shape, err := readShape(body)
	if err != nil {
		return nil, err
	}
	resp := shape.Response
	switch {
	case resp.AuthenticatorData == nil || !isBase64URL(*resp.AuthenticatorData):
		return nil, fail(http.StatusBadRequest, codeAuthenticatorData, "Authenticator data invalid or not provided: response.authenticatorData must be base64url")
	case resp.Signature == nil || !isBase64URL(*resp.Signature):
		return nil, fail(http.StatusBadRequest, codeSignatureMissing, "Signature invalid or not provided: response.signature must be base64url")
	case resp.UserHandle != nil && *resp.UserHandle != "" && !isBase64URL(*resp.UserHandle):
		return nil, fail(http.StatusBadRequest, codeContactID, "Invalid Contact ID format: response.userHandle must be base64url")
	}
	parsed, perr := protocol.ParseCredentialRequestResponseBytes(body)
	if perr != nil {
		return nil, badRequest("The assertion could not be read: %s", describe(perr))
	}
	return parsed, nil
}

// describe is a go-webauthn error with its debugging detail.
func describe(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return pe.Details + ": " + pe.DevInfo
	}
	return err.Error()
}

// session is the go-webauthn ceremony state for a challenge carried in
// options the fake handed out.
func session(challenge string, settings relyingPartySettings, userID []byte) webauthn.SessionData {
	return webauthn.SessionData{
		Challenge: challenge, RelyingPartyID: settings.id, UserID: userID,
		UserVerification: protocol.UserVerificationRequirement(settings.userVerification),
		CredParams:       []protocol.CredentialParameter{{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256}},
	}
}

// relyingPartySettings are the parts of a passkeys setting a ceremony
// checks against.
type relyingPartySettings struct {
	id, userVerification string
}

// verifyRegistration checks a registration credential against f's creation
// options: challenge, origin, rpIdHash, user presence (and verification when
// required), ES256, and a none or packed attestation that verifies. It
// returns the credential to store.
func verifyRegistration(f *factor, parsed *parsedRegistration) (*webauthn.Credential, error) {
	p := f.passkey.settings
	rp, err := relyingParty(p.RelyingParty)
	if err != nil {
		return nil, err
	}
	switch format := parsed.Response.AttestationObject.Format; format {
	case "none", "packed":
	default:
		return nil, errors.New("attestation format " + format + " is not accepted: none or packed")
	}
	s := session(f.passkey.challenge, relyingPartySettings{id: p.RelyingParty.ID, userVerification: string(p.UserVerification)}, []byte(f.entity.sid))
	cred, err := rp.CreateCredential(passkeyUser{f}, s, parsed)
	if err != nil {
		return nil, errors.New(describe(err))
	}
	return cred, nil
}

// verifyAssertion checks an assertion by f's credential against challenge
// c: signature, challenge, origin, rpIdHash, user presence (and
// verification when required) and a sign count that went up (or stayed 0).
// It returns the credential with its new sign count.
func verifyAssertion(f *factor, c *challenge, parsed *parsedAssertion) (*webauthn.Credential, error) {
	pc := c.passkey
	rp, err := relyingParty(f.passkey.settings.RelyingParty)
	if err != nil {
		return nil, err
	}
	s := session(pc.challenge, relyingPartySettings{id: pc.settings.RelyingParty.ID, userVerification: string(pc.settings.UserVerification)}, []byte(f.entity.sid))
	for _, a := range pc.allowed {
		if cred := a.passkeyCredential(); cred != nil && a == f {
			s.AllowedCredentialIDs = append(s.AllowedCredentialIDs, cred.ID)
		}
	}
	cred, err := rp.ValidateLogin(passkeyUser{f}, s, parsed)
	if err != nil {
		return nil, errors.New(describe(err))
	}
	if cred.Authenticator.CloneWarning {
		return nil, errors.New("the sign count did not go up: the authenticator may be cloned")
	}
	return cred, nil
}
