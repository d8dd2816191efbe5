package store

import (
	"fmt"
)

// DeletedRowKeys returns the scope keys under which table/id was deleted: empty
// when the row never existed (or its tombstones were compacted away). A push
// that edits a row tells "deleted since the device's copy" (a conflict) from
// "never existed" (a rejection) by it, and checks the pusher could see it.
func DeletedRowKeys(tx *Tx, table, id string) ([]string, error) {
	var keys []string
	err := tx.g.Model(&ChangeEntry{}).Where("tbl = ? AND row_id = ? AND op = ? AND reason = ?",
		table, id, OpDelete, ReasonDeleted).Pluck("scope_key", &keys).Error
	if err != nil {
		return nil, fmt.Errorf("tombstones of %s %s: %w", table, id, err)
	}
	return keys, nil
}
