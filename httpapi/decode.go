package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
)

// DecodeJSON decodes the request body into v strictly: one JSON value, no unknown
// fields, types as declared. Every failure is a 400 bad_request naming the field
// where it can, except text no database can store (a NUL character, invalid
// UTF-8), which is a 422 validation_failed naming each such field. Decoding
// copies, so v never aliases Fiber's reused buffers. The body is read by
// ReadBody, within the route's limit.
func DecodeJSON(c *fiber.Ctx, v any) error {
	body, err := ReadBody(c)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// DecodeBytes decodes one JSON value as DecodeJSON does, for a part of a body
// (one item of a batch) that is judged on its own.
func DecodeBytes(body []byte, v any) error { return decodeBytes(body, v) }

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Errorf(domain.CodeBadRequest, "request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Errorf(domain.CodeBadRequest, "request body must hold a single JSON value")
	}
	// encoding/json accepts \u0000 and turns invalid UTF-8 into U+FFFD without a
	// word; Postgres refuses the first and the second corrupts what was sent.
	// json.RawMessage parts are left to their consumer (a push rejects the one
	// mutation whose row holds bad text, not the whole batch).
	if fs := domain.TextErrors(body, reflect.TypeOf(v)); len(fs) > 0 {
		return domain.Invalid(fs...)
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		invalidTo *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Errorf(domain.CodeBadRequest, "malformed JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return badFields(domain.FieldError{Field: field, Message: "must be " + typeName(typ.Type)})
	case errors.As(err, &invalidTo):
		return fmt.Errorf("decode JSON: %w", err) // a bug in the caller, not bad input
	}
	// encoding/json has no typed error for unknown fields; its message is stable.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badFields(domain.FieldError{Field: strings.Trim(name, `"`), Message: "unknown field"})
	}
	// What is left comes from a field's own UnmarshalJSON (times, enums): the
	// value is well-formed JSON but not a valid value of its type.
	return domain.Errorf(domain.CodeBadRequest, "invalid value in JSON body")
}

func badFields(fs ...domain.FieldError) *domain.Error {
	return &domain.Error{Code: domain.CodeBadRequest, Message: "malformed JSON body", Fields: fs}
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + t.Kind().String()
}
