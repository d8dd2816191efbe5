// Package mobileapi holds the HTTP handlers of the device-facing API: login,
// logout, me, and the sync pull and push endpoints.
package mobileapi

import (
	"context"
	"log/slog"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// SyncService is the sync engine as the handlers see it.
type SyncService interface {
	Pull(ctx context.Context, a engine.Actor, cursor string, limit int) (wire.PullResponse, error)
	Push(ctx context.Context, a engine.Actor, req wire.PushRequest) (wire.PushResponse, error)
}

// Deps are what the handlers need; the server wires them.
type Deps struct {
	Auth   *auth.Service
	Sync   SyncService
	Logger *slog.Logger
	// Watermelon serves WatermelonDB's sync protocol; nil leaves its routes out.
	Watermelon WatermelonService
	// AcceptsGzip says whether an Accept-Encoding header takes gzip, for the
	// answers the handlers stream themselves.
	AcceptsGzip func(acceptEncoding string) bool
}

// Register adds the device API routes under r (the /v1 group).
func Register(r fiber.Router, d Deps) {
	registerAuth(r, d)
	registerSync(r, d)
	registerWatermelon(r, d)
}
