package httpapi

import (
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// QueryLimit reads the `limit` query parameter: def when absent, capped at max;
// anything but a positive integer is a 400.
func QueryLimit(c *fiber.Ctx, def, max int) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, &domain.Error{Code: domain.CodeBadRequest, Message: "invalid query parameter",
			Fields: []domain.FieldError{{Field: "limit", Message: "must be a positive integer"}}}
	}
	return min(n, max), nil
}

// Query returns the query parameter name as an owned copy (Fiber reuses its
// buffers after the handler), "" when absent. Text no database can store (a
// NUL character, invalid UTF-8) is a 400 naming the parameter: Postgres would
// refuse it in a query where SQLite would not.
func Query(c *fiber.Ctx, name string) (string, error) {
	v := c.Query(name)
	if msg := domain.ValidText(v); msg != "" {
		return "", BadParam(name, msg)
	}
	return strings.Clone(v), nil
}

// Queries reads several query parameters as Query does, in the order named.
func Queries(c *fiber.Ctx, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v, err := Query(c, n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// BadParam is the 400 answer for a malformed query or path parameter.
func BadParam(name, msg string) *domain.Error {
	return &domain.Error{Code: domain.CodeBadRequest, Message: "invalid parameter",
		Fields: []domain.FieldError{{Field: name, Message: msg}}}
}

// ParamUUID returns the path parameter name as a canonical lower-case UUID. A
// malformed id is answered like an unknown one (404), which leaks nothing.
func ParamUUID(c *fiber.Ctx, name string) (string, error) {
	id, ok := CanonicalUUID(c.Params(name))
	if !ok {
		return "", domain.Errorf(domain.CodeNotFound, "not found")
	}
	return id, nil
}

// CanonicalUUID reports whether s is a UUID in its 36-character form and returns
// it lower-cased (a fresh string, safe to keep past the handler).
func CanonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
