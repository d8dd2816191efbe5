package store

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// Change-log operations and delete reasons, as they appear on the wire.
const (
	OpUpsert = "upsert"
	OpDelete = "delete"

	ReasonDeleted    = "deleted"
	ReasonOutOfScope = "out_of_scope"
)

// ChangeEntry is one change-log row: the latest state of one row under one scope
// key. Xid is 0 on SQLite.
type ChangeEntry struct {
	Seq       int64  `gorm:"primaryKey;autoIncrement"`
	Xid       uint64 `gorm:"-"`
	Tbl       string
	RowID     string
	ScopeKey  string
	Op        string
	Reason    *string
	Version   int64
	CreatedAt time.Time
}

func (ChangeEntry) TableName() string { return "change_log" }

// Change describes one write to a synced row for the log.
type Change struct {
	Table   string
	RowID   string
	Version int64
	Deleted bool     // the row was deleted: its entries become tombstones
	Keys    []string // the row's scope keys after the write (before, for a delete)
	Created bool     // the row is new: it has no entries to replace
}

// LogChange replaces the change-log entries of one row in the caller's
// transaction. Keys the row lost get an out_of_scope tombstone first, so a device
// that saw the row through a lost key deletes it before any later upsert reaches
// it through a key it kept; then each current key gets the new entry. Keeping one
// live entry per (row, key) is write-time compaction: the log never holds more
// than the rows plus tombstones.
func LogChange(tx *Tx, c Change) error {
	var lost []string
	if !c.Created {
		// One statement removes every live upsert of the row and whatever the
		// current keys held, and says which upserts were under keys the row no
		// longer has: those get tombstones.
		q := "DELETE FROM change_log WHERE tbl = ? AND row_id = ? AND op = ?"
		args := []any{c.Table, c.RowID, OpUpsert}
		if len(c.Keys) > 0 {
			q = "DELETE FROM change_log WHERE tbl = ? AND row_id = ? AND (op = ? OR scope_key IN ?)"
			args = append(args, c.Keys)
		}
		var old []ChangeEntry
		if err := tx.g.Raw(q+" RETURNING scope_key, op", args...).Scan(&old).Error; err != nil {
			return fmt.Errorf("replace change log of %s %s: %w", c.Table, c.RowID, err)
		}
		current := make(map[string]bool, len(c.Keys))
		for _, k := range c.Keys {
			current[k] = true
		}
		for _, e := range old {
			if e.Op == OpUpsert && !current[e.ScopeKey] {
				lost = append(lost, e.ScopeKey)
			}
		}
	}
	// Devices that lost the row must hear of it too: they get its delete.
	NoteKeys(tx, lost...)
	NoteKeys(tx, c.Keys...)
	entries := make([]ChangeEntry, 0, len(lost)+len(c.Keys))
	for _, k := range lost {
		entries = append(entries, entry(c, k, OpDelete, ReasonOutOfScope, tx.now))
	}
	for _, k := range c.Keys {
		if c.Deleted {
			entries = append(entries, entry(c, k, OpDelete, ReasonDeleted, tx.now))
		} else {
			entries = append(entries, entry(c, k, OpUpsert, "", tx.now))
		}
	}
	if len(entries) == 0 {
		return nil
	}
	if err := tx.g.Create(&entries).Error; err != nil {
		return fmt.Errorf("append change log of %s %s: %w", c.Table, c.RowID, err)
	}
	return nil
}

func entry(c Change, key, op, reason string, now time.Time) ChangeEntry {
	e := ChangeEntry{Tbl: c.Table, RowID: c.RowID, ScopeKey: key, Op: op, Version: c.Version, CreatedAt: now}
	if reason != "" {
		e.Reason = &reason
	}
	return e
}

// LogChanges writes the entries of many rows at once: bulk loads (fixtures)
// and the deferred creates of a push. Every row must be new.
func LogChanges(tx *Tx, cs []Change) error {
	var entries []ChangeEntry
	for _, c := range cs {
		NoteKeys(tx, c.Keys...)
		for _, k := range c.Keys {
			entries = append(entries, entry(c, k, OpUpsert, "", tx.now))
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return insertNewEntries(tx, entries)
}

// relogDependents rewrites the log entries of an account's visits, orders and
// notes after the account's scope keys changed, so devices that lost the account
// get deletes for its history and devices that gained it get the history.
func relogDependents(tx *Tx, accountID string, keys []string) error {
	type dep struct {
		ID      string
		Version int64
	}
	for _, table := range []string{domain.TableVisits, domain.TableOrders, domain.TableAccountNotes, domain.TableAttachments} {
		var deps []dep
		if err := tx.g.Table(table).Select("id", "version").Where("account_id = ?", accountID).
			Find(&deps).Error; err != nil {
			return fmt.Errorf("list %s of account %s: %w", table, accountID, err)
		}
		for _, d := range deps {
			if err := LogChange(tx, Change{Table: table, RowID: d.ID, Version: d.Version, Keys: keys}); err != nil {
				return err
			}
		}
	}
	return nil
}
