package server

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

type statusBody struct {
	Status string `json:"status"`
}

// healthz answers as long as the process serves requests.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(statusBody{Status: "ok"})
}

// readinessBody is /readyz's answer: the replica's verdict rides along when
// one is configured (a skipped replica does not make the server unready:
// its reads go to the primary).
type readinessBody struct {
	Status  string        `json:"status"`
	Replica *replicaState `json:"replica,omitempty"`
}

// readyz answers 503 while the database is unreachable, and from the moment
// the server starts shutting down, so a load balancer stops sending traffic
// that could only fail.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.draining.Load() {
		// Expected on every health check of a drain: answered here, not
		// logged as a failed request by the error handler.
		return c.Status(fiber.StatusServiceUnavailable).JSON(wire.ErrorBody{Error: wire.ErrorDetail{
			Code: string(domain.CodeUnavailable), Message: "shutting down"}})
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		s.Logger.WarnContext(ctx, "readiness check failed", "error", err.Error())
		return domain.Errorf(domain.CodeUnavailable, "database unreachable")
	}
	body := readinessBody{Status: "ready"}
	if s.replica != nil {
		st := s.replica.current()
		body.Replica = &st
	}
	return c.JSON(body)
}
