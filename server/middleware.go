package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// validRequestID accepts a caller's id only if it is short and plain, so it can
// go into logs and headers as is.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestID takes the caller's X-Request-ID or makes one, and echoes it.
func requestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if validRequestID.MatchString(id) {
		id = strings.Clone(id) // Fiber reuses the header buffer
	} else {
		id = uuid.NewString()
	}
	httpapi.SetRequestID(c, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// observe renders errors, then records the request in the access log and the
// metrics. It runs the error handler itself so it sees the final status.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.App.ErrorHandler(c, err); herr != nil {
			s.Logger.ErrorContext(c.UserContext(), "error handler failed", "error", herr.Error())
			_ = c.SendStatus(http.StatusInternalServerError)
		}
	}
	d := time.Since(start)
	status := c.Response().StatusCode()
	method := strings.Clone(c.Method()) // kept by the metrics registry
	route := routeLabel(c, err)
	s.Metrics.observe(method, route, status, d)
	s.Logger.LogAttrs(c.UserContext(), slog.LevelInfo, "request",
		slog.String("method", method), slog.String("route", route), slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("request_id", httpapi.RequestIDOf(c)), slog.String("user_id", httpapi.PrincipalOf(c).UserID))
	return nil
}

// routeLabel is the route template, never the raw path: ids in paths would give
// every row its own metric series.
func routeLabel(c *fiber.Ctx, err error) string {
	var fe *fiber.Error
	if errors.As(err, &fe) && (fe.Code == http.StatusNotFound || fe.Code == http.StatusMethodNotAllowed) {
		return "unmatched"
	}
	return c.Route().Path
}

var errPanic = errors.New("handler panicked")

// recoverPanic turns a panic into a 500; the stack goes to the log, never to the
// client.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.Logger.ErrorContext(c.UserContext(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()),
				"request_id", httpapi.RequestIDOf(c))
			err = errPanic
		}
	}()
	return c.Next()
}
