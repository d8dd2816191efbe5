package device

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// applyResults applies a push response in one local transaction and returns how
// many mutations of the batch it answered.
func (c *Client) applyResults(ctx context.Context, batch []outboxRow, results []wire.MutationResult, rep *SyncReport) (int, error) {
	byID := make(map[string]outboxRow, len(batch))
	for _, m := range batch {
		byID[m.MutationID] = m
	}
	l := c.local()
	answered := 0
	err := c.tx(ctx, func(tx *gorm.DB) error {
		for _, r := range results {
			m, ok := byID[r.MutationID]
			if !ok {
				continue
			}
			delete(byID, r.MutationID)
			if err := l.applyResult(tx, m, r, rep); err != nil {
				return err
			}
			answered++
		}
		return nil
	})
	return answered, err
}

func (l local) applyResult(tx *gorm.DB, m outboxRow, r wire.MutationResult, rep *SyncReport) error {
	switch r.Status {
	case wire.StatusApplied, wire.StatusMerged:
		if r.Status == wire.StatusApplied {
			rep.Applied++
		} else {
			rep.Merged++
		}
		if err := l.done(tx, m, r); err != nil {
			return err
		}
		return rebase(tx, m, r.Version)
	case wire.StatusConflict:
		rep.Conflicts++
		c := conflictRow{ConflictID: r.ConflictID, MutationID: m.MutationID, Tbl: m.Tbl, RowID: m.RowID,
			Op: m.Op, Patch: m.Patch, Reason: r.Reason, Version: r.Version, CreatedAt: l.now}
		if c.ConflictID == "" {
			c.ConflictID = m.MutationID // a record must be findable even if the server named none
		}
		if err := tx.Save(&c).Error; err != nil {
			return fmt.Errorf("record conflict: %w", err)
		}
		return l.done(tx, m, r)
	case wire.StatusRejected:
		rep.Rejected++
		e := &domain.Error{Code: domain.CodeInternal, Message: "rejected without a reason"}
		if r.Error != nil {
			e = &domain.Error{Code: domain.Code(r.Error.Code), Message: r.Error.Message, Fields: r.Error.Fields}
		}
		return l.fail(tx, m, e)
	}
	return fmt.Errorf("push: mutation %s: unknown result status %q", m.MutationID, r.Status)
}

// done removes an answered mutation and takes the server's row from the result
// (unless the local copy is already newer: an idempotent replay of an old answer).
func (l local) done(tx *gorm.DB, m outboxRow, r wire.MutationResult) error {
	if err := tx.Where("seq = ?", m.Seq).Delete(&outboxRow{}).Error; err != nil {
		return fmt.Errorf("remove answered mutation: %w", err)
	}
	if !domain.IsSyncedTable(m.Tbl) {
		return nil
	}
	cur, err := loadMirror(tx, m.Tbl, m.RowID)
	if err != nil {
		return err
	}
	switch {
	case cur != nil && cur.ServerRow != nil && cur.Version > r.Version:
		return l.materialise(tx, m.Tbl, m.RowID)
	case hasRow(r.Row):
		return l.applyServerRow(tx, m.Tbl, m.RowID, r.Version, r.Row, true)
	case hasRow(r.Fields):
		row, err := leanRow(m, r)
		if err != nil {
			return fmt.Errorf("push: mutation %s: %w", m.MutationID, err)
		}
		return l.applyServerRow(tx, m.Tbl, m.RowID, r.Version, row, true)
	default: // an applied delete
		return l.removeServerRow(tx, m.Tbl, m.RowID, true)
	}
}

func hasRow(row json.RawMessage) bool {
	return len(row) > 0 && string(row) != "null"
}

// fail keeps a refused mutation as failed (never resent) and restores the row's
// view to the server copy plus whatever else is pending.
func (l local) fail(tx *gorm.DB, m outboxRow, e *domain.Error) error {
	b, _ := json.Marshal(e) // a struct of strings always marshals
	s := string(b)
	err := tx.Model(&outboxRow{}).Where("seq = ?", m.Seq).Updates(map[string]any{"state": stateFailed, "error": s}).Error
	if err != nil {
		return fmt.Errorf("mark mutation failed: %w", err)
	}
	return l.materialise(tx, m.Tbl, m.RowID)
}

// rebase moves the later, unsent edits of the same row that started from the
// same version onto the version the server gave the acknowledged one: they were
// made on top of it, so the server must not see it as a concurrent change.
func rebase(tx *gorm.DB, m outboxRow, version int64) error {
	err := tx.Model(&outboxRow{}).
		Where("tbl = ? AND row_id = ? AND state = ? AND sent = ? AND seq > ? AND base_version = ?",
			m.Tbl, m.RowID, statePending, false, m.Seq, m.BaseVersion).
		Update("base_version", version).Error
	if err != nil {
		return fmt.Errorf("rebase later edits: %w", err)
	}
	return nil
}

// leanRow rebuilds the server's row from a lean applied result
// (docs/protocol.md §4.2): the patch this device sent, overlaid with the
// result's fields, plus id and version; every field named by neither is null.
// Rows of the tables a device writes are re-encoded through their domain type,
// so that the copy is byte for byte what a pull would bring.
func leanRow(m outboxRow, r wire.MutationResult) (json.RawMessage, error) {
	row := map[string]json.RawMessage{}
	if err := overlay(row, m.Patch); err != nil {
		return nil, fmt.Errorf("patch is not a JSON object: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.Fields, &fields); err != nil {
		return nil, fmt.Errorf("result fields are not a JSON object: %w", err)
	}
	for k, v := range fields {
		row[k] = v
	}
	row["id"], _ = json.Marshal(m.RowID)
	row["version"], _ = json.Marshal(r.Version)
	b, err := json.Marshal(row)
	if err != nil {
		return nil, fmt.Errorf("rebuild row: %w", err)
	}
	var typed any
	switch m.Tbl {
	case domain.TableVisits:
		typed = new(domain.Visit)
	case domain.TableOrders:
		typed = new(domain.Order)
	case domain.TableAccountNotes:
		typed = new(domain.AccountNote)
	case domain.TableAccounts:
		typed = new(domain.Account)
	default:
		return b, nil
	}
	if err := json.Unmarshal(b, typed); err != nil {
		return nil, fmt.Errorf("rebuild %s row: %w", m.Tbl, err)
	}
	return json.Marshal(typed)
}
