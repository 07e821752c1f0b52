package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// floorClient is what a careful engineer writes by hand with net/http and
// encoding/json for the same requests: the cost any SDK has to approach.
type floorClient struct {
	base string
	auth string
	hc   *http.Client
}

func newFloorClient(base string) *floorClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost = 64, 64
	return &floorClient{
		base: base,
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(accountSID+":"+authToken)),
		hc:   &http.Client{Transport: t, Timeout: 10 * time.Second},
	}
}

// floorChallenge decodes the same fields as verify.Challenge.
type floorChallenge struct {
	SID             string    `json:"sid"`
	AccountSID      string    `json:"account_sid"`
	ServiceSID      string    `json:"service_sid"`
	EntitySID       string    `json:"entity_sid"`
	Identity        string    `json:"identity"`
	FactorSID       string    `json:"factor_sid"`
	DateCreated     time.Time `json:"date_created"`
	DateUpdated     time.Time `json:"date_updated"`
	DateResponded   time.Time `json:"date_responded"`
	ExpirationDate  time.Time `json:"expiration_date"`
	Status          string    `json:"status"`
	RespondedReason string    `json:"responded_reason"`
	Details         struct {
		Message string       `json:"message"`
		Fields  []floorField `json:"fields"`
		Date    time.Time    `json:"date"`
	} `json:"details"`
	HiddenDetails map[string]string `json:"hidden_details"`
	Metadata      map[string]string `json:"metadata"`
	FactorType    string            `json:"factor_type"`
	URL           string            `json:"url"`
	Links         struct {
		Notifications string `json:"notifications"`
	} `json:"links"`
}

type floorField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

type floorPage struct {
	Challenges []floorChallenge `json:"challenges"`
	Meta       struct {
		NextPageURL string `json:"next_page_url"`
	} `json:"meta"`
}

// floorFactor decodes the same fields as verify.Factor.
type floorFactor struct {
	SID          string    `json:"sid"`
	AccountSID   string    `json:"account_sid"`
	ServiceSID   string    `json:"service_sid"`
	EntitySID    string    `json:"entity_sid"`
	Identity     string    `json:"identity"`
	DateCreated  time.Time `json:"date_created"`
	DateUpdated  time.Time `json:"date_updated"`
	FriendlyName string    `json:"friendly_name"`
	Status       string    `json:"status"`
	FactorType   string    `json:"factor_type"`
	Config       struct {
		Alg                  string `json:"alg"`
		Skew                 int    `json:"skew"`
		CodeLength           int    `json:"code_length"`
		TimeStep             int    `json:"time_step"`
		SDKVersion           string `json:"sdk_version"`
		AppID                string `json:"app_id"`
		NotificationPlatform string `json:"notification_platform"`
		NotificationToken    string `json:"notification_token"`
	} `json:"config"`
	Metadata map[string]string `json:"metadata"`
	URL      string            `json:"url"`
}

// floorNewFactor is a created factor with its binding, as verify.NewFactor.
type floorNewFactor struct {
	floorFactor
	Binding struct {
		Secret    string `json:"secret"`
		URI       string `json:"uri"`
		PublicKey string `json:"public_key"`
		Alg       string `json:"alg"`
	} `json:"binding"`
}

type floorFactorPage struct {
	Factors []floorFactor `json:"factors"`
	Meta    struct {
		NextPageURL string `json:"next_page_url"`
	} `json:"meta"`
}

// floorVerified holds the fields a verification and its check share.
type floorVerified struct {
	SID         string    `json:"sid"`
	ServiceSID  string    `json:"service_sid"`
	AccountSID  string    `json:"account_sid"`
	To          string    `json:"to"`
	Channel     string    `json:"channel"`
	Status      string    `json:"status"`
	Valid       bool      `json:"valid"`
	Amount      string    `json:"amount"`
	Payee       string    `json:"payee"`
	DateCreated time.Time `json:"date_created"`
	DateUpdated time.Time `json:"date_updated"`
}

// floorVerification decodes the same fields as verify.Verification.
type floorVerification struct {
	floorVerified
	Lookup struct {
		Carrier struct {
			Name              string `json:"name"`
			Type              string `json:"type"`
			MobileCountryCode string `json:"mobile_country_code"`
			MobileNetworkCode string `json:"mobile_network_code"`
			ErrorCode         int    `json:"error_code"`
		} `json:"carrier"`
	} `json:"lookup"`
	SendCodeAttempts []struct {
		Time       time.Time `json:"time"`
		Channel    string    `json:"channel"`
		AttemptSID string    `json:"attempt_sid"`
	} `json:"send_code_attempts"`
	SNA struct {
		URL string `json:"url"`
	} `json:"sna"`
	URL string `json:"url"`
}

// floorCheck decodes the same fields as verify.VerificationCheck.
type floorCheck struct {
	floorVerified
	SNAAttemptsErrorCodes []struct {
		AttemptSID string `json:"attempt_sid"`
		Code       int    `json:"code"`
	} `json:"sna_attempts_error_codes"`
}

// floorError is a non-2xx answer with Twilio's error JSON.
type floorError struct {
	Status   int    // from the status line
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
}

func (e *floorError) Error() string {
	return fmt.Sprintf("HTTP %d code %d: %s", e.Status, e.Code, e.Message)
}

func (f *floorClient) do(ctx context.Context, method, rawURL string, form url.Values, out any) error {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, rawURL, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, rawURL, nil)
	}
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", f.auth)
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		// Read to EOF before closing: a body closed early (the decoder stops
		// at the end of the JSON, before a chunked body's last chunk) costs
		// the connection.
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode > 299 {
		e := &floorError{Status: resp.StatusCode}
		_ = json.NewDecoder(resp.Body).Decode(e)
		return e
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (f *floorClient) create(ctx context.Context) (*floorChallenge, error) {
	form := url.Values{}
	form.Set("FactorSid", factorSID)
	form.Set("Details.Message", "Log in to Example Corp?")
	for _, fl := range []floorField{{"Location", "Lyon, FR"}, {"IP", "203.0.113.7"}} {
		b, _ := json.Marshal(fl)
		form.Add("Details.Fields", string(b))
	}
	hidden, _ := json.Marshal(map[string]string{"session": "web-42"})
	form.Set("HiddenDetails", string(hidden))
	var ch floorChallenge
	return &ch, f.do(ctx, http.MethodPost, f.base+listPath, form, &ch)
}

func (f *floorClient) fetch(ctx context.Context) (*floorChallenge, error) {
	var ch floorChallenge
	return &ch, f.do(ctx, http.MethodGet, f.base+listPath+"/"+sid, nil, &ch)
}

// fetchMissing fetches a challenge the server does not have.
func (f *floorClient) fetchMissing(ctx context.Context) (*floorChallenge, error) {
	var ch floorChallenge
	return &ch, f.do(ctx, http.MethodGet, f.base+listPath+"/"+missingSID, nil, &ch)
}

func (f *floorClient) update(ctx context.Context) (*floorChallenge, error) {
	var ch floorChallenge
	return &ch, f.do(ctx, http.MethodPost, f.base+listPath+"/"+sid, url.Values{"AuthPayload": {"123456"}}, &ch)
}

// list visits every challenge, following next_page_url, and returns the count.
func (f *floorClient) list(ctx context.Context) (int, error) {
	n := 0
	next := f.base + listPath + "?PageSize=100"
	for next != "" {
		var p floorPage
		if err := f.do(ctx, http.MethodGet, next, nil, &p); err != nil {
			return n, err
		}
		n += len(p.Challenges)
		if len(p.Challenges) == 0 {
			break
		}
		next = p.Meta.NextPageURL
	}
	return n, nil
}

// createFactor enrolls a TOTP factor with only its name; the API picks the rest.
func (f *floorClient) createFactor(ctx context.Context) (*floorNewFactor, error) {
	form := url.Values{"FriendlyName": {friendlyName}, "FactorType": {"totp"}}
	var nf floorNewFactor
	return &nf, f.do(ctx, http.MethodPost, f.base+factorPath, form, &nf)
}

// listFactors visits every factor, following next_page_url, and returns the count.
func (f *floorClient) listFactors(ctx context.Context) (int, error) {
	n := 0
	next := f.base + factorPath + "?PageSize=100"
	for next != "" {
		var p floorFactorPage
		if err := f.do(ctx, http.MethodGet, next, nil, &p); err != nil {
			return n, err
		}
		n += len(p.Factors)
		if len(p.Factors) == 0 {
			break
		}
		next = p.Meta.NextPageURL
	}
	return n, nil
}

// sendCode starts an SMS verification of the benchmark's phone.
func (f *floorClient) sendCode(ctx context.Context) (*floorVerification, error) {
	var v floorVerification
	return &v, f.do(ctx, http.MethodPost, f.base+verifyPath, url.Values{"To": {phone}, "Channel": {"sms"}}, &v)
}

// checkCode checks the code the phone received.
func (f *floorClient) checkCode(ctx context.Context) (*floorCheck, error) {
	var c floorCheck
	return &c, f.do(ctx, http.MethodPost, f.base+checkPath, url.Values{"To": {phone}, "Code": {smsCode}}, &c)
}

// floorPasskeyChallenge decodes the same fields as verify.PasskeyChallenge:
// the challenge, its options as sent (for the browser) and the members of
// its request options a server reads.
type floorPasskeyChallenge struct {
	floorChallenge
	Options json.RawMessage `json:"options"`
	Request struct {
		Challenge        string `json:"challenge"`
		RPID             string `json:"rpId"`
		AllowCredentials []struct {
			Type       string   `json:"type"`
			ID         string   `json:"id"`
			Transports []string `json:"transports"`
		} `json:"allowCredentials"`
		Timeout          float64 `json:"timeout"`
		UserVerification string  `json:"userVerification"`
	} `json:"-"`
}

// doJSON posts body as JSON, as do posts a form.
func (f *floorClient) doJSON(ctx context.Context, rawURL string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", f.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode > 299 {
		e := &floorError{Status: resp.StatusCode}
		_ = json.NewDecoder(resp.Body).Decode(e)
		return e
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// passkeyPost sends body to path and reads the challenge and its options.
func (f *floorClient) passkeyPost(ctx context.Context, path string, body []byte) (*floorPasskeyChallenge, error) {
	var ch floorPasskeyChallenge
	if err := f.doJSON(ctx, f.base+path, body, &ch); err != nil {
		return nil, err
	}
	var wrapped struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if json.Unmarshal(ch.Options, &wrapped) == nil && len(wrapped.PublicKey) > 0 {
		_ = json.Unmarshal(wrapped.PublicKey, &ch.Request)
	}
	return &ch, nil
}

// passkeyLogin creates a usernameless passkey challenge and approves it with
// the browser's assertion, returning who signed in.
func (f *floorClient) passkeyLogin(ctx context.Context) (string, error) {
	if _, err := f.passkeyPost(ctx, passkeyChallengePath, []byte(`{}`)); err != nil {
		return "", err
	}
	ch, err := f.passkeyPost(ctx, passkeyApprovePath, passkeyAssertion)
	if err != nil {
		return "", err
	}
	return ch.Identity, nil
}
