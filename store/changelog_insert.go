package store

import (
	"fmt"
	"strings"
)

// insertNewEntries appends entries to the change log, skipping any that are
// already there. GORM's CreateInBatches reflected over every entry and read
// back each seq, which nobody uses: for a push of 100 visit creates it was a
// sixth of the request's CPU.
func insertNewEntries(tx *Tx, entries []ChangeEntry) error {
	err := insertIgnoringConflicts(tx, "change_log (tbl, row_id, scope_key, op, reason, version, created_at)", 7, entries,
		func(args []any, e ChangeEntry) []any {
			return append(args, e.Tbl, e.RowID, e.ScopeKey, e.Op, e.Reason, e.Version, e.CreatedAt)
		})
	if err != nil {
		return fmt.Errorf("append change log: %w", err)
	}
	return nil
}

// insertIgnoringConflicts writes rows in multi-row INSERT … ON CONFLICT DO
// NOTHING statements (both dialects) of at most bulkBatch rows, built by hand:
// the push path's bulk writes, where GORM's reflection per row was a
// measurable share of the request's CPU. into is "table (col, …)" with cols
// columns; appendArgs appends one row's cols values.
func insertIgnoringConflicts[T any](tx *Tx, into string, cols int, rows []T, appendArgs func([]any, T) []any) error {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for start := 0; start < len(rows); start += bulkBatch {
		batch := rows[start:min(start+bulkBatch, len(rows))]
		var sb strings.Builder
		sb.Grow(64 + len(into) + len(batch)*(len(tuple)+1))
		sb.WriteString("INSERT INTO ")
		sb.WriteString(into)
		sb.WriteString(" VALUES ")
		args := make([]any, 0, len(batch)*cols)
		for i, r := range batch {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(tuple)
			args = appendArgs(args, r)
		}
		sb.WriteString(" ON CONFLICT DO NOTHING")
		if err := tx.g.Exec(sb.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}
