// Package server is the Fiber application: configuration, middleware (request
// ids, access log, metrics, panic recovery, error rendering), operational
// endpoints, route registration and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/fieldsync/fieldsync/attachments"
	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/sync/stream"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Server holds what every handler needs. Fields are set by New and read-only
// afterwards.
type Server struct {
	Cfg     Config
	DB      *store.DB
	Auth    *auth.Service
	Logger  *slog.Logger
	Metrics *Metrics
	Sync    *engine.Engine
	// Hub fans committed changes out to the open change streams.
	Hub *stream.Hub
	App *fiber.App
	// Attachments is the byte lane of attachments (uploads, downloads).
	Attachments *attachments.Service
	tus         *attachments.TusHandler
	// Zone is the organisation's time zone (Cfg.TimeZone): what a day, today
	// and a period mean in reports, overdue, the dashboard and the order
	// list's date filters (docs/reports.md "Days and the time zone").
	Zone *time.Location
	// replica routes replica-tolerant reads (replica.go); nil without
	// Cfg.ReplicaURL.
	replica *replicaRouter
	// snaps holds the organisation-wide report figures large scopes read
	// (reports.Snapshots), shared by the primary's and the replica's report
	// services.
	snaps *reports.Snapshots
	// kpiSnaps: the same for the KPI report, kept longer (Cfg.ReportKPISnapshotMaxAge).
	kpiSnaps *reports.Snapshots
	// trees keeps the territory tree the reports name territories from while
	// no territory changes (store.TreeCache).
	trees *store.TreeCache
	// draining is set on shutdown: /readyz answers 503 so that a load
	// balancer stops sending before the listener closes.
	draining atomic.Bool
	// drainCut ends the drain delay early (tests).
	drainCut chan struct{}
}

// New builds the application on an open, migrated database.
func New(cfg Config, db *store.DB, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	authSvc, err := auth.New(db, cfg.AuthConfig(), logger)
	if err != nil {
		return nil, err
	}
	s := &Server{Cfg: cfg, DB: db, Auth: authSvc, Logger: logger, Metrics: NewMetrics(), drainCut: make(chan struct{}),
		snaps:    reports.NewSnapshots(cfg.ReportSnapshotMaxAge, cfg.ReportSnapshotTerritories),
		kpiSnaps: reports.NewSnapshots(cfg.ReportKPISnapshotMaxAge, cfg.ReportSnapshotTerritories), trees: &store.TreeCache{}}
	if s.Zone, err = organisationZone(context.Background(), cfg, db, logger); err != nil {
		return nil, err
	}
	s.Sync = newSyncEngine(s)
	if cfg.ReplicaURL != "" {
		if db.Dialect != store.Postgres {
			return nil, fmt.Errorf("config: a read replica needs a Postgres primary (the database is SQLite)")
		}
		replica, err := store.OpenReplica(context.Background(), cfg.ReplicaURL, store.Options{MaxOpenConns: cfg.DBMaxConns, Logger: logger})
		if err != nil {
			return nil, err
		}
		s.replica = newReplicaRouter(db, replica, cfg.ReplicaMaxLag, s.Metrics)
	}
	s.Hub = stream.NewHub(cfg.StreamsPerUser)
	// SQLite: one process owns the database, commits are published in
	// process, and the engine's fast empty pulls and the token cache hear of
	// every write at once. Postgres: every instance LISTENs (Serve), its own
	// commits too; what this process commits still reaches the fast path and
	// the token cache at commit, so its own scope changes and revocations
	// take effect before the notification comes back.
	if db.Dialect == store.SQLite {
		db.OnCommit(s.noteCommitted)
		s.Sync.ListenerUp()
		s.Auth.ListenerUp()
	} else {
		db.OnCommit(s.forgetStale)
	}
	if s.Attachments, err = newAttachments(context.Background(), cfg, db, s.Sync, logger); err != nil {
		return nil, err
	}
	if s.tus, err = s.Attachments.Tus(); err != nil {
		return nil, err
	}
	// The connection pool's waits (go_sql_wait_count_total,
	// go_sql_wait_duration_seconds_total): a pull that queues for a connection
	// shows here, not in fieldsync_pull_stage_seconds alone.
	sqlDB, err := db.SQL()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.Metrics.Registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, "fieldsync"))
	s.App = fiber.New(fiber.Config{
		AppName:      "fieldsync",
		ErrorHandler: httpapi.ErrorHandler(logger),
		BodyLimit:    cfg.BodyLimit,
		// Bodies are streamed so that a declared Content-Length allocates
		// nothing: fasthttp reads at most 8 KiB ahead, and each route reads the
		// rest through httpapi.ReadBody within its own limit. Multipart forms
		// are never pre-parsed (no route takes one; fasthttp would spool them).
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  cfg.ReadTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		IdleTimeout:                  cfg.IdleTimeout,
		ProxyHeader:                  cfg.ProxyHeader,
		DisableStartupMessage:        true,
	})
	// Order matters: the request id exists before anything logs; observe sees the
	// status the error handler chose, including for panics recovered below it.
	// Compression sits inside observe so that request durations include it.
	gz, err := newCompressor(gzipLevel)
	if err != nil {
		return nil, err
	}
	s.App.Use(requestID, s.observe, gz.handler, s.recoverPanic, httpapi.GuardBody)
	s.routes()
	return s, nil
}

// organisationZone loads the configured zone (Validate checked it; empty, in a
// Config built by hand, is UTC) and makes it the zone of the report day
// tables, re-bucketing them when the database held another.
func organisationZone(ctx context.Context, cfg Config, db *store.DB, logger *slog.Logger) (*time.Location, error) {
	loc := time.UTC
	if cfg.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(cfg.TimeZone); err != nil {
			return nil, fmt.Errorf("config: time zone: %w", err)
		}
	}
	rebuilt, err := store.SetReportTimeZone(ctx, db, loc)
	if err != nil {
		return nil, err
	}
	if rebuilt {
		logger.Info("report tables re-bucketed into the organisation's days", "time_zone", loc.String())
	}
	return loc, nil
}

// Listen serves on Cfg.Addr until ctx ends, then shuts down gracefully.
func (s *Server) Listen(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends. It then stops accepting connections and
// waits up to Cfg.ShutdownTimeout for in-flight requests to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.App.Listener(ln) }()
	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	go s.foldReportDeltas(bg)
	go s.refreshReportSnapshots(bg)
	go s.warmReportSnapshots(bg)
	listenDone := make(chan struct{})
	go func() {
		defer close(listenDone)
		s.DB.ListenChanges(bg, s.Logger, store.ListenHooks{Notify: s.noteCommitted, Connected: s.listenerUp, Lost: s.listenerDown})
	}()
	go s.dispatchWebhooks(bg)
	go s.watchReplica(bg)
	s.Sync.DeferPullStamps()
	stampsDone := make(chan struct{})
	go func() { defer close(stampsDone); s.flushPullStamps(bg) }()
	s.Logger.InfoContext(ctx, "listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Unready first, then wait for the load balancer's health checks to see
	// it, while still serving whatever it sends meanwhile; only then stop
	// accepting (docs/operations.md, "Rolling restarts").
	s.draining.Store(true)
	if s.Cfg.DrainDelay > 0 {
		s.Logger.InfoContext(ctx, "draining", "delay", s.Cfg.DrainDelay.String())
		select {
		case <-time.After(s.Cfg.DrainDelay):
		case <-s.drainCut:
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}
	s.Logger.InfoContext(ctx, "shutting down", "grace", s.Cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Cfg.ShutdownTimeout)
	defer cancel()
	// Streams never finish by themselves: end them, or shutdown waits for them.
	s.Hub.Close()
	if err := s.App.ShutdownWithContext(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopBackground()
	<-stampsDone
	<-listenDone
	// The last queued stamps, once no request can queue more.
	if err := s.Sync.FlushPullStamps(sctx); err != nil {
		s.Logger.WarnContext(ctx, "flush pull stamps", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Close releases what New opened besides the primary database (which the
// caller owns): the read replica's connections.
func (s *Server) Close() error {
	if s.replica != nil {
		return s.replica.replica.Close()
	}
	return nil
}

// noteCommitted takes the keys of a committed write (store.NoteKeys): the
// streams they concern are woken; the fast empty pulls and cached tokens
// they make stale are dropped.
func (s *Server) noteCommitted(keys []string) {
	s.forgetStale(keys)
	s.Hub.Publish(keys)
}

// forgetStale drops the fast empty pulls and cached tokens keys make stale.
func (s *Server) forgetStale(keys []string) {
	s.Sync.NoteCommitted(keys)
	s.Auth.NoteCommitted(keys)
}

// listenerUp: the Postgres change listener (re)connected; whatever it may
// have missed is looked at again, and what relies on hearing every write
// (fast empty pulls, the token cache) may start.
func (s *Server) listenerUp() {
	s.Sync.ListenerUp()
	s.Auth.ListenerUp()
	s.Hub.WakeAll()
}

// listenerDown: writes of other instances go unheard until it reconnects.
func (s *Server) listenerDown() {
	s.Sync.ListenerDown()
	s.Auth.ListenerDown()
}
