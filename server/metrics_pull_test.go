package server_test

import (
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestMetrics_PullStagesAndPoolWaits: a pull is timed by stage on /metrics,
// labelled by whether its page was empty, next to the connection pool's wait
// counters, under the names docs/benchmarks.md and dashboards rely on.
func TestMetrics_PullStagesAndPoolWaits(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		e.user("rep@example.com", domain.RoleRep)
		rep := e.login("rep@example.com", "password1", "rep-phone")
		if status, b := e.do("GET", "/v1/sync/pull?limit=10", rep, ""); status != 200 {
			t.Fatalf("pull: %d %s", status, b)
		}
		status, b := e.do("GET", "/metrics", "", "")
		if status != 200 {
			t.Fatalf("metrics: %d", status)
		}
		body := string(b)
		for _, want := range []string{
			"# TYPE fieldsync_pull_stage_seconds histogram",
			`stage="bound"} 1`,
			`stage="read"} 1`,
			`stage="stamp"} 1`,
			`go_sql_wait_count_total{db_name="fieldsync"}`,
			`go_sql_wait_duration_seconds_total{db_name="fieldsync"}`,
			`go_sql_open_connections{db_name="fieldsync"}`,
			"go_gc_duration_seconds",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}
