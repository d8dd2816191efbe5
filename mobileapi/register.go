// Package mobileapi holds the HTTP handlers of the device-facing API: login,
// logout, me, and the sync pull and push endpoints.
package mobileapi

import (
	"context"
	"log/slog"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/sync/rxdb"
	"github.com/fieldsync/fieldsync/sync/stream"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// SyncService is the sync engine as the handlers see it.
type SyncService interface {
	Pull(ctx context.Context, a domain.Caller, cursor string, limit int) (wire.PullResponse, error)
	Push(ctx context.Context, a domain.Caller, req wire.PushRequest) (wire.PushResponse, error)
}

// ScopeService resolves a user's current sync scope (the change stream listens
// to its keys).
type ScopeService interface {
	Scope(ctx context.Context, userID string) (domain.Scope, error)
}

// Deps are what the handlers need; the server wires them.
type Deps struct {
	Auth   *auth.Service
	Sync   SyncService
	Logger *slog.Logger
	// Scope, Hub and Stream serve the change streams.
	Scope  ScopeService
	Engine rxdb.Engine
	Hub    *stream.Hub
	Stream StreamConfig
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
	registerRxDB(r, d)
	registerWatermelon(r, d)
}
