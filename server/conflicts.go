package server

import (
	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// conflictHandlers serve the conflicts API (docs/protocol.md §5). Every role may
// list (the service scopes the list); managers and coordinators resolve.
type conflictHandlers struct {
	svc *backoffice.Conflicts
}

// registerConflicts adds /conflicts under r (the /v1 group).
func (s *Server) registerConflicts(r fiber.Router) {
	h := conflictHandlers{svc: backoffice.NewConflicts(s.DB, s.Cfg.Currency)}
	authn := httpapi.Authenticate(s.Auth)
	r.Get("/conflicts", authn, h.list)
	r.Post("/conflicts/:id/resolve", authn,
		httpapi.RequireAction(domain.ActResolveConflict),
		httpapi.BodyLimit(wire.MaxPushBodyBytes), h.resolve) // a custom row is as large as a pushed one
}

func (h conflictHandlers) list(c *fiber.Ctx) error {
	limit, err := httpapi.QueryLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	v, err := httpapi.Queries(c, "status", "table", "cursor")
	if err != nil {
		return err
	}
	q := backoffice.ConflictQuery{Status: v[0], Table: v[1], Cursor: v[2], Limit: limit}
	page, err := h.svc.List(c.UserContext(), httpapi.CallerOf(c), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (h conflictHandlers) resolve(c *fiber.Ctx) error {
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	var in backoffice.ResolveInput
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	out, err := h.svc.Resolve(c.UserContext(), httpapi.CallerOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
