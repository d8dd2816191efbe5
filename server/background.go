package server

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// foldReportDeltas folds the report deltas every Cfg.ReportFoldInterval until
// ctx ends. Reports stay exact without it; it keeps the deltas each report
// adds up few. With several server instances on one database, each round is
// folded by one of them (FoldReportDeltasOnce).
func (s *Server) foldReportDeltas(ctx context.Context) {
	if s.Cfg.ReportFoldInterval <= 0 || s.DB.Dialect != store.Postgres {
		return
	}
	every(ctx, s.Cfg.ReportFoldInterval, func() {
		start := time.Now()
		n, led, err := s.FoldReportDeltasOnce(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			s.Logger.WarnContext(ctx, "fold report deltas", "err", err)
		case !led:
			s.Logger.DebugContext(ctx, "report fold skipped: another instance is folding")
		case n > 0:
			s.Logger.DebugContext(ctx, "folded report deltas", "deltas", n,
				"duration_ms", time.Since(start).Milliseconds())
		}
	})
}

// FoldReportDeltasOnce runs one round of the fold if no other instance is
// folding (the leader lock, store.FoldReportDeltasAsLeader); led reports
// whether this one did.
func (s *Server) FoldReportDeltasOnce(ctx context.Context) (n int64, led bool, err error) {
	return store.FoldReportDeltasAsLeader(ctx, s.DB)
}

// snapshotsKeptWarm is how long after a request last read a report snapshot
// it is still reloaded ahead of the next (refreshReportSnapshots).
const snapshotsKeptWarm = 10 * time.Minute

// refreshReportSnapshots reloads, every half of their maximum age, the report
// snapshots read in the last snapshotsKeptWarm, so that a director's next
// request finds one young enough instead of waiting for a load
// (docs/reports.md "Large scopes: snapshots"). Each instance keeps its own.
// The KPI snapshots have their own maximum age, so their own ticker.
func (s *Server) refreshReportSnapshots(ctx context.Context) {
	if s.Cfg.ReportKPISnapshotMaxAge > 0 {
		go every(ctx, s.Cfg.ReportKPISnapshotMaxAge/2, func() { s.kpiSnaps.Refresh(snapshotsKeptWarm) })
	}
	if s.Cfg.ReportSnapshotMaxAge > 0 {
		every(ctx, s.Cfg.ReportSnapshotMaxAge/2, func() { s.snaps.Refresh(snapshotsKeptWarm) })
	}
}

// warmReportSnapshots loads, once after the start, the report snapshots a
// director opens first, in an organisation large enough to read snapshots
// (reports.Service.WarmSnapshots): the first director after a deploy does
// not wait seconds for them. Smaller organisations pay one count.
func (s *Server) warmReportSnapshots(ctx context.Context) {
	start := time.Now()
	if err := s.reportReaders().get().WarmSnapshots(ctx, s.today()); err != nil {
		if ctx.Err() == nil {
			s.Logger.WarnContext(ctx, "warm report snapshots", "err", err)
		}
		return
	}
	s.Logger.DebugContext(ctx, "report snapshots warm", "duration_ms", time.Since(start).Milliseconds())
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
