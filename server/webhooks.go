package server

import (
	"context"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/webhooks"
	"github.com/gofiber/fiber/v2"
)

// registerWebhooks adds ops' webhook endpoints to g, the ops-only /v1/admin
// group (its middleware authenticates and requires domain.ActAdmin).
func (s *Server) registerWebhooks(g fiber.Router) {
	svc := backoffice.NewWebhooks(s.DB)
	g.Post("/webhooks", create(svc.Create))
	g.Get("/webhooks", func(c *fiber.Ctx) error {
		out, err := svc.List(c.UserContext())
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
	g.Patch("/webhooks/:id", update(svc.Update))
	g.Get("/webhook-deliveries", func(c *fiber.Ctx) error {
		limit, err := httpapi.QueryLimit(c, 100, 1000)
		if err != nil {
			return err
		}
		v, err := httpapi.Queries(c, "status", "endpoint_id", "cursor")
		if err != nil {
			return err
		}
		out, err := svc.Deliveries(c.UserContext(), backoffice.DeliveryQuery{Status: v[0], EndpointID: v[1], Cursor: v[2], Limit: limit})
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
	g.Post("/webhook-deliveries/:id/replay", func(c *fiber.Ctx) error {
		out, err := svc.Replay(c.UserContext(), strings.Clone(c.Params("id")))
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
}

// webhookInterval is how often an idle dispatcher looks for due deliveries.
const webhookInterval = time.Second

// dispatchWebhooks delivers the webhook outbox until ctx ends. Every instance
// runs one; the outbox's leases keep them from sending a delivery twice at once.
// The lease is the dispatcher's default, three times the timeout, so a live
// instance's attempt always ends (its client gives up) before another may
// claim the delivery.
func (s *Server) dispatchWebhooks(ctx context.Context) {
	webhooks.New(s.DB, webhooks.Options{Timeout: s.Cfg.WebhookTimeout, Backoff: s.Cfg.WebhookBackoff, Logger: s.Logger}).
		Run(ctx, webhookInterval)
}
