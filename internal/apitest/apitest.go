// Package apitest holds the HTTP test suites to the served OpenAPI document
// (server/openapi.json): every exchange a test makes through Fiber's App.Test
// or a real listener is checked with kin-openapi's openapi3filter, and a
// mismatch fails the test. The checks are:
//
//   - the response's status is documented for the operation, and its headers
//     and body match the documented response (a request to an undocumented
//     path or method must get the contract's 404 or 405 error);
//   - a request the document rejects (schema, parameters, missing bearer token)
//     never gets a 2xx or 3xx: the document may not be stricter than the server.
//
// The reverse (a request the document accepts getting a 400 or 422) is not an
// error: some rules (dates in order, references in scope) are not expressible
// in the schema.
package apitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gofiber/fiber/v2"
)

// Checker validates exchanges against one loaded document. It is safe for
// concurrent use.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
}

// DocumentPath is where the served document lives in the source tree.
func DocumentPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "server", "openapi.json")
}

// load reads and compiles the document once per test binary; the result is
// never modified afterwards.
var load = sync.OnceValues(func() (*Checker, error) {
	// The dashboard answers HTML; its documented schema is a plain string.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	// Exports answer Excel workbooks (documented as binary strings).
	openapi3filter.RegisterBodyDecoder("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", openapi3filter.FileBodyDecoder)
	b, err := os.ReadFile(DocumentPath())
	if err != nil {
		return nil, fmt.Errorf("read openapi document: %w", err)
	}
	return NewChecker(b)
})

// NewChecker compiles an OpenAPI document.
func NewChecker(doc []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := d.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi document invalid: %w", err)
	}
	// The document's server is relative ("/"); tests call random loopback ports.
	d.Servers = nil
	r, err := gorillamux.NewRouter(d)
	if err != nil {
		return nil, fmt.Errorf("route openapi document: %w", err)
	}
	return &Checker{doc: d, router: r}, nil
}

// Default is the checker of server/openapi.json.
func Default(t testing.TB) *Checker {
	t.Helper()
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bearerOnly accepts a request for the bearer scheme when it carries a bearer
// token at all; whether the token is good is the server's business (401).
func bearerOnly(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	// A key in a header of its own (the ERP routes' X-Api-Key): present at all.
	if s := in.SecurityScheme; s != nil && s.Type == "apiKey" && s.In == "header" {
		if in.RequestValidationInput.Request.Header.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
		return nil
	}
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		return fmt.Errorf("unsupported security scheme %q", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// Check validates one exchange. reqBody is the body the request carried
// (req.Body is not read); status, header and body are the response's.
func (c *Checker) Check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	if req.Method == http.MethodHead {
		return nil // Fiber answers HEAD for every GET; the document lists GETs
	}
	// Bodies are checked as the server and the client read them: decoded. A
	// request body that does not decode is checked as sent, so the document
	// rejects it and the server must not have accepted it.
	if rb, err := decoded(req.Header.Get("Content-Encoding"), reqBody); err == nil {
		reqBody = rb
	}
	var err error
	if enc := header.Get("Content-Encoding"); enc != "" && !strings.Contains(req.Header.Get("Accept-Encoding"), enc) {
		return fmt.Errorf("%s %s -> %d: answered with Content-Encoding %q the client did not accept", req.Method, req.URL.RequestURI(), status, enc)
	}
	if body, err = decoded(header.Get("Content-Encoding"), body); err != nil {
		return fmt.Errorf("%s %s -> %d: response body: %w", req.Method, req.URL.RequestURI(), status, err)
	}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	r.ContentLength = int64(len(reqBody))
	// Fiber's routing is not strict: /dashboard/ is /dashboard.
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		u := *r.URL
		u.Path = strings.TrimRight(p, "/")
		u.RawPath = ""
		r.URL = &u
	}
	route, pathParams, err := c.router.FindRoute(r)
	if err != nil {
		return checkUnrouted(err, r, status, header, body)
	}
	// The API reads every JSON body as JSON whatever its Content-Type says
	// (documented in the document's info); check it as what it is read as.
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil && len(rb.Value.Content) == 1 &&
		rb.Value.Content.Get("application/json") != nil && len(reqBody) > 0 {
		r.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{
		Request: r, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerOnly, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s -> %d: response does not match the document: %w\nbody: %s",
			req.Method, req.URL.RequestURI(), status, err, clip(body))
	}
	if reqErr != nil && status < 400 {
		return fmt.Errorf("%s %s -> %d: the server accepted a request the document rejects: %w\nrequest body: %s",
			req.Method, req.URL.RequestURI(), status, reqErr, clip(reqBody))
	}
	return nil
}

// checkUnrouted: outside the document only the contract's 404 and 405 exist.
func checkUnrouted(ferr error, r *http.Request, status int, header http.Header, body []byte) error {
	want := http.StatusNotFound
	if errors.Is(ferr, routers.ErrMethodNotAllowed) {
		want = http.StatusMethodNotAllowed
	}
	// Under /v1/admin/ and /v1/reports/ the token and the role are checked for
	// the whole prefix, before the route is looked up (documented in info).
	guarded := strings.HasPrefix(r.URL.Path, "/v1/admin/") || strings.HasPrefix(r.URL.Path, "/v1/reports/")
	if status != want && !(guarded && (status == http.StatusUnauthorized || status == http.StatusForbidden)) {
		return fmt.Errorf("%s %s -> %d: undocumented route (%v) must answer %d", r.Method, r.URL.RequestURI(), status, ferr, want)
	}
	if r.Method == http.MethodHead {
		return nil
	}
	var env struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if !strings.HasPrefix(header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &env) != nil ||
		env.Error == nil || env.Error.Code == "" {
		return fmt.Errorf("%s %s -> %d: not the contract's error body: %s", r.Method, r.URL.RequestURI(), status, clip(body))
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// Transport wraps base (http.DefaultTransport if nil) so every exchange
// through it is checked; a mismatch fails t. Use it for clients of a real
// listener.
func Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{t: t, c: Default(t), base: base}
}

type transport struct {
	t    testing.TB
	c    *Checker
	base http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("apitest: read request body: %w", err)
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := tr.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		// A cut connection is a network fault the tests may inject; pass it on.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if cerr := tr.c.Check(req, reqBody, resp.StatusCode, resp.Header, body); cerr != nil {
		tr.t.Errorf("openapi: %v", cerr)
	}
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Client is an http.Client whose every exchange is checked.
func Client(t testing.TB) *http.Client {
	return &http.Client{Transport: Transport(t, nil)}
}

// Fiber runs req through app.Test (no timeout) and checks the exchange; a
// mismatch fails t. It returns the response with its body read into b.
func Fiber(t testing.TB, app *fiber.App, req *http.Request) (resp *http.Response, b []byte) {
	t.Helper()
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		rb, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		reqBody = rb
		req.Body = io.NopCloser(bytes.NewReader(rb))
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err := Default(t).Check(req, reqBody, resp.StatusCode, resp.Header, b); err != nil {
		t.Errorf("openapi: %v", err)
	}
	return resp, b
}

// decoded undoes a body's Content-Encoding (gzip is the only one the API
// speaks in either direction).
func decoded(encoding string, b []byte) ([]byte, error) {
	switch encoding {
	case "", "identity":
		return b, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("not gzip: %w", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip: %w", err)
		}
		return out, nil
	}
	return b, nil // the server refuses other encodings (415); nothing to decode
}
