package backoffice

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Conflicts lists conflict records and resolves open ones (docs/protocol.md §5).
//
// Who sees what: a rep sees the conflicts of their own writes; a coordinator
// those on orders and accounts of their territories (all, with none assigned);
// a manager those routed to their territory subtree, plus their own; directors
// and ops everything. A conflict on a row that no longer exists has no
// territory and is routed to the territories of its writer.
//
// Who resolves (domain.MayResolve): managers (any table in their subtree) and
// coordinators (orders). Reps do not: a conflict exists because the rep's
// write met a decision that is not the rep's (a confirmed order, a reassigned
// account), and the rep's device already holds the server's row to edit
// again. Ops do not either: the contract gives them the admin endpoints, not
// the sales decisions a resolution makes.
type Conflicts struct {
	db       *store.DB
	currency string
}

// NewConflicts returns the service; currency is the default of orders a
// resolution recreates without one.
func NewConflicts(db *store.DB, currency string) *Conflicts {
	return &Conflicts{db: db, currency: currency}
}

// Conflict is a conflict record as the API shows it. DeviceRow is the row the
// device tried to write, or, for a delete or a write against a row that no
// longer existed, the mutation as pushed. ServerRow is the server's row at the
// time (null when there was none).
type Conflict struct {
	ID         string          `json:"id"`
	Table      string          `json:"table"`
	RowID      string          `json:"row_id"`
	Status     string          `json:"status"`
	Reason     string          `json:"reason"`
	UserID     string          `json:"user_id"`
	DeviceID   string          `json:"device_id"`
	CreatedAt  time.Time       `json:"created_at"`
	DeviceRow  json.RawMessage `json:"device_row"`
	ServerRow  json.RawMessage `json:"server_row"`
	Resolution *string         `json:"resolution,omitempty"`
	ResolvedBy *string         `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time      `json:"resolved_at,omitempty"`
}

func toConflict(c store.ConflictRecord) Conflict {
	out := Conflict{ID: c.ID, Table: c.Tbl, RowID: c.RowID, Status: c.Status, Reason: c.Reason,
		UserID: c.UserID, DeviceID: c.DeviceID, CreatedAt: c.CreatedAt.UTC(),
		DeviceRow: json.RawMessage(c.DeviceRow), Resolution: c.Resolution, ResolvedBy: c.ResolvedBy,
		ResolvedAt: c.ResolvedAt}
	if c.ServerRow != nil {
		out.ServerRow = json.RawMessage(*c.ServerRow)
	}
	return out
}

// ConflictQuery filters and pages the list.
type ConflictQuery struct {
	Status string // open, resolved or "" for both
	Table  string
	Cursor string
	Limit  int
}

// ConflictList is one page of conflicts, oldest first.
type ConflictList struct {
	Items      []Conflict `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// List returns the conflicts visible to the caller.
func (s *Conflicts) List(ctx context.Context, c domain.Caller, q ConflictQuery) (ConflictList, error) {
	if q.Status != "" && q.Status != store.ConflictOpen && q.Status != store.ConflictResolved {
		return ConflictList{}, badParam("status", "must be open or resolved")
	}
	if q.Table != "" && !domain.IsSyncedTable(q.Table) {
		return ConflictList{}, badParam("table", "must be a synced table")
	}
	after, err := decodeKeyset(q.Cursor)
	if err != nil {
		return ConflictList{}, err
	}
	limit := clampLimit(q.Limit)
	out := ConflictList{Items: []Conflict{}}
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		f, err := conflictFilter(tx, c)
		if err != nil {
			return err
		}
		f.Status, f.Table = q.Status, q.Table
		page := store.ConflictPage{Limit: limit + 1}
		if after != nil {
			page.AfterCreated, page.AfterID = &after.T, after.ID
		}
		recs, err := store.ListConflicts(tx, f, page)
		if err != nil {
			return err
		}
		if len(recs) > limit {
			recs = recs[:limit]
			out.NextCursor = encodeKeyset(recs[limit-1].CreatedAt, recs[limit-1].ID)
		}
		for _, r := range recs {
			out.Items = append(out.Items, toConflict(r))
		}
		return nil
	})
	return out, err
}

// conflictFilter is the visibility rule of the type comment.
func conflictFilter(tx *store.Tx, c domain.Caller) (store.ConflictFilter, error) {
	if c.Role == domain.RoleRep {
		return store.ConflictFilter{WriterID: c.UserID}, nil
	}
	r, err := reachOf(tx, c)
	if err != nil {
		return store.ConflictFilter{}, err
	}
	f := store.ConflictFilter{All: r.All, Territories: r.Territories}
	switch c.Role {
	case domain.RoleCoordinator:
		f.Tables = []string{domain.TableOrders, domain.TableAccounts}
	case domain.RoleManager:
		f.WriterID = c.UserID
	}
	return f, nil
}

// Resolutions of a conflict.
const (
	KeepServer = "keep_server"
	TakeDevice = "take_device"
	Custom     = "custom"
)

// ResolveInput is the body of a resolve: Row is the patch of a custom
// resolution and is ignored otherwise.
type ResolveInput struct {
	Resolution string          `json:"resolution"`
	Row        json.RawMessage `json:"row"`
}

// Resolved is the resolved conflict and the row as it now is (null when the
// row does not exist).
type Resolved struct {
	Conflict Conflict        `json:"conflict"`
	Row      json.RawMessage `json:"row"`
}

// Resolve closes an open conflict. keep_server writes nothing; take_device
// applies the device's change to the row as it is now, and custom applies Row,
// both through the same rules as a push (validation, state machines, pricing)
// with the rights of the original writer and of the resolver at once
// (domain.CheckResolution), and through the change log, so every device gets
// the outcome by pull. A row that no longer exists is created again.
func (s *Conflicts) Resolve(ctx context.Context, c domain.Caller, id string, in ResolveInput) (Resolved, error) {
	if err := domain.Authorize(c.Role, domain.ActResolveConflict); err != nil {
		return Resolved{}, err
	}
	if err := checkResolveInput(in); err != nil {
		return Resolved{}, err
	}
	if err := checkPathID("conflict", id); err != nil {
		return Resolved{}, err
	}
	var out Resolved
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		f, err := conflictFilter(tx, c)
		if err != nil {
			return err
		}
		rec, err := store.GetVisibleConflict(tx, f, id, true)
		if err != nil {
			return err
		}
		if rec.Status != store.ConflictOpen {
			return domain.Errorf(domain.CodeAlreadyResolved, "conflict is already resolved")
		}
		if err := domain.MayResolve(c.Role, rec.Tbl); err != nil {
			return err
		}
		r, err := reachOf(tx, c)
		if err != nil {
			return err
		}
		origin, err := originOf(tx, rec)
		if err != nil {
			return err
		}
		now := tx.Now()
		w := writer{tx: tx, resolver: c, reach: r,
			origin: origin, currency: s.currency, conflictID: rec.ID}
		if out.Row, err = w.resolve(rec, in); err != nil {
			return err
		}
		if err := store.ResolveConflict(tx, rec.ID, in.Resolution, c.UserID); err != nil {
			return err
		}
		rec.Status, rec.Resolution, rec.ResolvedBy, rec.ResolvedAt = store.ConflictResolved, &in.Resolution, &c.UserID, &now
		out.Conflict = toConflict(rec)
		return nil
	})
	return out, err
}

func checkResolveInput(in ResolveInput) error {
	var f fields
	switch in.Resolution {
	case KeepServer, TakeDevice:
	case Custom:
		if !isObject(in.Row) {
			f.add("row", "must be an object with the fields to write")
		}
	case "":
		f.add("resolution", "is required")
	default:
		f.add("resolution", "must be keep_server, take_device or custom")
	}
	return f.err()
}
