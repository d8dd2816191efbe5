package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/server"
	"golang.org/x/crypto/bcrypt"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestServer_FoldHasOneLeader: two server instances on one Postgres never fold
// at once. While another holds the fold's leader lock (here the test, standing
// in for an instance in the middle of its fold) both skip their round and the
// deltas stay; once it is released, one round folds them all and the next
// finds nothing. The lock decides, not timing.
func TestServer_FoldHasOneLeader(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	deltas := seedVisitDeltas(t, db)
	before := deltas()
	a, b := newSrvEnv(t, db).s, newSrvEnv(t, db).s
	led, err := store.WithLeader(ctx, db, store.LeaderReportFold, func(ctx context.Context) error {
		for name, s := range map[string]interface {
			FoldReportDeltasOnce(context.Context) (int64, bool, error)
		}{"a": a, "b": b} {
			n, led, err := s.FoldReportDeltasOnce(ctx)
			if err != nil || led || n != 0 {
				t.Errorf("instance %s while another leads: folded %d, led %v, err %v; want a skipped round", name, n, led, err)
			}
		}
		if got := deltas(); got != before {
			t.Errorf("%d deltas left while another leads, want all %d", got, before)
		}
		return nil
	})
	if err != nil || !led {
		t.Fatalf("the test could not take the lead: %v, %v", led, err)
	}
	n, led, err := a.FoldReportDeltasOnce(ctx)
	if err != nil || !led || n != before {
		t.Fatalf("a after the release: folded %d, led %v, err %v; want %d", n, led, err, before)
	}
	if n, led, err := b.FoldReportDeltasOnce(ctx); err != nil || !led || n != 0 {
		t.Fatalf("b after a: folded %d, led %v, err %v; want the lead and nothing left", n, led, err)
	}
}

// TestWithLeader: one lead per name at a time across connections, released
// when fn returns, even when fn fails; other names are independent. SQLite,
// served by one process, always leads.
func TestWithLeader(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		inner := map[string]bool{}
		_, err := store.WithLeader(ctx, db, store.LeaderCompact, func(ctx context.Context) error {
			for _, name := range []string{store.LeaderCompact, store.LeaderReportFold} {
				led, err := store.WithLeader(ctx, db, name, func(context.Context) error { return nil })
				if err != nil {
					return err
				}
				inner[name] = led
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantNested := db.Dialect == store.SQLite
		if inner[store.LeaderCompact] != wantNested || !inner[store.LeaderReportFold] {
			t.Errorf("nested leads = %v; want compact %v (held), report-fold true", inner, wantNested)
		}
		if led, err := store.WithLeader(ctx, db, store.LeaderCompact, func(context.Context) error { return context.Canceled }); !led || err != context.Canceled {
			t.Fatalf("after the release: led %v, err %v", led, err)
		}
		if led, err := store.WithLeader(ctx, db, store.LeaderCompact, func(context.Context) error { return nil }); !led || err != nil {
			t.Fatalf("after a failed fn: led %v, err %v; the lock must be released", led, err)
		}
	})
}

// TestServer_ReadReplica: with FIELDSYNC_REPLICA_URL, reports read from the
// replica while its probe finds it at most ReplicaMaxLag behind, fall back to
// the primary while it is further behind or unreachable, and return to it
// once it catches up; /readyz shows the verdict (ready either way) and
// /metrics the lag. The "replica" here is an empty database, so which one a
// report read shows in its answer; the probe is the test's, so the verdict
// does not depend on a real standby's timing (the fleet test runs a real one).
func TestServer_ReadReplica(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	e := newReportEnv(t, db)
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	cfg.ReplicaURL = testdb.DSN(t, store.Postgres)
	cfg.ReplicaMaxLag = 5 * time.Second
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	e.srv = srv
	var lag time.Duration
	var probeErr error
	server.SetReplicaProbe(srv, func(context.Context) (time.Duration, error) { return lag, probeErr })

	territories := func() int {
		var cov reports.Coverage
		e.get(t, domain.RoleManager, "/v1/reports/coverage?"+period, &cov)
		return len(cov.Territories)
	}
	ready := func() (body map[string]any) {
		status, b := e.do(t, "GET", "/readyz", "", nil)
		if status != 200 || json.Unmarshal(b, &body) != nil {
			t.Fatalf("readyz = %d %s; a replica never makes the server unready", status, b)
		}
		return body
	}
	metric := func() string {
		_, b := e.do(t, "GET", "/metrics", "", nil)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "fieldsync_replica_lag_seconds ") {
				return line
			}
		}
		t.Fatalf("no fieldsync_replica_lag_seconds in /metrics")
		return ""
	}

	onPrimary := territories()
	if onPrimary == 0 || server.ReadDB(srv) != db {
		t.Fatalf("before the first probe reports must read the primary: %d territories", onPrimary)
	}
	steps := []struct {
		name    string
		lag     time.Duration
		err     error
		replica bool
		lagLine string
	}{
		{"caught up", 0, nil, true, "fieldsync_replica_lag_seconds 0"},
		{"behind within the bound", 5 * time.Second, nil, true, "fieldsync_replica_lag_seconds 5"},
		{"too far behind", 6 * time.Second, nil, false, "fieldsync_replica_lag_seconds 6"},
		{"unreachable", 0, errors.New("connection refused"), false, "fieldsync_replica_lag_seconds -1"},
		{"caught up again", time.Second, nil, true, "fieldsync_replica_lag_seconds 1"},
	}
	for _, st := range steps {
		lag, probeErr = st.lag, st.err
		server.CheckReplica(srv)
		got := territories()
		if st.replica != (got == 0) || st.replica != (server.ReadDB(srv) != db) {
			t.Errorf("%s: the report shows %d territories (primary %d); want it read from the replica: %v", st.name, got, onPrimary, st.replica)
		}
		rep, _ := ready()["replica"].(map[string]any)
		want := map[bool]string{true: "in_use", false: "skipped"}[st.replica]
		if rep["status"] != want || (!st.replica && rep["reason"] == "") {
			t.Errorf("%s: readyz replica = %v, want status %s with a reason when skipped", st.name, rep, want)
		}
		if line := metric(); line != st.lagLine {
			t.Errorf("%s: %q, want %q", st.name, line, st.lagLine)
		}
	}
}

// TestReplicaLag_NotAStandby: a database that is not a hot standby is never
// used as a replica (the real probe; the fleet test measures a real standby).
func TestReplicaLag_NotAStandby(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	if _, err := store.ReplicaLag(context.Background(), db, db); err == nil || !strings.Contains(err.Error(), "not a hot standby") {
		t.Fatalf("ReplicaLag on a primary: %v", err)
	}
}

// TestServer_DrainsBeforeClosing: on shutdown a server answers /readyz 503
// first (so HAProxy's health checks take it out of rotation) and keeps
// serving whatever still arrives during the drain delay; only then does it
// close its listener. The test ends the delay itself instead of waiting.
func TestServer_DrainsBeforeClosing(t *testing.T) {
	db := testdb.Open(t, store.SQLite)
	e := newSrvEnv(t, db)
	e.s.Cfg.DrainDelay = time.Hour
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.s.Serve(ctx, ln) }()
	status := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s while draining: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("/readyz"); got != 200 {
		t.Fatalf("readyz before shutdown = %d", got)
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for status("/readyz") != 503 {
		if time.Now().After(deadline) {
			t.Fatal("readyz never answered 503 after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := status("/healthz"); got != 200 {
		t.Errorf("a request during the drain = %d, want it served", got)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned during the drain delay: %v", err)
	default:
	}
	server.EndDrain(e.s)
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still accepting connections after the drain")
	}
}
