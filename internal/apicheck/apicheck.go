package apicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/engram-go/engram/frontend/httpapi/openapi"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// ErrMismatch marks an exchange that does not match the OpenAPI document.
var ErrMismatch = errors.New("apicheck: exchange does not match docs/openapi (frontend/httpapi/openapi/openapi.json)")

// Validator checks exchanges against the document.
type Validator struct {
	doc    *openapi3.T
	router routers.Router

	mu       sync.Mutex
	failures []string
}

// New loads and validates the embedded document.
func New() (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document())
	if err != nil {
		return nil, fmt.Errorf("apicheck: load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apicheck: the OpenAPI document is invalid: %w", err)
	}
	// Servers are matched by path only, whatever host a test listens on.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("apicheck: route the OpenAPI document: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Document is the loaded document.
func (v *Validator) Document() *openapi3.T { return v.doc }

// Check validates one exchange. reqBody and respBody are the bodies as sent and received;
// respBody nil means the body was streamed and is checked by content type only.
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	err := v.check(req, reqBody, resp, respBody)
	if err != nil {
		err = fmt.Errorf("%w: %s %s → %d: %v", ErrMismatch, req.Method, req.URL.RequestURI(), resp.StatusCode, err)
		v.mu.Lock()
		v.failures = append(v.failures, err.Error())
		v.mu.Unlock()
	}
	return err
}

func (v *Validator) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	ctx := context.Background()
	if resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout {
		return nil // an intermediary's answer (tests put proxies in front); Engram never sends these
	}
	// The server answers HEAD like GET without a body; the document lists GET.
	r := req.Clone(ctx)
	if r.Method == http.MethodHead {
		r.Method = http.MethodGet
	}
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	// The server ignores a trailing slash and reads any JSON label (text/json, …+json, or
	// none) as JSON; the document spells each once.
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimSuffix(p, "/")
	}
	if len(reqBody) > 0 && jsonLabel(r.Header.Get("Content-Type")) {
		if json.Valid(reqBody) {
			r.Header.Set("Content-Type", "application/json")
		} else {
			r.Header.Set("Content-Type", "application/x-ndjson") // the batch route's NDJSON
		}
	}
	route, pathParams, err := v.router.FindRoute(r)
	if err != nil {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil // an unknown route or method, answered as such
		}
		return fmt.Errorf("the server answered a route the document lacks: %v", err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		MultiError:         true,
	}
	qopts := *opts
	if !isJSON(r.Header.Get("Content-Type")) {
		qopts.ExcludeRequestBody = true // NDJSON: a string to the document, checked by the server line by line
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route, Options: &qopts}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the server accepted a request the document calls invalid: %v", err)
		}
	}
	ropts := *opts
	ropts.ExcludeRequestBody = false
	streamed := respBody == nil
	if streamed || !isJSON(resp.Header.Get("Content-Type")) {
		ropts.ExcludeResponseBody = true
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &ropts,
	}
	if !ropts.ExcludeResponseBody {
		out.SetBodyBytes(respBody)
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("answer: %v", err)
	}
	if ropts.ExcludeResponseBody {
		return v.checkMediaType(route, resp)
	}
	return nil
}

// checkMediaType checks a body that is not validated as JSON: its content type must be
// one the document lists for that status.
func (v *Validator) checkMediaType(route *routers.Route, resp *http.Response) error {
	r := route.Operation.Responses.Status(resp.StatusCode)
	if r == nil {
		r = route.Operation.Responses.Default()
	}
	if r == nil || r.Value == nil || len(r.Value.Content) == 0 {
		return nil
	}
	got, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("answer: content type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	if r.Value.Content.Get(got) == nil {
		return fmt.Errorf("answer: content type %q is not among the document's %v", got, keys(r.Value.Content))
	}
	return nil
}

func keys(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// jsonLabel reports a request content type the server reads as JSON.
func jsonLabel(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return ct == "" || (err == nil && (mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/x-www-form-urlencoded"))
}

// Failures returns every mismatch found so far.
func (v *Validator) Failures() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.failures...)
}

// Transport returns a RoundTripper that sends through next (http.DefaultTransport when
// nil) and checks each exchange. A JSON answer is read whole and handed on as read;
// a streamed answer (SSE, NDJSON) is checked by status, headers and content type and
// handed on unread.
func (v *Validator) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{v: v, next: next}
}

type transport struct {
	v    *Validator
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("apicheck: read request body: %w", err)
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	var respBody []byte
	if isJSON(resp.Header.Get("Content-Type")) && req.Method != http.MethodHead {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("apicheck: read answer of %s %s: %w", req.Method, req.URL.Path, err)
		}
		respBody = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	if err := t.v.Check(req, reqBody, resp, respBody); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}
