package server_test

import (
	"encoding/json"
	"net/url"
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
			`stage="begin"} 1`,
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
		if db.Dialect != store.SQLite {
			return // the fast path waits for the change listener to connect
		}
		// Caught up: the database confirms the cursor once, then the next
		// poll is answered from memory and timed as the "fast" stage.
		var page struct{ Cursor string }
		for i := 0; i < 3; i++ {
			status, b := e.do("GET", "/v1/sync/pull?limit=1000&cursor="+url.QueryEscape(page.Cursor), rep, "")
			if status != 200 {
				t.Fatalf("pull: %d %s", status, b)
			}
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
		}
		if _, b := e.do("GET", "/metrics", "", ""); !strings.Contains(string(b), `fieldsync_pull_stage_seconds_count{empty="true",stage="fast"} 1`) {
			t.Error(`metrics lack one pull of stage="fast"`)
		}
	})
}
