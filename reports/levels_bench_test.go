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
}
