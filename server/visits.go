package server

import (
	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/gofiber/fiber/v2"
)

// visitHandlers serve visit planning (docs/protocol.md §6): managers plan visits
// for the reps of their territories.
type visitHandlers struct {
	planning *backoffice.Planning
}

// registerVisits adds /visits under r (the /v1 group).
func (s *Server) registerVisits(r fiber.Router) {
	h := visitHandlers{planning: backoffice.NewPlanning(s.DB)}
	r.Post("/visits", httpapi.Authenticate(s.Auth), httpapi.RequireAction(domain.ActPlanVisit), h.plan)
}

func (h visitHandlers) plan(c *fiber.Ctx) error {
	var in backoffice.PlanInput
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	v, err := h.planning.Plan(c.UserContext(), httpapi.CallerOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}
