package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// The report tables (migration 00004) are kept by triggers. Each has a view
// named <table>_expected that computes the same rows from the base tables;
// these functions compare the two, or rebuild a table from its view, for tests
// and for an operator who wrote to the base tables with triggers disabled.

type reportAggregate struct {
	table   string
	columns string
	// Day tables: their deltas table, and the stored form (folded rows plus
	// deltas, summed; a sum of zero is the same as no row).
	deltas string
	sums   string
}

var reportAggregates = []reportAggregate{
	{table: "report_accounts", columns: "account_id, territory_id, class, status, last_completed_at"},
	{table: "report_visit_days", columns: "day, territory_id, rep_id, planned, completed",
		deltas: "report_visit_deltas",
		sums: `SELECT day, territory_id, rep_id, CAST(SUM(planned) AS bigint) AS planned,
  CAST(SUM(completed) AS bigint) AS completed FROM (%s) x GROUP BY day, territory_id, rep_id
  HAVING SUM(planned) <> 0 OR SUM(completed) <> 0`},
	{table: "report_order_days", columns: "day, territory_id, rep_id, orders, revenue_cents",
		deltas: "report_order_deltas",
		sums: `SELECT day, territory_id, rep_id, CAST(SUM(orders) AS bigint) AS orders,
  CAST(SUM(revenue_cents) AS bigint) AS revenue_cents FROM (%s) x GROUP BY day, territory_id, rep_id
  HAVING SUM(orders) <> 0 OR SUM(revenue_cents) <> 0`},
	{table: "report_order_status_days", columns: "day, territory_id, status, orders, value_cents",
		deltas: "report_order_status_deltas",
		sums: `SELECT day, territory_id, status, CAST(SUM(orders) AS bigint) AS orders,
  CAST(SUM(value_cents) AS bigint) AS value_cents FROM (%s) x GROUP BY day, territory_id, status
  HAVING SUM(orders) <> 0 OR SUM(value_cents) <> 0`},
}

func (a reportAggregate) stored() string {
	q := "SELECT " + a.columns + " FROM " + a.table
	if a.deltas == "" {
		return q
	}
	return fmt.Sprintf(a.sums, q+" UNION ALL SELECT "+a.columns+" FROM "+a.deltas)
}

func (a reportAggregate) expected() string {
	return "SELECT " + a.columns + " FROM " + a.table + "_expected"
}

// ReportAggregateDrift returns up to limit rows per table and side where the
// report tables differ from a computation from scratch, formatted for a person
// to read; none means the tables are exact. It reads every visit and order, so
// it is a check for tests and operators, not for a request path.
func ReportAggregateDrift(ctx context.Context, db *DB, limit int) ([]string, error) {
	var out []string
	err := db.ReadTx(ctx, func(tx *gorm.DB) error {
		for _, a := range reportAggregates {
			for _, side := range []struct{ name, q string }{
				{"stored, not expected", a.stored() + " EXCEPT " + a.expected()},
				{"expected, not stored", a.expected() + " EXCEPT " + a.stored()},
			} {
				var rows []map[string]any
				if err := tx.Raw(fmt.Sprintf("%s LIMIT %d", side.q, limit)).Scan(&rows).Error; err != nil {
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
	return db.Tx(ctx, func(tx *gorm.DB) error {
		if db.Dialect == Postgres {
			if err := tx.Exec("LOCK TABLE accounts, visits, orders IN SHARE MODE").Error; err != nil {
				return fmt.Errorf("lock base tables: %w", err)
			}
		}
		for _, a := range reportAggregates {
			if a.deltas != "" {
				if err := tx.Exec("DELETE FROM " + a.deltas).Error; err != nil {
					return fmt.Errorf("clear %s: %w", a.deltas, err)
				}
			}
			if err := tx.Exec("DELETE FROM " + a.table).Error; err != nil {
				return fmt.Errorf("clear %s: %w", a.table, err)
			}
			if err := tx.Exec("INSERT INTO " + a.table + " (" + a.columns + ") " + a.expected()).Error; err != nil {
				return fmt.Errorf("rebuild %s: %w", a.table, err)
			}
		}
		return nil
	})
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
