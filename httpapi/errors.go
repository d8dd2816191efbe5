// Package httpapi is the HTTP plumbing shared by the device API and the back
// office: the one error handler that renders the contract's error body, strict
// JSON decoding, bearer authentication and small request helpers.
package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[domain.Code]int{
	domain.CodeBadRequest:        http.StatusBadRequest,
	domain.CodeUnauthorized:      http.StatusUnauthorized,
	domain.CodeForbidden:         http.StatusForbidden,
	domain.CodeNotFound:          http.StatusNotFound,
	domain.CodeMethodNotAllowed:  http.StatusMethodNotAllowed,
	domain.CodeVersionConflict:   http.StatusConflict,
	domain.CodeAlreadyResolved:   http.StatusConflict,
	domain.CodeConflict:          http.StatusConflict,
	domain.CodeTooLarge:          http.StatusRequestEntityTooLarge,
	domain.CodeValidation:        http.StatusUnprocessableEntity,
	domain.CodeIllegalTransition: http.StatusUnprocessableEntity,
	domain.CodeUnknownTable:      http.StatusUnprocessableEntity,
	domain.CodeUnknownOp:         http.StatusUnprocessableEntity,
	domain.CodeRateLimited:       http.StatusTooManyRequests,
	domain.CodeUnavailable:       http.StatusServiceUnavailable,
	domain.CodeInternal:          http.StatusInternalServerError,

	domain.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	domain.CodeRangeNotSatisfiable:  http.StatusRequestedRangeNotSatisfiable,
}

// Status returns the HTTP status of a code; unknown codes are internal errors.
func Status(code domain.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// fiberCodes names the errors Fiber itself raises (no route, wrong method, body
// over the limit, ...). Their messages are replaced: Fiber's echo the path.
var fiberCodes = map[int]*domain.Error{
	http.StatusBadRequest:                  domain.Errorf(domain.CodeBadRequest, "malformed request"),
	http.StatusUnauthorized:                domain.Errorf(domain.CodeUnauthorized, "authentication required"),
	http.StatusForbidden:                   domain.Errorf(domain.CodeForbidden, "forbidden"),
	http.StatusNotFound:                    domain.Errorf(domain.CodeNotFound, "route not found"),
	http.StatusMethodNotAllowed:            domain.Errorf(domain.CodeMethodNotAllowed, "method not allowed"),
	http.StatusRequestEntityTooLarge:       domain.Errorf(domain.CodeTooLarge, "request body too large"),
	http.StatusRequestHeaderFieldsTooLarge: domain.Errorf(domain.CodeTooLarge, "request headers too large"),
	http.StatusUnprocessableEntity:         domain.Errorf(domain.CodeValidation, "invalid request"),
	http.StatusTooManyRequests:             domain.Errorf(domain.CodeRateLimited, "too many requests"),
	http.StatusServiceUnavailable:          domain.Errorf(domain.CodeUnavailable, "service unavailable"),
}

var errInternal = domain.Errorf(domain.CodeInternal, "internal error")

// classify turns any error into the status and body a client may see.
func classify(err error) (int, *domain.Error) {
	if e := domain.AsError(err); e != nil {
		status := Status(e.Code)
		if status >= 500 && e.Code != domain.CodeUnavailable {
			return status, errInternal
		}
		return status, e
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		if e, ok := fiberCodes[fe.Code]; ok {
			return fe.Code, e
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return fe.Code, domain.Errorf(domain.CodeBadRequest, "%s", http.StatusText(fe.Code))
		}
	}
	return http.StatusInternalServerError, errInternal
}

// ErrorHandler renders every error as the contract's body. Client errors are the
// client's business and are not logged here (the access log has them); 5xx are
// logged with the real error, which the client never sees.
func ErrorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, e := classify(err)
		if status >= 500 {
			logger.ErrorContext(c.UserContext(), "request failed", "error", err.Error(),
				"request_id", RequestIDOf(c), "method", c.Method(), "route", c.Route().Path, "status", status)
		}
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Max(1, math.Ceil(ra.RetryAfter().Seconds())))))
		}
		if status == http.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, "Bearer")
		}
		return c.Status(status).JSON(wire.ErrorBody{Error: wire.ErrorDetail{
			Code: string(e.Code), Message: e.Message, Fields: e.Fields}})
	}
}

const localRequestID = "fieldsync.request_id"

// SetRequestID stores the request's id for logs and error reports.
func SetRequestID(c *fiber.Ctx, id string) { c.Locals(localRequestID, id) }

// RequestIDOf returns the request's id, or "" before the middleware ran.
func RequestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}
