package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

// A server started with FIELDSYNC_TIMEZONE re-buckets the report tables into
// that zone's days, and the dashboard says which zone its days are in and
// shows the figures of those days. A server started with UTC again puts the
// UTC days back.
func TestServer_LocalDays(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := fixtures.Generate(ctx, db, fixtures.Options{Demo: true, Seed: 1, Now: demoNow}); err != nil {
			t.Fatal(err)
		}
		start := func(zone string) *server.Server {
			cfg := server.DefaultConfig()
			cfg.BcryptCost = bcrypt.MinCost
			cfg.TimeZone = zone
			srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			var recorded string
			if err := db.Gorm.Raw("SELECT name FROM report_time_zone").Scan(&recorded).Error; err != nil || recorded != zone {
				t.Fatalf("report tables in %q (%v), want %s", recorded, err, zone)
			}
			drift, err := store.ReportAggregateDrift(ctx, db, 5)
			if err != nil || len(drift) > 0 {
				t.Fatalf("report tables in %s: %v %v", zone, drift, err)
			}
			return srv
		}
		var managerID string
		if err := db.Gorm.Raw("SELECT id FROM users WHERE email = ?", "manager@demo.fieldsync.dev").Scan(&managerID).Error; err != nil {
			t.Fatal(err)
		}
		manager := domain.Caller{UserID: managerID, Role: domain.RoleManager}
		p, err := reports.ParseParams(demoNow, "2026-03-01", "2026-03-20", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, zone := range []string{"Europe/Berlin", "America/Los_Angeles", "UTC"} {
			srv := start(zone)
			if srv.Zone.String() != zone {
				t.Fatalf("server zone %s, want %s", srv.Zone, zone)
			}
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			want, err := reports.New(db, reports.Cadence{A: 7, B: 14, C: 30}, "EUR").WithLocation(loc).Coverage(ctx, manager, p)
			if err != nil {
				t.Fatal(err)
			}
			b := &browser{app: srv.App, cookies: map[string]*http.Cookie{}}
			if resp, _ := b.signIn(t, "manager@demo.fieldsync.dev", "demo-manager-pass"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in = %d", resp.StatusCode)
			}
			resp, page := b.send(t, "GET", "/dashboard?from=2026-03-01&to=2026-03-20", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("dashboard = %d", resp.StatusCode)
			}
			if !strings.Contains(page, `data-testid="time-zone"`) || !strings.Contains(page, ">Days in "+zone+"<") ||
				!strings.Contains(page, "(20 days, "+zone+")") {
				t.Errorf("%s: the dashboard does not name the zone of its days", zone)
			}
			for id, v := range map[string]any{"total-orders": want.Totals.Orders, "total-revenue-cents": want.Totals.RevenueCents,
				"total-coverage-pct": want.Totals.CoveragePct, "total-overdue-accounts": want.Totals.OverdueAccounts} {
				w, _ := json.Marshal(v)
				if got := testValue(t, page, id); got != string(w) {
					t.Errorf("%s: %s = %s on the page, %s in %s days", zone, id, got, w, zone)
				}
			}
		}
	})
}
