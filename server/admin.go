package server

import (
	"context"
	"net/url"
	"strings"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/mobileapi"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// adminHandlers serve the ops admin endpoints (docs/protocol.md §6, "Admin").
type adminHandlers struct {
	admin *backoffice.Admin
	auth  *auth.Service
}

// registerAdmin adds /admin under r (the /v1 group), for ops only.
func (s *Server) registerAdmin(r fiber.Router) {
	h := adminHandlers{admin: backoffice.NewAdmin(s.DB, s.Auth.HashPassword), auth: s.Auth}
	g := r.Group("/admin", httpapi.Authenticate(s.Auth), httpapi.RequireAction(domain.ActAdmin))
	g.Get("/territories", h.listTerritories)
	g.Post("/territories", create(h.admin.CreateTerritory))
	g.Patch("/territories/:id", update(h.admin.UpdateTerritory))
	g.Post("/users", create(h.admin.CreateUser))
	g.Get("/users/:id", h.getUser)
	g.Patch("/users/:id", update(h.admin.UpdateUser))
	g.Get("/users/:id/devices", h.listDevices)
	g.Delete("/devices/:device_id", h.revokeDevice)
	g.Post("/accounts", create(h.admin.CreateAccount))
	g.Patch("/accounts/:id", update(h.admin.UpdateAccount))
	g.Post("/products", create(h.admin.CreateProduct))
	g.Patch("/products/:id", update(h.admin.UpdateProduct))
	s.registerWebhooks(g)
}

// create serves a POST: decode the body, create, answer 201 with the row.
func create[In, Out any](fn func(context.Context, In) (Out, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in In
		if err := httpapi.DecodeJSON(c, &in); err != nil {
			return err
		}
		out, err := fn(c.UserContext(), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(out)
	}
}

// update serves a PATCH of the row named by :id: answer 200 with the row.
func update[In, Out any](fn func(context.Context, string, In) (Out, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := httpapi.ParamUUID(c, "id")
		if err != nil {
			return err
		}
		var patch In
		if err := httpapi.DecodeJSON(c, &patch); err != nil {
			return err
		}
		out, err := fn(c.UserContext(), id, patch)
		if err != nil {
			return err
		}
		return c.JSON(out)
	}
}

func (h adminHandlers) listTerritories(c *fiber.Ctx) error {
	limit, err := httpapi.QueryLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	cursor, err := httpapi.Query(c, "cursor")
	if err != nil {
		return err
	}
	page, err := h.admin.ListTerritories(c.UserContext(), cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (h adminHandlers) getUser(c *fiber.Ctx) error {
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	u, err := h.admin.GetUser(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// deviceList is the answer of a user's devices: a list of one page.
type deviceList struct {
	Items      []wire.Device `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

func (h adminHandlers) listDevices(c *fiber.Ctx) error {
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	devices, err := h.auth.ListDevices(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(deviceList{Items: mobileapi.DevicesJSON(devices)})
}

// revokeDevice revokes every token of the device at once (a lost phone). Device
// ids are whatever the app sent at login, so the path segment is unescaped.
func (h adminHandlers) revokeDevice(c *fiber.Ctx) error {
	deviceID, err := url.PathUnescape(strings.Clone(c.Params("device_id")))
	if err != nil || deviceID == "" {
		return domain.Errorf(domain.CodeNotFound, "device not found")
	}
	if msg := domain.ValidText(deviceID); msg != "" {
		return httpapi.BadParam("device_id", msg)
	}
	if err := h.auth.RevokeDevice(c.UserContext(), deviceID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
