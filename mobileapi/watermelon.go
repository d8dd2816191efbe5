package mobileapi

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/sync/watermelon"
	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/gzip"
)

// WatermelonService is the WatermelonDB adapter as the handlers see it.
type WatermelonService interface {
	Pull(ctx context.Context, a domain.Caller, req watermelon.PullRequest) (*watermelon.PullResult, error)
	Push(ctx context.Context, a domain.Caller, req watermelon.PushRequest) (watermelon.PushResult, error)
}

type watermelonHandlers struct {
	svc WatermelonService
	log *slog.Logger
	// gzip says whether an Accept-Encoding header takes gzip: the server's
	// compression middleware leaves streamed answers alone.
	gzip func(acceptEncoding string) bool
}

// registerWatermelon adds WatermelonDB's pull and push (docs/protocol.md, "The
// WatermelonDB adapter"): one URL, GET for pullChanges, POST for pushChanges.
func registerWatermelon(r fiber.Router, d Deps) {
	if d.Watermelon == nil {
		return
	}
	h := watermelonHandlers{svc: d.Watermelon, log: d.Logger, gzip: d.AcceptsGzip}
	authenticated := httpapi.Authenticate(d.Auth)
	r.Get("/watermelon/sync", authenticated, h.pull)
	r.Post("/watermelon/sync", authenticated, httpapi.BodyLimit(watermelon.MaxPushBytes), h.push)
}

// lastPulledAt reads WatermelonDB's lastPulledAt: absent, "null" or 0 on the
// first sync, else the positive number an earlier pull answered.
func lastPulledAt(c *fiber.Ctx) (int64, error) {
	raw := c.Query("last_pulled_at")
	if raw == "" || raw == "null" || raw == "0" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return 0, httpapi.BadParam("last_pulled_at", "must be null or the timestamp of an earlier pull")
	}
	return n, nil
}

// migration reads WatermelonDB's migration argument (URL-encoded JSON):
// whether the app added tables or columns since its last sync.
func migration(c *fiber.Ctx) (bool, error) {
	raw := c.Query("migration")
	if raw == "" || raw == "null" {
		return false, nil
	}
	var m struct {
		From    int               `json:"from"`
		Tables  []string          `json:"tables"`
		Columns []json.RawMessage `json:"columns"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return false, httpapi.BadParam("migration", "must be null or WatermelonDB's migration object as JSON")
	}
	return len(m.Tables)+len(m.Columns) > 0, nil
}

func (h watermelonHandlers) pull(c *fiber.Ctx) error {
	last, err := lastPulledAt(c)
	if err != nil {
		return err
	}
	if v := c.Query("schema_version"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return httpapi.BadParam("schema_version", "must be a non-negative integer")
		}
	}
	mig, err := migration(c)
	if err != nil {
		return err
	}
	res, err := h.svc.Pull(c.UserContext(), httpapi.CallerOf(c), watermelon.PullRequest{LastPulledAt: last, Migration: mig})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	gz := h.gzip != nil && h.gzip(c.Get(fiber.HeaderAcceptEncoding))
	if gz {
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	// The answer is encoded while it is sent: only its rows are held, never
	// the encoded body (WatermelonDB reads one answer holding everything).
	ctx, logger := c.UserContext(), h.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		var err error
		if gz {
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			if _, err = res.WriteTo(zw); err == nil {
				err = zw.Close()
			}
		} else {
			_, err = res.WriteTo(w)
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil && logger != nil {
			logger.WarnContext(ctx, "watermelon pull: answer cut short", "err", err)
		}
	})
	return nil
}

type watermelonPushBody struct {
	Changes      map[string]watermelon.TableChanges `json:"changes"`
	LastPulledAt *int64                             `json:"lastPulledAt"`
}

func (h watermelonHandlers) push(c *fiber.Ctx) error {
	last, err := lastPulledAt(c)
	if err != nil {
		return err
	}
	var body watermelonPushBody
	if err := httpapi.DecodeJSON(c, &body); err != nil {
		return err
	}
	if last == 0 && body.LastPulledAt != nil && *body.LastPulledAt > 0 {
		last = *body.LastPulledAt
	}
	res, err := h.svc.Push(c.UserContext(), httpapi.CallerOf(c), watermelon.PushRequest{LastPulledAt: last, Changes: body.Changes})
	if err != nil {
		return err
	}
	return c.JSON(res)
}
