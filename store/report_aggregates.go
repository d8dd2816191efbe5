package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// The report tables (migrations 00004 and 00023) are kept by triggers. Each has a view
// named <table>_expected that computes the same rows from the base tables;
// these functions compare the two, or rebuild a table from its view, for tests
// and for an operator who wrote to the base tables with triggers disabled.

type reportAggregate struct {
	table string
	keys  []string // every column of a table without counts
	// counts are summed columns: a day table's rows and its deltas add up,
	// and a key whose counts sum to zero is the same as no row.
	counts []string
	deltas string
}

var reportAggregates = []reportAggregate{
	{table: "report_accounts", keys: []string{"account_id", "territory_id", "class", "status", "last_completed_at"}},
	{table: "report_visit_days", keys: []string{"day", "territory_id", "rep_id"},
		counts: []string{"planned", "completed"}, deltas: "report_visit_deltas"},
	{table: "report_order_days", keys: []string{"day", "territory_id", "rep_id"},
		counts: []string{"orders", "revenue_cents"}, deltas: "report_order_deltas"},
	{table: "report_order_status_days", keys: []string{"day", "territory_id", "status"},
		counts: []string{"orders", "value_cents"}, deltas: "report_order_status_deltas"},
	// The KPI report's facts (migration 00023): rows are updated in place,
	// and one whose orders all went away is deleted.
	{table: "report_kpi_facts", keys: []string{"account_id", "rep_id", "day", "territory_id"},
		counts: []string{"orders", "revenue_cents", "submitted", "confirmed"}},
	{table: "report_kpi_accounts", keys: []string{"account_id", "first_day"}},
}

func (a reportAggregate) columns() string {
	return strings.Join(append(append([]string{}, a.keys...), a.counts...), ", ")
}

// stored is the table as reports read it: folded rows plus deltas, summed.
func (a reportAggregate) stored() string {
	q := "SELECT " + a.columns() + " FROM " + a.table
	if a.deltas == "" {
		return q
	}
	sums, nonZero := make([]string, len(a.counts)), make([]string, len(a.counts))
	for i, c := range a.counts {
		sums[i] = "CAST(SUM(" + c + ") AS bigint) AS " + c
		nonZero[i] = "SUM(" + c + ") <> 0"
	}
	keys := strings.Join(a.keys, ", ")
	return "SELECT " + keys + ", " + strings.Join(sums, ", ") +
		" FROM (" + q + " UNION ALL SELECT " + a.columns() + " FROM " + a.deltas + ") x" +
		" GROUP BY " + keys + " HAVING " + strings.Join(nonZero, " OR ")
}

func (a reportAggregate) expected() string {
	return "SELECT " + a.columns() + " FROM " + a.table + "_expected"
}

// ReportAggregateDrift returns up to limit rows per table and side where the
// report tables differ from a computation from scratch, formatted for a person
// to read; none means the tables are exact. It reads every visit and order, so
// it is a check for tests and operators, not for a request path.
func ReportAggregateDrift(ctx context.Context, db *DB, limit int) ([]string, error) {
	var out []string
	err := db.ReadTx(ctx, func(tx *Tx) error {
		for _, a := range reportAggregates {
			for _, side := range []struct{ name, q string }{
				{"stored, not expected", a.stored() + " EXCEPT " + a.expected()},
				{"expected, not stored", a.expected() + " EXCEPT " + a.stored()},
			} {
				var rows []map[string]any
				if err := tx.g.Raw(fmt.Sprintf("%s LIMIT %d", side.q, limit)).Scan(&rows).Error; err != nil {
					return fmt.Errorf("compare %s: %w", a.table, err)
				}
				for _, r := range rows {
					out = append(out, fmt.Sprintf("%s (%s): %s", a.table, side.name, formatRow(r)))
				}
			}
		}
		return nil
	})
	return out, err
}

func formatRow(r map[string]any) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := r[k]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		parts[i] = fmt.Sprintf("%s=%v", k, v)
	}
	return strings.Join(parts, " ")
}

// RebuildReportAggregates recomputes the report tables from the base tables in
// one transaction, keeping writers of accounts, visits and orders out until it
// commits (on SQLite the write transaction does that by itself).
func RebuildReportAggregates(ctx context.Context, db *DB) error {
	return db.InTx(ctx, func(tx *Tx) error {
		if err := lockReportBase(tx); err != nil {
			return err
		}
		return rebuildReportAggregates(tx)
	})
}

// lockReportBase keeps writers of the base tables out until tx ends (on SQLite
// the write transaction does that by itself).
func lockReportBase(tx *Tx) error {
	if tx.dialect != Postgres {
		return nil
	}
	if err := tx.g.Exec("LOCK TABLE accounts, visits, orders IN SHARE MODE").Error; err != nil {
		return fmt.Errorf("lock base tables: %w", err)
	}
	return nil
}

func rebuildReportAggregates(tx *Tx) error {
	for _, a := range reportAggregates {
		if a.deltas != "" {
			if err := tx.g.Exec("DELETE FROM " + a.deltas).Error; err != nil {
				return fmt.Errorf("clear %s: %w", a.deltas, err)
			}
		}
		if err := tx.g.Exec("DELETE FROM " + a.table).Error; err != nil {
			return fmt.Errorf("clear %s: %w", a.table, err)
		}
		if err := tx.g.Exec("INSERT INTO " + a.table + " (" + a.columns() + ") " + a.expected()).Error; err != nil {
			return fmt.Errorf("rebuild %s: %w", a.table, err)
		}
	}
	return nil
}

// FoldReportDeltas moves the report deltas committed so far into the day
// tables and returns how many it moved. Reports are exact either way (they add
// the deltas not folded yet); folding keeps what they add small. The server
// runs it every few seconds; any number may run at once. SQLite keeps no
// deltas.
func FoldReportDeltas(ctx context.Context, db *DB) (int64, error) {
	if db.Dialect != Postgres {
		return 0, nil
	}
	var n int64
	if err := db.Gorm.WithContext(ctx).Raw("SELECT fieldsync_report_fold()").Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("fold report deltas: %w", err)
	}
	return n, nil
}
