package server

import (
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/gofiber/fiber/v2"
)

// orderHandlers serve the order desk (docs/protocol.md §6): coordinators work the
// queue; managers, directors and ops read it.
type orderHandlers struct {
	desk *backoffice.OrderDesk
	zone *time.Location // the organisation's: dates of the submitted_* filters
}

// registerOrders adds /orders under r (the /v1 group).
func (s *Server) registerOrders(r fiber.Router) {
	h := orderHandlers{desk: backoffice.NewOrderDesk(s.DB), zone: s.Zone}
	authn := httpapi.Authenticate(s.Auth)
	r.Get("/orders", authn,
		httpapi.RequireAction(domain.ActListOrders), h.list)
	r.Get("/orders/:id", authn, httpapi.RequireAction(domain.ActListOrders), h.get)
	r.Post("/orders/:id/transition", authn, httpapi.RequireAction(domain.ActTransitionOrder), h.transition)
}

func (h orderHandlers) list(c *fiber.Ctx) error {
	limit, err := httpapi.QueryLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	v, err := httpapi.Queries(c, "status", "territory_id", "cursor", "number", "account_id", "rep_id",
		"submitted_from", "submitted_to", "min_total_cents", "max_total_cents", "sort")
	if err != nil {
		return err
	}
	q := backoffice.OrderQuery{Status: v[0], TerritoryID: v[1], Cursor: v[2], Limit: limit, Number: v[3],
		AccountID: v[4], RepID: v[5], SubmittedFrom: v[6], SubmittedTo: v[7], MinTotal: v[8], MaxTotal: v[9], Sort: v[10],
		Zone: h.zone}
	page, err := h.desk.List(c.UserContext(), httpapi.CallerOf(c), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (h orderHandlers) get(c *fiber.Ctx) error {
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	out, err := h.desk.Get(c.UserContext(), httpapi.CallerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (h orderHandlers) transition(c *fiber.Ctx) error {
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	var in backoffice.TransitionInput
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	out, err := h.desk.Transition(c.UserContext(), httpapi.CallerOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
