package watermelon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// PullRequest is a WatermelonDB pullChanges call.
type PullRequest struct {
	LastPulledAt int64 // 0: the first sync
	// Migration: the app migrated its schema since its last sync and asks for
	// the records its new tables and columns need (non-null `migration`).
	Migration bool
}

// change kinds in a WatermelonDB change set.
const (
	kindCreated = "created"
	kindUpdated = "updated"
	kindDeleted = "deleted"
)

type entry struct {
	kind string
	row  json.RawMessage // Fieldsync wire JSON; nil for a delete
}

type tableSet struct {
	order []string // ids in the order first met
	byID  map[string]*entry
}

// PullResult is one WatermelonDB pull answer, built in memory (the row JSON
// of every change it holds, at most Adapter.MaxChanges of them) and encoded
// as a stream by WriteTo.
type PullResult struct {
	tables map[string]*tableSet
	count  int
	// Timestamp is the number the app stores as lastPulledAt.
	Timestamp int64
	// Replacement: the app must replace its data set by this one
	// (experimentalStrategy: 'replacement').
	Replacement bool
	first       bool
	last        int64 // the lastPulledAt asked from
}

// Count is how many records the answer holds.
func (r *PullResult) Count() int { return r.count }

func (r *PullResult) set(table string) *tableSet {
	t := r.tables[table]
	if t == nil {
		t = &tableSet{byID: map[string]*entry{}}
		r.tables[table] = t
	}
	return t
}

// put records the latest change of a row; a later change of the same row
// replaces an earlier one (WatermelonDB wants each id once).
func (r *PullResult) put(table, id, kind string, row json.RawMessage) {
	t := r.set(table)
	if e, ok := t.byID[id]; ok {
		e.kind, e.row = kind, row
		return
	}
	t.order = append(t.order, id)
	t.byID[id] = &entry{kind: kind, row: row}
	r.count++
}

// drop forgets a row: in a first or replacement sync, absence is the delete.
func (r *PullResult) drop(table, id string) {
	if t := r.tables[table]; t != nil {
		if e, ok := t.byID[id]; ok && e.kind != kindDeleted {
			e.kind, e.row = "", nil
		}
	}
}

func (r *PullResult) has(table, id string) bool {
	t := r.tables[table]
	if t == nil {
		return false
	}
	e, ok := t.byID[id]
	return ok && e.kind != ""
}

// Pull answers a WatermelonDB pull: every change since lastPulledAt in one
// answer (WatermelonDB does not page), drained from the engine's pull pages.
func (ad *Adapter) Pull(ctx context.Context, a domain.Caller, req PullRequest) (*PullResult, error) {
	res := &PullResult{tables: map[string]*tableSet{}, first: req.LastPulledAt == 0, last: req.LastPulledAt}
	cursor := ""
	if !res.first {
		c, ok, err := ad.db.WatermelonCursor(ctx, a.UserID, req.LastPulledAt)
		if err != nil {
			return nil, err
		}
		// A number this user was never given (another user's, a wiped
		// server's) cannot be continued: start over as a replacement.
		cursor, res.Replacement = c, !ok
	}
	if req.Migration && !res.first {
		// New local tables or columns need whole records: the full data set,
		// as a replacement, gives them without a per-version catalogue.
		cursor, res.Replacement = "", true
	}
	for {
		page, err := ad.eng.Pull(ctx, a, cursor, wire.MaxPullLimit)
		if err != nil {
			return nil, err
		}
		if page.Reset {
			// Compacted, or a scope change to or from an organisation-wide
			// role: the engine starts over, and so does the app.
			res.tables, res.count, res.Replacement = map[string]*tableSet{}, 0, !res.first
		}
		for _, c := range page.Changes {
			ad.add(res, c)
		}
		if res.count > ad.MaxChanges {
			return nil, domain.Errorf(domain.CodeTooLarge,
				"more than %d changes since lastPulledAt: sync this user with /v1/sync/pull", ad.MaxChanges)
		}
		cursor = page.Cursor
		if !page.HasMore {
			break
		}
	}
	pending, err := ad.resend(ctx, a, res)
	if err != nil {
		return nil, err
	}
	// An answer carrying corrections gets a number of its own: the app
	// pulling from it is the proof it applied them (see resend).
	if res.Timestamp, err = ad.db.WatermelonNumber(ctx, a.UserID, cursor, len(pending) > 0); err != nil {
		return nil, err
	}
	// What the device's next push is based on (see baser): the start of
	// this pull; a first sync starts from nothing but this answer.
	from := req.LastPulledAt
	if res.first {
		from = res.Timestamp
	}
	if err := ad.db.RecordWatermelonPull(ctx, a.UserID, a.DeviceID, res.Timestamp, from); err != nil {
		return nil, err
	}
	if err := ad.db.MarkWatermelonPendingSent(ctx, a.UserID, a.DeviceID, pending, res.Timestamp); err != nil {
		return nil, err
	}
	return res, nil
}

func (ad *Adapter) add(res *PullResult, c wire.Change) {
	if _, ok := columns[c.Table]; !ok {
		return
	}
	switch {
	case c.Op == store.OpUpsert:
		// The log keeps one entry per row, so the server cannot tell whether
		// the app holds a row already: every record is "updated", which
		// WatermelonDB applies as a create when the row is new to it
		// (sendCreatedAsUpdated: true silences its warning).
		res.put(c.Table, c.ID, kindUpdated, c.Row)
	case res.first || res.Replacement:
		res.drop(c.Table, c.ID)
	default:
		res.put(c.Table, c.ID, kindDeleted, nil)
	}
}

// resend adds the rows earlier pushes of this device did not leave as the
// device holds them (store.WatermelonPending) and returns them.
func (ad *Adapter) resend(ctx context.Context, a domain.Caller, res *PullResult) ([]store.WatermelonPending, error) {
	if res.first {
		return nil, nil // a fresh database holds none of them
	}
	// The app pulls from the number it stored, which it does only with that
	// answer applied: what that answer carried has arrived.
	if err := ad.db.AckWatermelonPending(ctx, a.UserID, a.DeviceID, res.last); err != nil {
		return nil, err
	}
	pending, err := ad.db.WatermelonPendingOf(ctx, a.UserID, a.DeviceID)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	ids := map[string][]string{}
	for _, p := range pending {
		ids[p.Table] = append(ids[p.Table], p.RowID)
	}
	visible := map[string]map[string]json.RawMessage{}
	for table, list := range ids {
		if visible[table], err = ad.eng.VisibleRows(ctx, a, table, list); err != nil {
			return nil, fmt.Errorf("rows to resend: %w", err)
		}
	}
	for _, p := range pending {
		if _, ok := columns[p.Table]; !ok {
			continue
		}
		row, ok := visible[p.Table][p.RowID]
		switch {
		case ok && p.Kind == store.PendingRejectedDelete:
			// "created" is what makes WatermelonDB bring back a record it
			// holds as locally deleted; "updated" would be ignored.
			res.put(p.Table, p.RowID, kindCreated, row)
		case ok:
			res.put(p.Table, p.RowID, kindUpdated, row)
		case !res.has(p.Table, p.RowID):
			// Not the user's (any more): the app drops its copy, so a rejected
			// create is not pushed again forever.
			res.put(p.Table, p.RowID, kindDeleted, nil)
		}
	}
	return pending, nil
}

// WriteTo encodes the answer as WatermelonDB reads it, table by table,
// converting each row as it goes: the encoded answer never exists whole in
// memory.
func (r *PullResult) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 32<<10)
	buf := make([]byte, 0, 1024)
	var err error
	buf = append(buf, `{"changes":{`...)
	for i, table := range domain.SyncedTables {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendQuote(buf, table)
		buf = append(buf, ':', '{')
		t := r.tables[table]
		for j, kind := range []string{kindCreated, kindUpdated, kindDeleted} {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '"')
			buf = append(buf, kind...)
			buf = append(buf, `":[`...)
			n := 0
			for _, id := range idsOf(t) {
				e := t.byID[id]
				if e.kind != kind {
					continue
				}
				if n > 0 {
					buf = append(buf, ',')
				}
				n++
				if kind == kindDeleted {
					buf = strconv.AppendQuote(buf, id)
				} else if buf, err = appendRow(buf, table, e.row); err != nil {
					return cw.n, err
				}
				if len(buf) > 16<<10 {
					if _, err := bw.Write(buf); err != nil {
						return cw.n, err
					}
					buf = buf[:0]
				}
			}
			buf = append(buf, ']')
		}
		buf = append(buf, '}')
	}
	buf = append(buf, `},"timestamp":`...)
	buf = strconv.AppendInt(buf, r.Timestamp, 10)
	if r.Replacement {
		buf = append(buf, `,"experimentalStrategy":"replacement"`...)
	}
	buf = append(buf, '}')
	if _, err := bw.Write(buf); err != nil {
		return cw.n, err
	}
	err = bw.Flush()
	return cw.n, err
}

func idsOf(t *tableSet) []string {
	if t == nil {
		return nil
	}
	return t.order
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
