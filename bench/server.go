// Package bench compares verify-go with a hand-written net/http client (the
// floor) and twilio-go on identical work against a loopback server that
// runs in a separate process, so allocations are the clients' alone.
package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Fixed identifiers of the benchmark's world.
const (
	accountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	authToken  = "benchauthtoken0123456789abcdef01"
	serviceSID = "VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	identity   = "ff483d1ff591898a9942916050d2ca3f"
	factorSID  = "YF03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sid        = "YC03aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	missingSID = "YC0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" // a challenge the server answers 404 for
	listPath   = "/v2/Services/" + serviceSID + "/Entities/" + identity + "/Challenges"
	factorPath = "/v2/Services/" + serviceSID + "/Entities/" + identity + "/Factors"
	verifyPath = "/v2/Services/" + serviceSID + "/Verifications"
	checkPath  = "/v2/Services/" + serviceSID + "/VerificationCheck"

	passkeyChallengePath = "/v2/Services/" + serviceSID + "/Passkeys/Challenges"
	passkeyApprovePath   = "/v2/Services/" + serviceSID + "/Passkeys/ApproveChallenge"
	phone                = "+15017122661" // the number the SMS logins verify
	smsCode              = "804213"       // the code they check

	listTotal    = 1000 // challenges, and factors, behind each list endpoint
	listPageSize = 100

	friendlyName = "Ada's phone"                      // the TOTP factor's name, checked by the server
	totpSecret   = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // binding.secret of the spec's createTotp example
)

// passkeyAssertion is the browser's credential.toJSON() the passkey login
// approves with, and assertionSignature its signature.
var passkeyAssertion = func() []byte {
	b, err := os.ReadFile("../testdata/passkey_assertion.json")
	if err != nil {
		panic(err)
	}
	return bytes.TrimSpace(b)
}()

const assertionSignature = "U0VDUkVULVBBU1NLRVktU0lHTkFUVVJFLTAxMjM0NTY3ODktYWJjZGVmZ2hpamtsbW5vcC1ub3QtYS1yZWFsLWRlci1zaWduYXR1cmU"

// notFound is Twilio's answer for a challenge SID that does not exist.
var notFound = []byte(`{"code":20404,"message":"The requested resource ` + listPath + "/" + missingSID +
	` was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`)

// badFactor is the answer to a factor create without FactorType=totp and
// the expected FriendlyName, or a verification or check without the
// expected To, Channel or Code, so a contender that sends less fails.
var badFactor = []byte(`{"code":60200,"message":"Invalid parameter","more_info":"https://www.twilio.com/docs/errors/60200","status":400}`)

// serve runs the benchmark server: the API on one port, connection counts
// and the push role's counters (push.go) on another, until stdin closes.
// It prints both addresses first.
func serve(testdata string) error {
	read := func(name string) []byte {
		b, err := os.ReadFile(testdata + "/" + name)
		if err != nil {
			panic(err)
		}
		return bytes.TrimSpace(b)
	}
	created, fetched, updated := read("create_push.json"), read("fetch.json"), read("update_push.json")
	verificationSent, checked := read("verification.json"), read("verification_check.json")
	passkeyCreated, passkeyApproved := read("passkey_challenge_create.json"), read("passkey_challenge_approve.json")
	item := string(fetched)
	spec := read("verify_v2_enrollment.json")
	factorCreated, err := specExample(spec, factorPath, "post", "201", "createTotp")
	if err != nil {
		return err
	}
	factorList, err := specExample(spec, factorPath, "get", "200", "readFullTotp")
	if err != nil {
		return err
	}
	var listed struct{ Factors []json.RawMessage }
	if err := json.Unmarshal(factorList, &listed); err != nil || len(listed.Factors) == 0 {
		return fmt.Errorf("the spec's readFullTotp example has no factor: %v", err)
	}
	factorItem := string(listed.Factors[0])
	if !strings.Contains(factorItem, `"sid":"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`) {
		return fmt.Errorf("the spec's readFullTotp factor has another sid; the list would repeat one SID")
	}

	// creates are the POSTs answered 201 with body when their form holds
	// want, and 400 otherwise.
	creates := map[string]struct {
		want url.Values
		body []byte
	}{
		factorPath: {url.Values{"FactorType": {"totp"}, "FriendlyName": {friendlyName}}, factorCreated},
		verifyPath: {url.Values{"To": {phone}, "Channel": {"sms"}}, verificationSent},
		checkPath:  {url.Values{"To": {phone}, "Code": {smsCode}}, checked},
	}

	var conns atomic.Int64
	push := newPushRole()
	api := &http.Server{
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				conns.Add(1)
				raisePeak(openConns.Add(1))
			case http.StateClosed, http.StateHijacked:
				openConns.Add(-1)
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != accountSID || p != authToken {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if strings.HasPrefix(r.URL.Path, pushPrefix) {
				push.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			switch {
			case r.Method == http.MethodPost && r.URL.Path == listPath:
				_ = r.ParseForm()
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write(created)
			case r.Method == http.MethodGet && (r.URL.Path == listPath || r.URL.Path == factorPath):
				offset, _ := strconv.Atoi(r.URL.Query().Get("PageToken"))
				_, _ = w.Write(pages[r.Host+r.URL.Path+"|"+strconv.Itoa(offset)])
			case r.Method == http.MethodPost && creates[r.URL.Path].body != nil:
				create := creates[r.URL.Path]
				_ = r.ParseForm()
				for key := range create.want {
					if r.PostForm.Get(key) != create.want.Get(key) {
						w.WriteHeader(http.StatusBadRequest)
						_, _ = w.Write(badFactor)
						return
					}
				}
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write(create.body)
			case r.Method == http.MethodPost && (r.URL.Path == passkeyChallengePath || r.URL.Path == passkeyApprovePath):
				// A usernameless challenge ({}), then the assertion: JSON
				// bodies, the assertion's signature intact.
				var body struct {
					Response struct {
						Signature string `json:"signature"`
					} `json:"response"`
				}
				answer, status := passkeyCreated, http.StatusCreated
				if r.URL.Path == passkeyApprovePath {
					answer, status = passkeyApproved, http.StatusOK
				}
				if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil ||
					(r.URL.Path == passkeyApprovePath) != (body.Response.Signature == assertionSignature) {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write(badFactor)
					return
				}
				w.WriteHeader(status)
				_, _ = w.Write(answer)
			case r.Method == http.MethodGet && r.URL.Path == listPath+"/"+missingSID:
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write(notFound)
			case r.Method == http.MethodGet:
				_, _ = w.Write(fetched)
			default:
				_ = r.ParseForm()
				_, _ = w.Write(updated)
			}
		}),
	}
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	admin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/push" {
			push.admin(w, r)
			return
		}
		if r.Method == http.MethodPost {
			conns.Store(0)
		}
		fmt.Fprint(w, conns.Load())
	})}
	for _, host := range []string{apiLn.Addr().String(), "verify.twilio.com"} {
		for offset := 0; offset < listTotal; offset += listPageSize {
			pages[host+listPath+"|"+strconv.Itoa(offset)] = renderPage(host, listPath, "challenges", offset,
				func(i int) string {
					return strings.Replace(item, `"sid": "YCaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`, fmt.Sprintf(`"sid": "YC%032x"`, i), 1)
				})
			pages[host+factorPath+"|"+strconv.Itoa(offset)] = renderPage(host, factorPath, "factors", offset,
				func(i int) string {
					return strings.Replace(factorItem, `"sid":"YFaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`, fmt.Sprintf(`"sid":"YF%032x"`, i), 1)
				})
		}
	}
	go func() { _ = api.Serve(apiLn) }()
	go func() { _ = admin.Serve(adminLn) }()
	fmt.Printf("%s %s\n", apiLn.Addr(), adminLn.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	return nil
}

// openConns and peakConns count the API's open connections, and the most
// open at once since the push role's last reset.
var openConns, peakConns atomic.Int64

// raisePeak makes peakConns at least open.
func raisePeak(open int64) {
	for peak := peakConns.Load(); open > peak && !peakConns.CompareAndSwap(peak, open); peak = peakConns.Load() {
	}
}

// pages holds every list page, by host, path and offset, rendered before serving.
var pages = map[string][]byte{}

// renderPage builds the page at offset of the list at path, whose items are
// under key; item(i) is the i-th item. next_page_url is absolute on host.
func renderPage(host, path, key string, offset int, item func(int) string) []byte {
	scheme := "http"
	if host == "verify.twilio.com" {
		scheme = "https" // twilio-go's requests keep their original host
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"%s":[`, key)
	for i := offset; i < offset+listPageSize && i < listTotal; i++ {
		if i > offset {
			b.WriteByte(',')
		}
		b.WriteString(item(i))
	}
	next := "null"
	if offset+listPageSize < listTotal {
		next = fmt.Sprintf(`"%s://%s%s?PageSize=%d&PageToken=%d"`, scheme, host, path, listPageSize, offset+listPageSize)
	}
	fmt.Fprintf(&b, `],"meta":{"page":%d,"page_size":%d,"first_page_url":"%s://%s%s?PageSize=%d","previous_page_url":null,"url":"%s://%s%s","next_page_url":%s,"key":"%s"}}`,
		offset/listPageSize, listPageSize, scheme, host, path, listPageSize, scheme, host, path, next, key)
	return []byte(b.String())
}

// specExample is the named example of the response to method on path in
// an OpenAPI file, compacted but otherwise byte for byte as the spec has it.
func specExample(spec []byte, path, method, status, name string) ([]byte, error) {
	type media struct {
		Examples map[string]struct {
			Value json.RawMessage `json:"value"`
		} `json:"examples"`
	}
	type operation struct {
		Responses map[string]struct {
			Content map[string]media `json:"content"`
		} `json:"responses"`
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, err
	}
	specPath := strings.NewReplacer(serviceSID, "{ServiceSid}", identity, "{Identity}").Replace(path)
	var op operation
	if raw, ok := doc.Paths[specPath][method]; !ok || json.Unmarshal(raw, &op) != nil {
		return nil, fmt.Errorf("spec: no %s %s", method, specPath)
	}
	value := op.Responses[status].Content["application/json"].Examples[name].Value
	if len(value) == 0 {
		return nil, fmt.Errorf("spec: no example %q of %s %s %s", name, method, specPath, status)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, value); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
