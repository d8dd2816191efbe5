package httpapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

func newApp(t *testing.T) *fiber.App {
	t.Helper()
	return fiber.New(fiber.Config{ErrorHandler: httpapi.ErrorHandler(slog.New(slog.DiscardHandler))})
}

func call(t *testing.T, app *fiber.App, method, path, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// errorBody decodes the contract's error envelope strictly and checks it leaks
// nothing internal.
func errorBody(t *testing.T, b []byte) wire.ErrorDetail {
	t.Helper()
	var env wire.ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
		t.Fatalf("not a contract error body (%v): %s", err, b)
	}
	for _, leak := range []string{"goroutine", ".go:", "/work/", "SELECT", "sql", "secret"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("error body leaks %q: %s", leak, b)
		}
	}
	return env.Error
}

func TestErrorHandler_Mapping(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   domain.Code
	}{
		{"BadRequest", domain.Errorf(domain.CodeBadRequest, "x"), 400, domain.CodeBadRequest},
		{"Unauthorized", domain.Errorf(domain.CodeUnauthorized, "x"), 401, domain.CodeUnauthorized},
		{"Forbidden", domain.Errorf(domain.CodeForbidden, "x"), 403, domain.CodeForbidden},
		{"NotFound", domain.Errorf(domain.CodeNotFound, "x"), 404, domain.CodeNotFound},
		{"MethodNotAllowed", domain.Errorf(domain.CodeMethodNotAllowed, "x"), 405, domain.CodeMethodNotAllowed},
		{"VersionConflict", domain.Errorf(domain.CodeVersionConflict, "x"), 409, domain.CodeVersionConflict},
		{"AlreadyResolved", domain.Errorf(domain.CodeAlreadyResolved, "x"), 409, domain.CodeAlreadyResolved},
		{"Conflict", domain.Errorf(domain.CodeConflict, "x"), 409, domain.CodeConflict},
		{"TooLarge", domain.Errorf(domain.CodeTooLarge, "x"), 413, domain.CodeTooLarge},
		{"Validation", domain.Invalid(domain.FieldError{Field: "a", Message: "b"}), 422, domain.CodeValidation},
		{"IllegalTransition", domain.Errorf(domain.CodeIllegalTransition, "x"), 422, domain.CodeIllegalTransition},
		{"UnknownTable", domain.Errorf(domain.CodeUnknownTable, "x"), 422, domain.CodeUnknownTable},
		{"UnknownOp", domain.Errorf(domain.CodeUnknownOp, "x"), 422, domain.CodeUnknownOp},
		{"RateLimited", domain.Errorf(domain.CodeRateLimited, "x"), 429, domain.CodeRateLimited},
		{"Unavailable", domain.Errorf(domain.CodeUnavailable, "x"), 503, domain.CodeUnavailable},
		{"Internal", domain.Errorf(domain.CodeInternal, "secret detail"), 500, domain.CodeInternal},
		{"UnknownCode", domain.Errorf("no_such_code", "secret detail"), 500, domain.CodeInternal},
		{"WrappedDomain", fmt.Errorf("ctx: %w", domain.Errorf(domain.CodeNotFound, "x")), 404, domain.CodeNotFound},
		{"Plain", errors.New("secret: SELECT * FROM users at /work/main/x.go:12"), 500, domain.CodeInternal},
		{"FiberNotFound", fiber.ErrNotFound, 404, domain.CodeNotFound},
		{"FiberTooLarge", fiber.ErrRequestEntityTooLarge, 413, domain.CodeTooLarge},
		{"FiberBadRequest", fiber.NewError(400, "secret parser detail"), 400, domain.CodeBadRequest},
		{"FiberTeapot", fiber.ErrTeapot, 418, domain.CodeBadRequest},
		{"FiberInternal", fiber.NewError(500, "secret"), 500, domain.CodeInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t)
			app.Get("/x", func(*fiber.Ctx) error { return tc.err })
			resp, b := call(t, app, "GET", "/x", "")
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.status, b)
			}
			if e := errorBody(t, b); e.Code != string(tc.code) {
				t.Errorf("code = %s, want %s", e.Code, tc.code)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestErrorHandler_RetryAfter(t *testing.T) {
	app := newApp(t)
	app.Get("/x", func(*fiber.Ctx) error {
		return &auth.RateLimitedError{Err: domain.Errorf(domain.CodeRateLimited, "slow down"), After: 2500 * time.Millisecond}
	})
	resp, b := call(t, app, "GET", "/x", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("status %d Retry-After %q, want 429 and 3 (rounded up)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if e := errorBody(t, b); e.Message != "slow down" {
		t.Errorf("message = %q", e.Message)
	}
}

func TestErrorHandler_ValidationFields(t *testing.T) {
	app := newApp(t)
	app.Get("/x", func(*fiber.Ctx) error {
		return domain.Invalid(domain.FieldError{Field: "lines[0].quantity", Message: "must be at least 1"})
	})
	_, b := call(t, app, "GET", "/x", "")
	e := errorBody(t, b)
	if len(e.Fields) != 1 || e.Fields[0].Field != "lines[0].quantity" {
		t.Errorf("fields = %+v", e.Fields)
	}
	app.Get("/y", func(*fiber.Ctx) error { return domain.Errorf(domain.CodeNotFound, "x") })
	if _, b := call(t, app, "GET", "/y", ""); strings.Contains(string(b), "fields") {
		t.Errorf("fields present on a non-validation error: %s", b)
	}
}

type order struct {
	Name  string `json:"name"`
	Lines []struct {
		Quantity int64 `json:"quantity"`
	} `json:"lines"`
	At *time.Time `json:"at"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name, body, field, message string
		status                     int
	}{
		{name: "Valid", body: `{"name":"a","lines":[{"quantity":2}]}`, status: 200},
		{name: "Empty", body: ``, status: 400},
		{name: "Whitespace", body: " \n", status: 400},
		{name: "Malformed", body: `{"name":`, status: 400},
		{name: "Syntax", body: `{"name" "a"}`, status: 400},
		{name: "UnknownField", body: `{"name":"a","nmae":"b"}`, status: 400, field: "nmae", message: "unknown field"},
		{name: "WrongType", body: `{"name":1}`, status: 400, field: "name", message: "must be a string"},
		{name: "WrongNestedType", body: `{"lines":[{"quantity":"2"}]}`, status: 400, field: "lines.quantity", message: "must be an integer"},
		{name: "NotAnObject", body: `[1]`, status: 400, message: "must be an object"},
		{name: "TwoValues", body: `{"name":"a"}{"name":"b"}`, status: 400},
		{name: "TrailingGarbage", body: `{"name":"a"} x`, status: 400},
		{name: "BadTime", body: `{"at":"yesterday"}`, status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t)
			app.Post("/x", func(c *fiber.Ctx) error {
				var o order
				if err := httpapi.DecodeJSON(c, &o); err != nil {
					return err
				}
				return c.JSON(o)
			})
			resp, b := call(t, app, "POST", "/x", tc.body, "Content-Type", "application/json")
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.status == 200 {
				return
			}
			e := errorBody(t, b)
			if e.Code != string(domain.CodeBadRequest) {
				t.Errorf("code = %s", e.Code)
			}
			if tc.message != "" && (len(e.Fields) != 1 || e.Fields[0].Message != tc.message ||
				(tc.field != "" && e.Fields[0].Field != tc.field)) {
				t.Errorf("fields = %+v, want %s: %s", e.Fields, tc.field, tc.message)
			}
		})
	}
}

func TestQueryLimit(t *testing.T) {
	app := newApp(t)
	app.Get("/x", func(c *fiber.Ctx) error {
		n, err := httpapi.QueryLimit(c, 500, 5000)
		if err != nil {
			return err
		}
		return c.SendString(fmt.Sprint(n))
	})
	for q, want := range map[string]string{"": "500", "?limit=7": "7", "?limit=9999": "5000"} {
		if resp, b := call(t, app, "GET", "/x"+q, ""); resp.StatusCode != 200 || string(b) != want {
			t.Errorf("%q: %d %s, want %s", q, resp.StatusCode, b, want)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=-1", "?limit=abc", "?limit=1.5"} {
		resp, b := call(t, app, "GET", "/x"+q, "")
		if resp.StatusCode != 400 || errorBody(t, b).Fields[0].Field != "limit" {
			t.Errorf("%q: %d %s, want 400 on limit", q, resp.StatusCode, b)
		}
	}
}

func TestParamUUID(t *testing.T) {
	app := newApp(t)
	app.Get("/x/:id", func(c *fiber.Ctx) error {
		id, err := httpapi.ParamUUID(c, "id")
		if err != nil {
			return err
		}
		return c.SendString(id)
	})
	resp, b := call(t, app, "GET", "/x/6F9619FF-8B86-D011-B42D-00C04FC964FF", "")
	if resp.StatusCode != 200 || string(b) != "6f9619ff-8b86-d011-b42d-00c04fc964ff" {
		t.Errorf("valid id: %d %s", resp.StatusCode, b)
	}
	for _, bad := range []string{"1", "not-a-uuid", "6f9619ff8b86d011b42d00c04fc964ff", "%7B6f9619ff-8b86-d011-b42d-00c04fc964ff%7D"} {
		resp, b := call(t, app, "GET", "/x/"+bad, "")
		if resp.StatusCode != 404 || errorBody(t, b).Code != "not_found" {
			t.Errorf("%q: %d %s, want 404", bad, resp.StatusCode, b)
		}
	}
}

func TestRequireAction(t *testing.T) {
	app := newApp(t)
	as := func(role domain.Role) fiber.Handler {
		return func(c *fiber.Ctx) error {
			if role != "" {
				httpapi.SetPrincipal(c, auth.Principal{Caller: domain.Caller{UserID: "u", Role: role}, Kind: auth.KindDevice})
			}
			return c.Next()
		}
	}
	ok := func(c *fiber.Ctx) error { return c.SendString(httpapi.PrincipalOf(c).UserID) }
	gate := httpapi.RequireAction(domain.ActAdmin)
	app.Get("/ops", as(domain.RoleOps), gate, ok)
	app.Get("/manager", as(domain.RoleManager), gate, ok)
	app.Get("/anon", as(""), gate, ok)
	for path, want := range map[string]int{"/ops": 200, "/manager": 403, "/anon": 401} {
		resp, b := call(t, app, "GET", path, "")
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, b, want)
		}
		if want != 200 {
			errorBody(t, b)
		}
	}
}
