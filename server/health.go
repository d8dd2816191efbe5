package server

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
)

type statusBody struct {
	Status string `json:"status"`
}

// healthz answers as long as the process serves requests.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(statusBody{Status: "ok"})
}

// readyz answers 503 while the database is unreachable, so a load balancer
// stops sending traffic that could only fail.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		s.Logger.WarnContext(ctx, "readiness check failed", "error", err.Error())
		return domain.Errorf(domain.CodeUnavailable, "database unreachable")
	}
	return c.JSON(statusBody{Status: "ready"})
}
