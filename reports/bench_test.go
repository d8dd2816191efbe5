package reports

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// The coverage benchmarks run against a database already loaded by
// `fieldsync seed --scale N` (docs/benchmarks.md, "Reports"), named by
// FIELDSYNC_BENCH_REPORTS_URL; FIELDSYNC_BENCH_EXPLAIN=1 also logs the plans.
//
//	FIELDSYNC_BENCH_REPORTS_URL=postgres://... go test ./reports -run '^$' -bench Coverage -benchtime 5x

type benchEnv struct {
	db       *store.DB
	svc      *Service
	director domain.Caller
	p        Params
	big      string // the territory holding the most active accounts
	region   string // the region above it
}

func openBench(b *testing.B) benchEnv {
	b.Helper()
	url := os.Getenv("FIELDSYNC_BENCH_REPORTS_URL")
	if url == "" {
		b.Skip("set FIELDSYNC_BENCH_REPORTS_URL to a database loaded with `fieldsync seed --scale N`")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	e := benchEnv{db: db, svc: New(db, DefaultCadence, "EUR")}
	var dir struct{ ID string }
	if err := db.Gorm.Raw("SELECT id FROM users WHERE role = ? ORDER BY id LIMIT 1", domain.RoleDirector).Scan(&dir).Error; err != nil || dir.ID == "" {
		b.Fatalf("no director in the loaded database: %v", err)
	}
	e.director = domain.Caller{UserID: dir.ID, Role: domain.RoleDirector}
	var big struct{ TerritoryID, ParentID string }
	if err := db.Gorm.Raw(`SELECT a.territory_id AS territory_id, t.parent_id AS parent_id FROM accounts a
		JOIN territories t ON t.id = a.territory_id WHERE a.status = 'active'
		GROUP BY a.territory_id, t.parent_id ORDER BY COUNT(*) DESC LIMIT 1`).Scan(&big).Error; err != nil {
		b.Fatal(err)
	}
	e.big, e.region = big.TerritoryID, big.ParentID
	var last struct{ T nullTime }
	if err := db.Gorm.Raw("SELECT MAX(checked_in_at) AS t FROM visits WHERE status = 'completed'").Scan(&last).Error; err != nil {
		b.Fatal(err)
	}
	e.p, err = ParseParams(last.T.Time, "", "", "")
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func BenchmarkReports_Coverage(b *testing.B) {
	e := openBench(b)
	for _, tc := range []struct {
		name, territory string
		weeksAgo        int // the period ends this many weeks before the data's last check-in
	}{
		{"Organisation", "", 0}, {"Region", e.region, 0}, {"Territory", e.big, 0},
		{"OrganisationPreviousPeriod", "", 4},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := e.p
			p.TerritoryID = tc.territory
			p.From, p.To = p.From.AddDate(0, 0, -7*tc.weeksAgo), p.To.AddDate(0, 0, -7*tc.weeksAgo)
			var cov Coverage
			for b.Loop() {
				var err error
				if cov, err = e.svc.Coverage(context.Background(), e.director, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cov.Totals.Accounts), "accounts")
			if os.Getenv("FIELDSYNC_BENCH_EXPLAIN") == "1" {
				e.explain(b, p)
			}
		})
	}
}

// BenchmarkReports_Others times the other reports the dashboard shows, for the
// whole organisation: the first page of overdue accounts (the dashboard's 25),
// the orders report and the account plot's 2,000 points.
func BenchmarkReports_Others(b *testing.B) {
	e := openBench(b)
	ctx := context.Background()
	b.Run("Overdue25", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.svc.Overdue(ctx, e.director, e.p, "", 25); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Orders", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.svc.Orders(ctx, e.director, e.p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AccountMap2000", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := e.svc.AccountMap(ctx, e.director, e.p, 2000); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// explain logs EXPLAIN (ANALYZE, BUFFERS) of the coverage queries for p.
func (e benchEnv) explain(b *testing.B, p Params) {
	b.Helper()
	sc, err := e.svc.resolveScope(e.db.Autocommit(context.Background()), e.director, kindCoverage, p.TerritoryID)
	if err != nil {
		b.Fatal(err)
	}
	queries := e.svc.coverageQueries(sc, p)
	err = e.db.ReadTx(context.Background(), func(tx *store.Tx) error {
		if err := e.svc.reportMemory(tx); err != nil {
			return err
		}
		for _, q := range queries {
			var lines []string
			if err := tx.Query(&lines, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...); err != nil {
				return err
			}
			b.Logf("%s:\n%s", q.name, strings.Join(lines, "\n"))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
