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
	t := time.NewTicker(s.Cfg.ReportFoldInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		n, err := store.FoldReportDeltas(ctx, s.DB)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.Logger.WarnContext(ctx, "fold report deltas", "err", err)
		case n > 0:
			s.Logger.DebugContext(ctx, "folded report deltas", "deltas", n,
				"duration_ms", time.Since(start).Milliseconds())
		}
	}
}

// flushPullStamps writes the last-pull stamps that pulls queued (see
// sync.Engine.DeferPullStamps) once a second, until ctx ends.
func (s *Server) flushPullStamps(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Sync.FlushPullStamps(ctx); err != nil && ctx.Err() == nil {
			s.Logger.WarnContext(ctx, "flush pull stamps", "err", err)
		}
	}
}
