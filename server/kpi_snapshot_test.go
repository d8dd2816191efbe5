package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// TestDashboard_KPIPanelReadsTheKPISnapshot: with every scope reading KPI
// snapshots, the director's dashboard panel answers from the snapshot the
// API's KPI report loaded for the same window (an order written after it
// does not show in either), not a query of its own; a server without KPI
// snapshots shows the order (docs/reports.md "Large scopes: snapshots").
func TestDashboard_KPIPanelReadsTheKPISnapshot(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newReportEnv(t, db) // the demo organisation and its logins
		cfg := server.DefaultConfig()
		cfg.BcryptCost = bcrypt.MinCost
		cfg.ReportSnapshotTerritories = 1 // the demo organisation is small: every scope reads snapshots
		cfg.ReportKPISnapshotMaxAge = time.Hour
		srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		e.srv = srv
		// The dashboard's panel: the month of `to`, as of `to`.
		const kpiQuery = "/v1/reports/kpis?period=2026-03&as_of=2026-03-20&depth=1"
		var before reports.KPIs
		e.get(t, domain.RoleDirector, kpiQuery, &before)

		var ids struct{ Account, Rep string }
		if err := db.Gorm.Raw(`SELECT a.id AS account, u.id AS rep FROM accounts a
			JOIN user_territories ut ON ut.territory_id = a.territory_id JOIN users u ON u.id = ut.user_id AND u.role = 'rep'
			ORDER BY a.id, u.id LIMIT 1`).Scan(&ids).Error; err != nil || ids.Account == "" {
			t.Fatalf("an account and its rep: %v", err)
		}
		err = db.InTx(context.Background(), func(tx *store.Tx) error {
			acc, _, err := store.GetAccount(tx, ids.Account, false)
			if err != nil {
				return err
			}
			id := uuid.NewString()
			submitted, number := time.Date(2026, 3, 19, 10, 0, 0, 0, time.UTC), "SO-"+id[:8]
			_, err = store.CreateOrder(tx, acc, domain.Order{ID: id, AccountID: acc.ID, RepID: ids.Rep, Status: "confirmed",
				TotalCents: 12345, Currency: "EUR", SubmittedAt: &submitted, Number: &number})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		b := &browser{app: srv.App, cookies: map[string]*http.Cookie{}}
		if resp, _ := b.signIn(t, "director@demo.fieldsync.dev", "demo-director-pass"); resp.StatusCode != 303 {
			t.Fatalf("director sign-in = %d", resp.StatusCode)
		}
		resp, page := b.send(t, "GET", "/dashboard?from=2026-02-21&to=2026-03-20", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("dashboard = %d", resp.StatusCode)
		}
		if got := testValue(t, page, "kpi-revenue-cents"); got != strconv.FormatInt(before.Totals.RevenueCents, 10) {
			t.Errorf("panel revenue %s after the order; want the snapshot's %d", got, before.Totals.RevenueCents)
		}

		fresh := server.DefaultConfig()
		fresh.BcryptCost = bcrypt.MinCost
		fresh.ReportKPISnapshotMaxAge = 0
		if e.srv, err = server.New(fresh, db, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		var after reports.KPIs
		e.get(t, domain.RoleDirector, kpiQuery, &after)
		if after.Totals.RevenueCents != before.Totals.RevenueCents+12345 {
			t.Errorf("without KPI snapshots: revenue %d, want %d", after.Totals.RevenueCents, before.Totals.RevenueCents+12345)
		}
	})
}
