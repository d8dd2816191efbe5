package store

import (
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
)

// A create may reuse the id of a row that was deleted: a device re-creating a
// visit it deleted, a manager planning under an id that was used, a conflict
// resolution writing back a row a device edited offline after it was deleted.
// Its tombstones are still in the change log, so the row cannot start again at
// version 1: it takes the version after its last logged one and replaces its
// tombstones, and a device that still holds the old row (or a delete at that
// version) takes the new one as a newer version. Every create of a visit, an
// order or a note goes through here; the tables ops administers are never
// deleted. Once compaction has removed an id's tombstones, devices that could
// hold the old row have been reset (their cursors are behind the horizon), so
// starting again at 1 is safe.

// nextVersion is the version a row written under id must take: 1 for an id
// never used, else one past the highest version logged for it.
func nextVersion(tx *Tx, table, id string) (int64, bool, error) {
	var v *int64
	if err := tx.g.Model(&ChangeEntry{}).Select("MAX(version)").Where("tbl = ? AND row_id = ?", table, id).
		Scan(&v).Error; err != nil {
		return 0, false, fmt.Errorf("last version of %s %s: %w", table, id, err)
	}
	if v == nil {
		return 1, false, nil
	}
	return *v + 1, true, nil
}

// LoggedIDs reports which of ids of table have entries in the change log: for
// ids with no row, those that were deleted (their tombstones are kept), whose
// re-creation must go through recreate.
func LoggedIDs(tx *Tx, table string, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var found []string
	if err := tx.g.Model(&ChangeEntry{}).Distinct("row_id").Where("tbl = ? AND row_id IN ?", table, ids).
		Pluck("row_id", &found).Error; err != nil {
		return nil, fmt.Errorf("logged %s: %w", table, err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

func recreate(tx *Tx, table, id string, row func(version int64) any, keys []string) (int64, error) {
	version, used, err := nextVersion(tx, table, id)
	if err != nil {
		return 0, err
	}
	if err := tx.g.Create(row(version)).Error; err != nil {
		return 0, fmt.Errorf("create %s: %w", table, Translate(err, what[table]))
	}
	return version, LogChange(tx, Change{Table: table, RowID: id, Version: version, Keys: keys, Created: !used})
}

// what names a table's row in error messages.
var what = map[string]string{domain.TableVisits: "visit", domain.TableOrders: "order", domain.TableAccountNotes: "account note",
	domain.TableAttachments: "attachment"}
