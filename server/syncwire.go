package server

import (
	"context"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/gofiber/fiber/v2"
)

// syncObserver feeds the sync engine's counts into Prometheus.
type syncObserver struct{ m *Metrics }

func (o syncObserver) ChangesServed(n int)   { o.m.SyncChanges.Add(float64(n)) }
func (o syncObserver) PushResult(s string)   { o.m.PushResults.WithLabelValues(s).Inc() }
func (o syncObserver) ConflictOpened(string) { o.m.ConflictsOpened.Inc() }
func (o syncObserver) PullStage(stage string, empty bool, d time.Duration) {
	o.m.PullStages.WithLabelValues(stage, strconv.FormatBool(empty)).Observe(d.Seconds())
}

func newSyncEngine(s *Server) *engine.Engine {
	return engine.New(s.DB, engine.Config{Currency: s.Cfg.Currency}, s.Logger, syncObserver{s.Metrics})
}

// refreshGauges reads the gauges that live in the database just before a
// scrape: the age of the oldest open write transaction, which delays pulls on
// Postgres. A failure is logged and leaves the last value; the scrape goes on.
func (s *Server) refreshGauges(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	age, err := store.OldestWriteAge(s.DB.Autocommit(ctx))
	if err != nil {
		s.Logger.WarnContext(ctx, "refresh gauges", "err", err)
	} else {
		s.Metrics.OldestTxAgeSeconds.Set(age)
	}
	return c.Next()
}
