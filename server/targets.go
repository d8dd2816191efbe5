package server

import (
	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/gofiber/fiber/v2"
)

// targetHandlers serve /v1/targets (docs/api.md "Targets").
type targetHandlers struct {
	svc *backoffice.Targets
}

func (s *Server) registerTargets(r fiber.Router) {
	h := targetHandlers{svc: backoffice.NewTargets(s.DB)}
	g := r.Group("/targets", httpapi.Authenticate(s.Auth))
	g.Put("", httpapi.RequireAction(domain.ActSetTarget), h.set)
	g.Get("", httpapi.RequireAction(domain.ActReadTargets), h.list)
	g.Get("/:id/history", httpapi.RequireAction(domain.ActReadTargets), h.history)
}

// set answers 201 with the target it created, 200 with the one it changed (or
// left as it was).
func (h targetHandlers) set(c *fiber.Ctx) error {
	var in backoffice.TargetInput
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	t, created, err := h.svc.Set(c.UserContext(), httpapi.CallerOf(c), in)
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(t)
}

func (h targetHandlers) list(c *fiber.Ctx) error {
	v, err := httpapi.Queries(c, "period", "territory_id", "rep_id", "cursor")
	if err != nil {
		return err
	}
	limit, err := httpapi.QueryLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	page, err := h.svc.List(c.UserContext(), httpapi.CallerOf(c), backoffice.TargetQuery{Period: v[0], TerritoryID: v[1],
		RepID: v[2], Cursor: v[3], Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// targetHistory is the answer of GET /v1/targets/{id}/history.
type targetHistory struct {
	Items []domain.TargetChange `json:"items"`
}

func (h targetHandlers) history(c *fiber.Ctx) error {
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	items, err := h.svc.History(c.UserContext(), httpapi.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(targetHistory{Items: items})
}
