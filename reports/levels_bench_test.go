package reports

import (
	"context"
	"testing"
	"time"
)

// BenchmarkReports_KPIs times the KPI report for the whole organisation and
// for one region, at one level of the tree and a page of reps (the API's
// default), as of the data's last check-in, and for the whole organisation
// over the complete month before (docs/benchmarks.md "Views at the
// head of sales' scale").
//
//	FIELDSYNC_BENCH_REPORTS_URL=postgres://... go test ./reports -run '^$' -bench 'KPIs|Levels' -benchtime 3x
func BenchmarkReports_KPIs(b *testing.B) {
	e := openBench(b)
	lastMonth := e.p.To.AddDate(0, 0, -e.p.To.Day()) // the last day of the month before
	for _, tc := range []struct {
		name, territory string
		period, asOf    string
	}{
		{"Organisation", "", "", ""}, {"Region", e.region, "", ""},
		// The month before, complete: its whole window of buyers, and the
		// month before it to compare.
		{"OrganisationLastMonth", "", lastMonth.Format("2006-01"), lastMonth.Format(time.DateOnly)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			kp, err := ParseKPIParams(e.p.To, tc.period, tc.asOf, tc.territory)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := e.svc.KPIsLevel(context.Background(), e.director, kp, Level{Limit: DefaultRepLimit}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The API's default read from a snapshot already loaded (docs/reports.md
	// "Large scopes: snapshots"): a director's request while one is young
	// enough, and a region's narrowed from it; the first request of a
	// window pays the load above ("Organisation").
	snapped := e.svc.WithKPISnapshots(NewSnapshots(time.Hour, 1))
	for _, tc := range []struct{ name, territory string }{{"OrganisationSnapshot", ""}, {"RegionSnapshot", e.region}} {
		b.Run(tc.name, func(b *testing.B) {
			kp, err := ParseKPIParams(e.p.To, "", "", tc.territory)
			if err != nil {
				b.Fatal(err)
			}
			lv := Level{Limit: DefaultRepLimit, TerritoryLimit: DefaultRepLimit}
			if _, err := snapped.KPIsLevel(context.Background(), e.director, kp, lv); err != nil { // loads it
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := snapped.KPIsLevel(context.Background(), e.director, kp, lv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReports_Levels times the coverage and orders reports at one level
// of the tree, for the whole organisation.
func BenchmarkReports_Levels(b *testing.B) {
	e := openBench(b)
	lv := Level{Limit: DefaultRepLimit}
	b.Run("Coverage", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.svc.CoverageLevel(context.Background(), e.director, e.p, lv); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Orders", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.svc.OrdersLevel(context.Background(), e.director, e.p, lv); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same read from a snapshot already loaded (docs/reports.md "Large
	// scopes: snapshots"): what a director's request costs while one is
	// young enough; the first request of a period pays the load above.
	snapped := e.svc.WithSnapshots(NewSnapshots(time.Hour, 1))
	b.Run("CoverageSnapshot", func(b *testing.B) {
		if _, err := snapped.CoverageLevel(context.Background(), e.director, e.p, lv); err != nil { // loads it
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := snapped.CoverageLevel(context.Background(), e.director, e.p, lv); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("OrdersSnapshot", func(b *testing.B) {
		if _, err := snapped.OrdersLevel(context.Background(), e.director, e.p, lv); err != nil { // loads it
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := snapped.OrdersLevel(context.Background(), e.director, e.p, lv); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The caller's scope and the whole territory tree, which every report
	// loads and a dashboard page now loads once (ForPage).
	b.Run("Scope", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.svc.ForPage(context.Background(), e.director); err != nil {
				b.Fatal(err)
			}
		}
	})
}
