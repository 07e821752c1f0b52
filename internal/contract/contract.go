// Package contract checks requests and responses against the Verify OpenAPI
// spec, so that tests fail when the SDK or the fake leaves the contract.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Spec is a loaded contract whose routes match any host, so it serves
// requests to the real API, to httpmock and to a loopback fake alike. It
// may join several OpenAPI files (challenges, enrollment): a request is
// checked against the first whose routes match it.
type Spec struct {
	routers []routers.Router
}

var (
	cacheMu sync.Mutex
	cache   = map[string]routers.Router{}
)

// Load reads the OpenAPI files at paths (each once per process) into one contract.
func Load(paths ...string) (*Spec, error) {
	s := &Spec{}
	for _, path := range paths {
		r, err := loadRouter(path)
		if err != nil {
			return nil, err
		}
		s.routers = append(s.routers, r)
	}
	return s, nil
}

// findRoute matches req against each file in turn.
func (s *Spec) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	var firstErr error
	for _, r := range s.routers {
		route, params, err := r.FindRoute(req)
		if err == nil {
			return route, params, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no OpenAPI file loaded")
	}
	return nil, nil, firstErr
}

func loadRouter(path string) (routers.Router, error) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if r, ok := cache[path]; ok {
		return r, nil
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract: loading %s: %w", path, err)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
		for _, op := range item.Operations() {
			typeJSONFormFields(op)
		}
	}
	// The spec's examples are documentation, not the contract, and some of
	// the Passkeys ones break their own schema (a 33-character service_sid,
	// "" for SIDs); requests and responses are still checked in full.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("contract: %s is not a valid OpenAPI document: %w", path, err)
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	cache[path] = r
	return r, nil
}

// jsonFormFields are form fields whose values are stringified JSON. The spec
// leaves them untyped (or an array of untyped items), which kin-openapi
// cannot decode from a form, so they are typed as the strings they are on
// the wire; CheckRequest then checks the JSON inside them.
var jsonFormFields = map[string]bool{"Details.Fields": true, "HiddenDetails": true, "Metadata": true,
	"RateLimits": true, "ChannelConfiguration": true}

// jsonStringMaps are the form fields that hold one JSON object of strings;
// jsonObjects those that hold one JSON object of any values.
var (
	jsonStringMaps = []string{"HiddenDetails", "Metadata", "RateLimits", "TemplateCustomSubstitutions", "Tags"}
	jsonObjects    = []string{"ChannelConfiguration"}
)

func typeJSONFormFields(op *openapi3.Operation) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return
	}
	media := op.RequestBody.Value.Content.Get("application/x-www-form-urlencoded")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return
	}
	for name, prop := range media.Schema.Value.Properties {
		if !jsonFormFields[name] || prop.Value == nil {
			continue
		}
		str := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
		if prop.Value.Type.Is(openapi3.TypeArray) {
			prop.Value.Items = openapi3.NewSchemaRef("", str)
		} else {
			prop.Value.Type = str.Type
		}
	}
}

// checkJSONForm checks the JSON inside the stringified form fields: each
// Details.Fields value one {"label","value"} object, each map one object of
// strings (ChannelConfiguration one object), none encoded twice.
func checkJSONForm(form url.Values) error {
	for _, v := range form["Details.Fields"] {
		var f map[string]any
		if err := json.Unmarshal([]byte(v), &f); err != nil {
			return fmt.Errorf("Details.Fields value %q is not a JSON object: %w", v, err)
		}
		if _, ok := f["label"].(string); !ok || len(f) != 2 {
			return fmt.Errorf("Details.Fields value %q must be {\"label\":…,\"value\":…}", v)
		}
		if _, ok := f["value"].(string); !ok {
			return fmt.Errorf("Details.Fields value %q must be {\"label\":…,\"value\":…}", v)
		}
	}
	for _, key := range jsonStringMaps {
		if err := checkJSONObject[map[string]string](form, key); err != nil {
			return err
		}
	}
	for _, key := range jsonObjects {
		if err := checkJSONObject[map[string]any](form, key); err != nil {
			return err
		}
	}
	return nil
}

// checkJSONObject requires key, when sent, to be sent once and to hold one
// JSON object that decodes into an M.
func checkJSONObject[M any](form url.Values, key string) error {
	vals := form[key]
	if len(vals) > 1 {
		return fmt.Errorf("%s sent %d times, want one JSON object", key, len(vals))
	}
	for _, v := range vals {
		var m M
		if err := json.Unmarshal([]byte(v), &m); err != nil || v == "null" {
			return fmt.Errorf("%s value %q is not one JSON object of the right values: %v", key, v, err)
		}
	}
	return nil
}

func options() *openapi3filter.Options {
	return &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
}

// CheckRequest validates method, path, query and body (a form, or JSON
// for the Passkeys endpoints) against the spec. The body is read and put
// back, so the request can still be sent.
func (s *Spec) CheckRequest(req *http.Request) error {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	clone := req.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := s.findRoute(clone)
	if err != nil {
		return fmt.Errorf("contract: %s %s: no such operation: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: options()}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("contract: %s %s violates the spec: %w", req.Method, req.URL.Path, err)
	}
	if req.Method == http.MethodPost && mediaType(req) == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return fmt.Errorf("contract: %s %s: body is not a form: %w", req.Method, req.URL.Path, err)
		}
		if err := checkJSONForm(form); err != nil {
			return fmt.Errorf("contract: %s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	return nil
}

// CheckResponse validates a response status, content type and JSON body
// against the operation the request names.
func (s *Spec) CheckResponse(req *http.Request, status int, header http.Header, body []byte) error {
	clone := req.Clone(context.Background())
	clone.Body = http.NoBody
	route, params, err := s.findRoute(clone)
	if err != nil {
		return fmt.Errorf("contract: %s %s: no such operation: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: clone, PathParams: params, Route: route, Options: &openapi3filter.Options{ExcludeRequestBody: true},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: options(),
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("contract: response %d to %s %s violates the spec: %w", status, req.Method, req.URL.Path, err)
	}
	return nil
}

// mediaType is the request's Content-Type without its parameters.
func mediaType(req *http.Request) string {
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	return mt
}
