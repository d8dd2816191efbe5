package domain

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code. The HTTP layer maps each code to a status
// in exactly one table; everything below it only ever says what went wrong.
type Code string

const (
	CodeBadRequest        Code = "bad_request"        // malformed JSON or parameters
	CodeUnauthorized      Code = "unauthorized"       // missing, invalid, expired or revoked token
	CodeForbidden         Code = "forbidden"          // authenticated but not allowed
	CodeNotFound          Code = "not_found"          // unknown row, or a row outside the caller's scope
	CodeVersionConflict   Code = "version_conflict"   // stale expected_version on an online write
	CodeAlreadyResolved   Code = "already_resolved"   // a conflict resolved twice
	CodeConflict          Code = "conflict"           // uniqueness clash (email, sku, ...)
	CodeTooLarge          Code = "too_large"          // body or batch over the limit
	CodeValidation        Code = "validation_failed"  // well-formed but invalid
	CodeIllegalTransition Code = "illegal_transition" // state machine refuses the move
	CodeRateLimited       Code = "rate_limited"       // too many attempts
	CodeUnknownTable      Code = "unknown_table"      // push: table is not synced
	CodeUnknownOp         Code = "unknown_op"         // push: op is neither upsert nor delete
	CodeMethodNotAllowed  Code = "method_not_allowed" // route exists, method does not
	CodeUnavailable       Code = "unavailable"        // dependency down (readyz)
	CodeInternal          Code = "internal"           // a bug or an outage; never bad input
)

// CodeUnsupportedMediaType: a Content-Encoding the server cannot decode (415).
const CodeUnsupportedMediaType Code = "unsupported_media_type"

// FieldError names one invalid field by its JSON path, e.g. "lines[0].quantity".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type that crosses package boundaries with a safe message.
// Anything else reaching the HTTP layer is treated as internal and never shown.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds a validation error from field errors.
func Invalid(fields ...FieldError) *Error {
	return &Error{Code: CodeValidation, Message: "validation failed", Fields: fields}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, else CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns the *Error inside err, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
