package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Read replicas (docs/operations.md, "Read replicas"). Reports, the
// dashboard's read-only pages and exports may read from a Postgres hot
// standby: they tolerate data a few seconds old and are the heavy reads.
// Pushes, pulls, auth and the desk stay on the primary: they read their own
// writes, and a pull must never answer from a standby that has not replayed
// what the pull bound covers (docs/operations.md says why).

// replicaRouter picks the database of replica-tolerant reads: the replica
// while it is reachable and at most maxLag behind, else the primary. A probe
// (every second in Serve) decides; reads never wait for it.
type replicaRouter struct {
	primary, replica *store.DB
	maxLag           time.Duration
	probe            func(ctx context.Context) (time.Duration, error)

	mu    sync.Mutex
	state replicaState

	lagGauge, usedGauge prometheus.Gauge
}

// replicaState is the last probe's verdict; /readyz shows it.
type replicaState struct {
	Status     string   `json:"status"` // "in_use", "skipped" or "unknown" (not probed yet)
	LagSeconds *float64 `json:"lag_seconds,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

func newReplicaRouter(primary, replica *store.DB, maxLag time.Duration, m *Metrics) *replicaRouter {
	r := &replicaRouter{primary: primary, replica: replica, maxLag: maxLag,
		state: replicaState{Status: "unknown", Reason: "not probed yet"},
		lagGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fieldsync_replica_lag_seconds",
			Help: "How far the read replica trails the primary (0: it has replayed all the primary had written when probed); -1 when unreachable.",
		}),
		usedGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fieldsync_replica_in_use",
			Help: "1 while reports, the dashboard and exports read from the replica; 0 while they fall back to the primary.",
		}),
	}
	r.probe = func(ctx context.Context) (time.Duration, error) { return store.ReplicaLag(ctx, primary, replica) }
	m.Registry.MustRegister(r.lagGauge, r.usedGauge)
	return r
}

// reader is the database replica-tolerant reads use now.
func (r *replicaRouter) reader() *store.DB {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state.Status == "in_use" {
		return r.replica
	}
	return r.primary
}

// check probes the replica once and records the verdict. A replica that is
// unreachable or more than maxLag behind is skipped; it is used again at the
// first probe that finds it caught up.
func (r *replicaRouter) check(ctx context.Context) replicaState {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	lag, err := r.probe(ctx)
	var st replicaState
	switch {
	case err != nil:
		st = replicaState{Status: "skipped", Reason: err.Error()}
		r.lagGauge.Set(-1)
	case lag > r.maxLag:
		secs := lag.Seconds()
		st = replicaState{Status: "skipped", LagSeconds: &secs,
			Reason: fmt.Sprintf("more than %s behind the primary", r.maxLag)}
		r.lagGauge.Set(secs)
	default:
		secs := lag.Seconds()
		st = replicaState{Status: "in_use", LagSeconds: &secs}
		r.lagGauge.Set(secs)
	}
	if st.Status == "in_use" {
		r.usedGauge.Set(1)
	} else {
		r.usedGauge.Set(0)
	}
	r.mu.Lock()
	r.state = st
	r.mu.Unlock()
	return st
}

func (r *replicaRouter) current() replicaState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// replicaProbeInterval is how often Serve probes the replica.
const replicaProbeInterval = time.Second

// watchReplica probes the replica until ctx ends, logging each change of
// verdict.
func (s *Server) watchReplica(ctx context.Context) {
	if s.replica == nil {
		return
	}
	last := s.replica.check(ctx).Status
	every(ctx, replicaProbeInterval, func() {
		st := s.replica.check(ctx)
		if st.Status != last && ctx.Err() == nil {
			s.Logger.WarnContext(ctx, "read replica "+st.Status, "reason", st.Reason)
			last = st.Status
		}
	})
}

// readDB is the database of replica-tolerant reads (reports, the dashboard's
// read-only pages, exports): the replica when one is configured and usable,
// else the primary.
func (s *Server) readDB() *store.DB {
	if db := s.replica.reader(); db != nil {
		return db
	}
	return s.DB
}

// reportReaders holds a report service per database, so each request picks
// the one readDB names without building a service per request.
type reportReaders struct {
	s                *Server
	primary, replica *reports.Service
}

func (s *Server) reportReaders() *reportReaders {
	rr := &reportReaders{s: s, primary: s.reportsOn(s.DB)}
	if s.replica != nil {
		rr.replica = s.reportsOn(s.replica.replica)
	}
	return rr
}

// get is the report service to use for this request.
func (rr *reportReaders) get() *reports.Service {
	if rr.replica != nil && rr.s.readDB() != rr.s.DB {
		return rr.replica
	}
	return rr.primary
}
