package device

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// Mutation ops.
const (
	opUpsert = "upsert"
	opDelete = "delete"
)

// OutboxEntry is one offline write waiting in the outbox (State "pending") or
// refused by the server (State "failed", with Err).
type OutboxEntry struct {
	Seq         int64
	MutationID  string
	Table       string
	Op          string
	RowID       string
	BaseVersion int64
	Patch       json.RawMessage // nil for a delete
	State       string
	Sent        bool // carried by a request already: frozen from then on
	Err         *domain.Error
	CreatedAt   time.Time
}

// Conflict is a mutation the server did not write because the row had moved on
// (docs/protocol.md §4.3); the local row now holds the server's version, and a person
// resolves the conflict on the server (§5).
type Conflict struct {
	ConflictID string
	MutationID string
	Table      string
	RowID      string
	Op         string
	Patch      json.RawMessage // the change the device attempted
	Reason     string
	Version    int64 // the server row's version when the conflict was recorded
	CreatedAt  time.Time
}

// edit is one local write: a mutation to queue. coalesce lets it merge into an
// unsent pending mutation of the same row (the typed workflows); Mutate does not.
type edit struct {
	table, op, id string
	patch         map[string]any
	coalesce      bool
}

// enqueue records e in the outbox and rebuilds the row's view, in the caller's
// transaction.
func (l local) enqueue(tx *gorm.DB, e edit) error {
	var patch *string
	if e.op != opDelete {
		b, err := json.Marshal(e.patch)
		if err != nil {
			return domain.Errorf(domain.CodeBadRequest, "patch does not encode as JSON: %v", err)
		}
		s := string(b)
		patch = &s
	}
	base, err := baseVersion(tx, e.table, e.id)
	if err != nil {
		return err
	}
	done := false
	if e.coalesce {
		if done, err = l.coalesce(tx, e, base, patch); err != nil {
			return err
		}
	}
	if !done {
		row := outboxRow{MutationID: uuid.NewString(), Tbl: e.table, Op: e.op, RowID: e.id,
			BaseVersion: base, Patch: patch, State: statePending, CreatedAt: l.now}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("append to outbox: %w", err)
		}
	}
	return l.materialise(tx, e.table, e.id)
}

// baseVersion is the server version the edit starts from: the server copy's
// version, 0 for a row the server has not acknowledged.
func baseVersion(tx *gorm.DB, table, id string) (int64, error) {
	if !domain.IsSyncedTable(table) {
		return 0, nil
	}
	m, err := loadMirror(tx, table, id)
	if err != nil || m == nil || m.ServerRow == nil {
		return 0, err
	}
	return m.Version, nil
}

// coalesce folds e into the row's unsent pending mutations. An upsert merges
// into the last one's patch. A delete replaces them; if the row never reached
// the server at all, the create and the delete cancel out and nothing is sent.
func (l local) coalesce(tx *gorm.DB, e edit, base int64, patch *string) (bool, error) {
	muts, err := pendingFor(tx, e.table, e.id)
	if err != nil || len(muts) == 0 {
		return false, err
	}
	last := muts[len(muts)-1]
	if last.Sent {
		return false, nil
	}
	if e.op == opUpsert {
		if last.Op != opUpsert {
			return false, nil
		}
		merged := *last.Patch
		if err := mergePatch(&merged, *patch); err != nil {
			return false, err
		}
		return true, tx.Model(&outboxRow{}).Where("seq = ?", last.Seq).Update("patch", merged).Error
	}
	var unsent []int64
	anySent := false
	for _, m := range muts {
		if m.Sent {
			anySent = true
		} else {
			unsent = append(unsent, m.Seq)
		}
	}
	if err := tx.Where("seq IN ?", unsent).Delete(&outboxRow{}).Error; err != nil {
		return false, fmt.Errorf("coalesce delete: %w", err)
	}
	neverOnServer := base == 0 && !anySent
	return neverOnServer, nil
}

// mergePatch overlays patch on *into, both JSON objects.
func mergePatch(into *string, patch string) error {
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*into), &a); err != nil {
		return fmt.Errorf("stored patch: %w", err)
	}
	if err := json.Unmarshal([]byte(patch), &b); err != nil {
		return fmt.Errorf("new patch: %w", err)
	}
	for k, v := range b {
		a[k] = v
	}
	out, err := json.Marshal(a)
	if err != nil {
		return err
	}
	*into = string(out)
	return nil
}

// Outbox lists the outbox, pending and failed, in creation order.
func (c *Client) Outbox(ctx context.Context) ([]OutboxEntry, error) {
	return c.outbox(ctx, "")
}

// Failed lists the mutations the server rejected. They are never resent; the
// local row was restored to the server's copy. DismissFailed removes one.
func (c *Client) Failed(ctx context.Context) ([]OutboxEntry, error) {
	return c.outbox(ctx, stateFailed)
}

func (c *Client) outbox(ctx context.Context, state string) ([]OutboxEntry, error) {
	q := c.db.WithContext(ctx).Order("seq")
	if state != "" {
		q = q.Where("state = ?", state)
	}
	var rows []outboxRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]OutboxEntry, len(rows))
	for i, r := range rows {
		out[i] = OutboxEntry{Seq: r.Seq, MutationID: r.MutationID, Table: r.Tbl, Op: r.Op, RowID: r.RowID,
			BaseVersion: r.BaseVersion, State: r.State, Sent: r.Sent, CreatedAt: r.CreatedAt.UTC()}
		if r.Patch != nil {
			out[i].Patch = json.RawMessage(*r.Patch)
		}
		if r.Error != nil {
			out[i].Err = &domain.Error{}
			_ = json.Unmarshal([]byte(*r.Error), out[i].Err)
		}
	}
	return out, nil
}

// DismissFailed removes a failed mutation the app has shown to its user.
func (c *Client) DismissFailed(ctx context.Context, mutationID string) error {
	res := c.db.WithContext(ctx).Where("mutation_id = ? AND state = ?", mutationID, stateFailed).Delete(&outboxRow{})
	if res.Error != nil {
		return fmt.Errorf("dismiss failed mutation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.CodeNotFound, "no failed mutation %s", mutationID)
	}
	return nil
}

// OutboxLen counts the pending mutations (failed ones excluded): what Sync
// still has to push.
func (c *Client) OutboxLen(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.WithContext(ctx).Model(&outboxRow{}).Where("state = ?", statePending).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// Conflicts lists the conflicts Sync has recorded, oldest first.
func (c *Client) Conflicts(ctx context.Context) ([]Conflict, error) {
	var rows []conflictRow
	if err := c.db.WithContext(ctx).Order("created_at, conflict_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read conflicts: %w", err)
	}
	out := make([]Conflict, len(rows))
	for i, r := range rows {
		out[i] = Conflict{ConflictID: r.ConflictID, MutationID: r.MutationID, Table: r.Tbl, RowID: r.RowID,
			Op: r.Op, Reason: r.Reason, Version: r.Version, CreatedAt: r.CreatedAt.UTC()}
		if r.Patch != nil {
			out[i].Patch = json.RawMessage(*r.Patch)
		}
	}
	return out, nil
}
