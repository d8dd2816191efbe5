package mobileapi

import (
	"strings"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// LoginBodyLimit caps a login body: an email, a password, a device id and
// name fit in far less, and the route is open to anyone.
const LoginBodyLimit = 4 << 10

type authHandlers struct {
	auth *auth.Service
}

func registerAuth(r fiber.Router, d Deps) {
	h := authHandlers{auth: d.Auth}
	authenticated := httpapi.Authenticate(d.Auth)
	r.Post("/auth/login", httpapi.BodyLimit(LoginBodyLimit), h.login)
	r.Post("/auth/logout", authenticated, h.logout)
	r.Get("/me", authenticated, h.me)
}

func (h authHandlers) login(c *fiber.Ctx) error {
	var req wire.LoginRequest
	if err := httpapi.DecodeJSON(c, &req); err != nil {
		return err
	}
	// The address becomes a rate-limiter key; behind a proxy header Fiber hands
	// out a view of its reused buffer.
	addr := strings.Clone(c.IP())
	tok, err := h.auth.Login(c.UserContext(), req.Email, req.Password, req.DeviceID, req.DeviceName, addr)
	if err != nil {
		return err
	}
	return c.JSON(loginJSON(tok))
}

func (h authHandlers) logout(c *fiber.Ctx) error {
	if err := h.auth.Logout(c.UserContext(), httpapi.PrincipalOf(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h authHandlers) me(c *fiber.Ctx) error {
	me, err := h.auth.Me(c.UserContext(), httpapi.CallerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(meJSON(me))
}
