package device

import (
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// local is what rebuilding a row's view needs to know besides the database: who
// is signed in (a new visit's rep, a new note's author) and the time of the edit.
type local struct {
	userID string
	now    time.Time
}

func (c *Client) local() local { return local{userID: c.UserID(), now: c.now()} }

// loadMirror returns the mirror row of table/id, or nil.
func loadMirror(tx *gorm.DB, table, id string) (*mirrorRow, error) {
	var rows []mirrorRow
	if err := tx.Table(table).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read %s %s: %w", table, id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// pendingFor lists the pending mutations of one row, oldest first.
func pendingFor(tx *gorm.DB, table, id string) ([]outboxRow, error) {
	var muts []outboxRow
	err := tx.Where("tbl = ? AND row_id = ? AND state = ?", table, id, statePending).Order("seq").Find(&muts).Error
	if err != nil {
		return nil, fmt.Errorf("read outbox of %s %s: %w", table, id, err)
	}
	return muts, nil
}

// materialise rebuilds the local view of one row from the server copy and the
// row's pending mutations, and writes it (or deletes the row when nothing is left).
func (l local) materialise(tx *gorm.DB, table, id string) error {
	if !domain.IsSyncedTable(table) {
		return nil // a raw Mutate against an unknown table has no mirror
	}
	m, err := loadMirror(tx, table, id)
	if err != nil {
		return err
	}
	muts, err := pendingFor(tx, table, id)
	if err != nil {
		return err
	}
	if m == nil {
		m = &mirrorRow{ID: id}
	}
	view, err := l.replay(table, id, m.ServerRow, muts)
	if err != nil {
		return err
	}
	if view == nil && m.ServerRow == nil {
		return deleteMirror(tx, table, id)
	}
	// A row deleted here but still on the server keeps its server copy with an
	// empty view (hidden from reads): if the server refuses the delete, the row
	// comes back without asking the server.
	m.Row = string(view)
	return writeMirror(tx, table, m)
}

// hidden reports whether a mirror row is deleted locally, pending on the server.
func (m *mirrorRow) hidden() bool { return m.Row == "" }

// replay applies mutations to the server copy: an upsert overlays its patch, a
// delete removes the row, an edit of a row that does not exist is skipped.
func (l local) replay(table, id string, server *string, muts []outboxRow) ([]byte, error) {
	var cur map[string]json.RawMessage
	if server != nil {
		if err := json.Unmarshal([]byte(*server), &cur); err != nil {
			return nil, fmt.Errorf("%s %s: stored row: %w", table, id, err)
		}
	}
	for _, m := range muts {
		switch {
		case m.Op == opDelete:
			cur = nil
		case m.Op != opUpsert, cur == nil && m.BaseVersion != 0:
			continue
		default:
			if cur == nil {
				cur = l.template(table, id)
			}
			if err := overlay(cur, m.Patch); err != nil {
				return nil, fmt.Errorf("%s %s: mutation %s: %w", table, id, m.MutationID, err)
			}
		}
	}
	if cur == nil {
		return nil, nil
	}
	if table == domain.TableOrders && len(muts) > 0 {
		estimateTotal(cur)
	}
	return json.Marshal(cur)
}

// estimateTotal shows an order edited here with the total its lines come to;
// the server recomputes it from its own price list.
func estimateTotal(row map[string]json.RawMessage) {
	var lines []domain.OrderLine
	if json.Unmarshal(row["lines"], &lines) != nil {
		return // a raw Mutate may have sent anything; show it as it is
	}
	row["total_cents"], _ = json.Marshal(domain.OrderTotal(lines))
}

// template is the local view of a row created on this device before the server
// has answered: the defaults the server will apply (docs/protocol.md §4.2).
func (l local) template(table, id string) map[string]json.RawMessage {
	meta := domain.Meta{UpdatedAt: l.now}
	var row any
	switch table {
	case domain.TableVisits:
		row = domain.Visit{ID: id, RepID: l.userID, Status: domain.VisitPlanned, Meta: meta}
	case domain.TableOrders:
		row = domain.Order{ID: id, RepID: l.userID, Status: domain.OrderDraft, Lines: []domain.OrderLine{}, Meta: meta}
	case domain.TableAccountNotes:
		row = domain.AccountNote{ID: id, AuthorID: l.userID, Meta: meta}
	case domain.TableAttachments:
		row = domain.Attachment{ID: id, UploaderID: l.userID, Status: domain.AttachmentPending, Meta: meta}
	default:
		row = map[string]any{"id": id, "version": 0}
	}
	b, _ := json.Marshal(row) // plain structs always marshal
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &m)
	return m
}

// overlay sets each field of patch on row.
func overlay(row map[string]json.RawMessage, patch *string) error {
	if patch == nil {
		return nil
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*patch), &p); err != nil {
		return err
	}
	for k, v := range p {
		row[k] = v
	}
	return nil
}

// applyServerRow stores the server's copy of a row (from a pull or a push
// result) and rebuilds the view with whatever is still pending for it.
func (l local) applyServerRow(tx *gorm.DB, table, id string, version int64, row json.RawMessage, pending bool) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(row, &obj); err != nil || obj == nil {
		return fmt.Errorf("%s %s: row is not a JSON object", table, id)
	}
	server := string(row)
	m := &mirrorRow{ID: id, Version: version, Row: server, ServerRow: &server}
	if err := writeMirror(tx, table, m); err != nil {
		return err
	}
	if pending {
		return l.materialise(tx, table, id)
	}
	return nil
}

// removeServerRow forgets the server copy; a pending create of the same id (which
// only a misbehaving server could cause) survives.
func (l local) removeServerRow(tx *gorm.DB, table, id string, pending bool) error {
	if err := deleteMirror(tx, table, id); err != nil {
		return err
	}
	if pending {
		return l.materialise(tx, table, id)
	}
	return nil
}

func writeMirror(tx *gorm.DB, table string, m *mirrorRow) error {
	m.AccountID, m.SortKey = indexed(table, m.Row)
	err := tx.Exec(fmt.Sprintf(`INSERT INTO %s (id, version, row, server_row, account_id, sort_key)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, row = excluded.row,
		server_row = excluded.server_row, account_id = excluded.account_id, sort_key = excluded.sort_key`, table),
		m.ID, m.Version, m.Row, m.ServerRow, m.AccountID, m.SortKey).Error
	if err != nil {
		return fmt.Errorf("write %s %s: %w", table, m.ID, err)
	}
	return nil
}

func deleteMirror(tx *gorm.DB, table, id string) error {
	if err := tx.Exec(fmt.Sprintf(`DELETE FROM %s WHERE id = ?`, table), id).Error; err != nil {
		return fmt.Errorf("delete %s %s: %w", table, id, err)
	}
	return nil
}

// indexed extracts the columns the typed reads filter and sort on.
func indexed(table, row string) (accountID *string, sortKey string) {
	var f struct {
		AccountID *string `json:"account_id"`
		Name      string  `json:"name"`
		PlannedAt string  `json:"planned_at"`
		UpdatedAt string  `json:"updated_at"`
	}
	_ = json.Unmarshal([]byte(row), &f) // a view that does not decode is still stored
	switch table {
	case domain.TableVisits:
		return f.AccountID, sortableTime(f.PlannedAt)
	case domain.TableOrders, domain.TableAccountNotes:
		return f.AccountID, sortableTime(f.UpdatedAt)
	}
	return nil, f.Name
}

// sortableTime gives RFC 3339 times a fixed width, so they sort as strings.
func sortableTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// dropMirror empties every synced table (a reset); the outbox is untouched.
func dropMirror(tx *gorm.DB) error {
	for _, t := range domain.SyncedTables {
		if err := tx.Exec(fmt.Sprintf(`DELETE FROM %s`, t)).Error; err != nil {
			return fmt.Errorf("drop mirror of %s: %w", t, err)
		}
	}
	return nil
}

// pendingRowSet names the rows that have pending mutations, as table+"/"+id.
func pendingRowSet(tx *gorm.DB) (map[string]bool, error) {
	var keys []struct{ Tbl, RowID string }
	err := tx.Model(&outboxRow{}).Distinct("tbl", "row_id").Where("state = ?", statePending).Find(&keys).Error
	if err != nil {
		return nil, fmt.Errorf("read outbox rows: %w", err)
	}
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k.Tbl+"/"+k.RowID] = true
	}
	return set, nil
}
