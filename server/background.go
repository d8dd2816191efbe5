package server

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// foldReportDeltas folds the report deltas every Cfg.ReportFoldInterval until
// ctx ends. Reports stay exact without it; it keeps the deltas each report
// adds up few. Several server instances may fold at once.
func (s *Server) foldReportDeltas(ctx context.Context) {
	if s.Cfg.ReportFoldInterval <= 0 || s.DB.Dialect != store.Postgres {
		return
	}
	every(ctx, s.Cfg.ReportFoldInterval, func() {
		start := time.Now()
		n, err := store.FoldReportDeltas(ctx, s.DB)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			s.Logger.WarnContext(ctx, "fold report deltas", "err", err)
		case n > 0:
			s.Logger.DebugContext(ctx, "folded report deltas", "deltas", n,
				"duration_ms", time.Since(start).Milliseconds())
		}
	})
}

// flushPullStamps writes the last-pull stamps that pulls queued (see
// engine.Engine.DeferPullStamps) once a second, until ctx ends.
func (s *Server) flushPullStamps(ctx context.Context) {
	every(ctx, time.Second, func() {
		if err := s.Sync.FlushPullStamps(ctx); err != nil && ctx.Err() == nil {
			s.Logger.WarnContext(ctx, "flush pull stamps", "err", err)
		}
	})
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}
