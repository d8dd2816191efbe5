package reports

import (
	"context"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/export"
	"github.com/fieldsync/fieldsync/store"
)

// Export is a report made ready for a file (docs/api.md "Exports"): its
// tables, and the name of the file without its extension. The caller's role
// and scope are checked before it is returned, so an error still becomes an
// HTTP error; the tables of the lists (overdue, sync health) read their rows
// page by page while the file is written.
type Export struct {
	Name   string
	Tables []export.Table
}

// exportPage is how many rows a list export reads per query: one short read
// transaction each, so a long download holds no transaction (nor its
// snapshot) open while the client reads.
const exportPage = 1000

func fileName(report string, p Params) string {
	return "fieldsync-" + report + "-" + Date(p.From).String() + "-to-" + Date(p.To).String()
}

type periodTotals struct {
	From     Date   `json:"from"`
	To       Date   `json:"to"`
	Days     int    `json:"days"`
	Currency string `json:"currency"`
	Metrics
}

// CoverageExport is the coverage report as three tables: territories, reps
// and totals (with the period).
func (s *Service) CoverageExport(ctx context.Context, c domain.Caller, p Params) (Export, error) {
	r, err := s.Coverage(ctx, c, p)
	if err != nil {
		return Export{}, err
	}
	return Export{Name: fileName("coverage", p), Tables: []export.Table{
		structTable("territories", r.Territories, nil, nil),
		structTable("reps", r.Reps, nil, nil),
		structTable("totals", []periodTotals{{r.From, r.To, r.Days, r.Currency, r.Totals}}, nil, nil),
	}}, nil
}

type orderTotals struct {
	From     Date   `json:"from"`
	To       Date   `json:"to"`
	Currency string `json:"currency"`
	StatusAmount
}

// OrdersExport is the orders report: territories (with a count and a value
// column per status), the organisation's by_status, and totals.
func (s *Service) OrdersExport(ctx context.Context, c domain.Caller, p Params) (Export, error) {
	r, err := s.Orders(ctx, c, p)
	if err != nil {
		return Export{}, err
	}
	var extra []string
	for _, st := range orderStatuses {
		extra = append(extra, "count_"+st, "value_cents_"+st)
	}
	byStatus := func(t TerritoryOrders) []any {
		out := make([]any, 0, 2*len(t.ByStatus))
		for _, sa := range t.ByStatus {
			out = append(out, sa.Count, sa.ValueCents)
		}
		return out
	}
	return Export{Name: fileName("orders-report", p), Tables: []export.Table{
		structTable("territories", r.Territories, extra, byStatus),
		structTable("by_status", r.ByStatus, nil, nil),
		structTable("totals", []orderTotals{{r.From, r.To, r.Currency, r.Totals}}, nil, nil),
	}}, nil
}

type kpiTotals struct {
	Period             string `json:"period"`
	PeriodStart        Date   `json:"period_start"`
	PeriodEnd          Date   `json:"period_end"`
	AsOf               Date   `json:"as_of"`
	Days               int    `json:"days"`
	DaysElapsed        int    `json:"days_elapsed"`
	WorkingDays        int    `json:"working_days"`
	WorkingDaysElapsed int    `json:"working_days_elapsed"`
	Previous           string `json:"previous_period"`
	YearAgo            string `json:"year_ago_period"`
	Currency           string `json:"currency"`
	KPIMetrics
}

// KPIsExport is the KPI report (targets and attainment included): territories,
// reps, and totals with the period.
func (s *Service) KPIsExport(ctx context.Context, c domain.Caller, p KPIParams) (Export, error) {
	r, err := s.KPIs(ctx, c, p)
	if err != nil {
		return Export{}, err
	}
	tot := kpiTotals{r.Period, r.PeriodStart, r.PeriodEnd, r.AsOf, r.Days, r.DaysElapsed, r.WorkingDays,
		r.WorkingDaysElapsed, r.Previous, r.YearAgo, r.Currency, r.Totals}
	return Export{Name: "fieldsync-kpis-" + r.Period + "-as-of-" + r.AsOf.String(), Tables: []export.Table{
		structTable("territories", r.Territories, nil, nil),
		structTable("reps", r.Reps, nil, nil),
		structTable("totals", []kpiTotals{tot}, nil, nil),
	}}, nil
}

// SyncHealthExport lists every device of the report, page after page of the
// JSON report's own order; the first page is read now, so a refusal is an
// HTTP error.
func (s *Service) SyncHealthExport(ctx context.Context, c domain.Caller, p Params) (Export, error) {
	first, err := s.SyncHealth(ctx, c, p, "", exportPage)
	if err != nil {
		return Export{}, err
	}
	t := structTable[DeviceHealth]("devices", nil, nil, nil)
	t.Rows = func(ctx context.Context, emit func(export.Row) error) error {
		page := first
		for {
			if err := structTable("devices", page.Items, nil, nil).Rows(ctx, emit); err != nil {
				return err
			}
			if page.NextCursor == nil {
				return nil
			}
			if page, err = s.SyncHealth(ctx, c, p, *page.NextCursor, exportPage); err != nil {
				return err
			}
		}
	}
	return Export{Name: fileName("sync-health", p), Tables: []export.Table{t}}, nil
}

// OverdueExport lists every overdue account of the scope in the report's
// order, exportPage accounts per query, with the rep ids and names as two
// cells ("; " between names). The scope is resolved once, now, so a refusal
// is an HTTP error and each page costs only its own query.
func (s *Service) OverdueExport(ctx context.Context, c domain.Caller, p Params) (Export, error) {
	return s.overdueExport(ctx, c, p, exportPage)
}

func (s *Service) overdueExport(ctx context.Context, c domain.Caller, p Params, size int) (Export, error) {
	sc, err := s.scopeOf(ctx, c, kindOverdue, p.TerritoryID)
	if err != nil {
		return Export{}, err
	}
	repCells := func(a OverdueAccount) []any {
		ids, ns := make([]string, len(a.Reps)), make([]string, len(a.Reps))
		for i, r := range a.Reps {
			ids[i], ns[i] = r.ID, r.Name
		}
		return []any{strings.Join(ids, "; "), strings.Join(ns, "; ")}
	}
	t := structTable[OverdueAccount]("overdue", nil, []string{"rep_ids", "rep_names"}, nil)
	t.Rows = func(ctx context.Context, emit func(export.Row) error) error {
		if sc.empty() {
			return nil
		}
		var cur *overdueCursor
		for {
			rows, err := s.overduePage(ctx, sc, p, cur, size)
			if err != nil {
				return err
			}
			if err := structTable("overdue", rows, nil, repCells).Rows(ctx, emit); err != nil {
				return err
			}
			if len(rows) < size {
				return nil
			}
			next := cursorOf(rows[len(rows)-1])
			cur = &next
		}
	}
	return Export{Name: fileName("overdue", p), Tables: []export.Table{t}}, nil
}

// overduePage is one page of the overdue report after cur, as Overdue reads
// it, for a scope already resolved.
func (s *Service) overduePage(ctx context.Context, sc scope, p Params, cur *overdueCursor, size int) ([]OverdueAccount, error) {
	var rows []OverdueAccount
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		rows = nil
		for _, class := range []string{domain.ClassA, domain.ClassB, domain.ClassC} {
			got, err := s.overdueOfClass(tx, sc, p.To, class, cur, size)
			if err != nil {
				return err
			}
			rows = append(rows, got...)
		}
		sortOverdue(rows)
		rows = rows[:min(len(rows), size)]
		if err := s.attachReps(tx, rows); err != nil {
			return err
		}
		for i := range rows {
			rows[i].TerritoryName = sc.name(rows[i].TerritoryID)
		}
		return nil
	})
	return rows, err
}
