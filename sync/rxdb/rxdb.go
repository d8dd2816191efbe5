// Package rxdb adapts the sync engine to RxDB's replication protocol
// (replicateRxCollection, docs/protocol.md §9): one pull, push and stream per
// collection, a checkpoint object instead of a cursor string, tombstones with
// _deleted, and push answers that hold the server's document wherever it
// differs from what the app sent. Everything goes through the engine, so
// scope, policies and permissions are those of /v1/sync/push and pull.
package rxdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// Engine is what the adapter needs of the sync engine.
type Engine interface {
	PullTable(ctx context.Context, a domain.Caller, table, cursor string, limit int) (wire.PullResponse, error)
	Push(ctx context.Context, a domain.Caller, req wire.PushRequest) (wire.PushResponse, error)
	VisibleRows(ctx context.Context, a domain.Caller, table string, ids []string) (map[string]json.RawMessage, error)
}

// Adapter serves RxDB replication over the engine.
type Adapter struct{ eng Engine }

// New returns an adapter over eng.
func New(eng Engine) *Adapter { return &Adapter{eng: eng} }

// Limits of a pull batch.
const (
	DefaultBatchSize = 100
	MaxBatchSize     = 1000
)

// Collection reports whether name is a collection the adapter serves: every
// synced table, by its table name.
func Collection(name string) bool { return slices.Contains(domain.SyncedTables, name) }

// Checkpoint is the RxDB checkpoint: RxDB merges checkpoints with
// Object.assign, so it must be an object. Cursor is the engine's cursor for
// this collection, opaque to the app.
type Checkpoint struct {
	Cursor string `json:"cursor"`
}

// PullResult is a pull answer: RxDB reads documents and checkpoint. Reset
// tells the app that the server started this collection over (a compaction
// passed its checkpoint, or an organisation-wide scope change): the batch
// starts a full sync, and rows the app holds that are not resent may be
// stale (docs/protocol.md §9).
type PullResult struct {
	Documents  []json.RawMessage `json:"documents"`
	Checkpoint Checkpoint        `json:"checkpoint"`
	Reset      bool              `json:"reset,omitempty"`
}

// Pull returns up to batchSize documents of collection after the checkpoint
// cursor. Engine pages are read until the batch is full or the collection is
// caught up: RxDB stops asking when a batch is short and, when it is empty,
// does not even store its checkpoint, so a short batch must mean "caught up".
func (x *Adapter) Pull(ctx context.Context, a domain.Caller, collection, cursor string, batchSize int) (PullResult, error) {
	batchSize = min(max(batchSize, 1), MaxBatchSize)
	res := PullResult{Documents: []json.RawMessage{}}
	at := map[string]int{} // id -> index in Documents: a row met twice keeps one, current, document
	for {
		page, err := x.eng.PullTable(ctx, a, collection, cursor, batchSize-len(res.Documents))
		if err != nil {
			return res, err
		}
		if page.Reset {
			res.Reset = true
			clear(at)
			res.Documents = res.Documents[:0]
		}
		cursor = page.Cursor
		for _, c := range page.Changes {
			doc, err := document(c)
			if err != nil {
				return res, err
			}
			if i, ok := at[c.ID]; ok {
				res.Documents[i] = doc
				continue
			}
			at[c.ID] = len(res.Documents)
			res.Documents = append(res.Documents, doc)
		}
		if !page.HasMore || len(res.Documents) >= batchSize {
			break
		}
	}
	res.Checkpoint = Checkpoint{Cursor: cursor}
	return res, nil
}

// document turns a pull change into an RxDB document: the row with _deleted
// false, or a tombstone holding the id, the version and why.
func document(c wire.Change) (json.RawMessage, error) {
	if c.Op == "delete" {
		return json.Marshal(map[string]any{"id": c.ID, "version": c.Version, "_deleted": true, "fieldsync_reason": c.Reason})
	}
	return withDeleted(c.Row, false)
}

// withDeleted appends "_deleted" to a JSON object.
func withDeleted(row json.RawMessage, deleted bool) (json.RawMessage, error) {
	row = bytes.TrimSpace(row)
	if len(row) < 2 || row[len(row)-1] != '}' {
		return nil, fmt.Errorf("rxdb: row is not an object: %.40s", row)
	}
	out := make([]byte, 0, len(row)+20)
	out = append(out, row[:len(row)-1]...)
	if len(row) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"_deleted":`...)
	out = strconv.AppendBool(out, deleted)
	return append(out, '}'), nil
}

// PushRow is one row of an RxDB push.
type PushRow struct {
	AssumedMasterState map[string]json.RawMessage `json:"assumedMasterState"`
	NewDocumentState   map[string]json.RawMessage `json:"newDocumentState"`
}

// MaxPushRows bounds one push, like the mutations of /v1/sync/push.
const MaxPushRows = wire.MaxMutations

// reserved are RxDB's own fields and the fields the server sets: never part
// of what the app changed.
var reserved = map[string]bool{"id": true, "_deleted": true, "_rev": true, "_meta": true, "_attachments": true,
	"version": true, "updated_at": true, "fieldsync_reason": true, "fieldsync_error": true}

// mutationNamespace derives mutation ids from the push row, so a push sent
// again after a lost answer replays the stored results instead of applying
// twice.
var mutationNamespace = uuid.MustParse("5b0c1d0e-7d1a-4c57-9a7e-52d0a3b3f0a1")

// Push applies the rows through the engine and returns the server's document
// for every row where it differs from newDocumentState: server-set fields
// (version, updated_at, order numbers), merges, conflicts (the server's value
// wins; the conflict is recorded for the back office), rejections (the
// server's current document, or, when the row does not exist for the app's
// user, a tombstone with fieldsync_error: a rejected create is deleted on the
// device and never sent again).
func (x *Adapter) Push(ctx context.Context, a domain.Caller, collection string, rows []PushRow) ([]json.RawMessage, error) {
	muts := make([]wire.Mutation, 0, len(rows))
	sent := make([]PushRow, 0, len(rows))
	out := []json.RawMessage{}
	for i, r := range rows {
		id, ok := stringField(r.NewDocumentState, "id")
		if !ok {
			return nil, &domain.Error{Code: domain.CodeValidation, Message: "invalid push body",
				Fields: []domain.FieldError{{Field: fmt.Sprintf("[%d].newDocumentState.id", i), Message: "must be a string"}}}
		}
		m, skip := mutation(a, collection, id, r)
		if skip {
			continue
		}
		muts = append(muts, m)
		sent = append(sent, r)
	}
	if len(muts) == 0 {
		return out, nil
	}
	resp, err := x.eng.Push(ctx, a, wire.PushRequest{DeviceID: a.DeviceID, Mutations: muts, Results: wire.ResultsFull})
	if err != nil {
		return nil, err
	}
	needsLookup := func(i int) bool {
		res := resp.Results[i]
		return res.Status == wire.StatusRejected || (len(res.Row) == 0 && muts[i].Op != "delete")
	}
	var lookup []string
	for i := range resp.Results {
		if needsLookup(i) {
			lookup = append(lookup, muts[i].ID)
		}
	}
	current, err := x.eng.VisibleRows(ctx, a, collection, lookup)
	if err != nil {
		return nil, err
	}
	for i, res := range resp.Results {
		m := muts[i]
		var doc json.RawMessage
		switch {
		case needsLookup(i):
			if row, ok := current[m.ID]; ok {
				doc, err = withDeleted(row, false)
			} else {
				doc, err = json.Marshal(map[string]any{"id": m.ID, "version": m.BaseVersion, "_deleted": true, "fieldsync_error": res.Error})
			}
		case m.Op == "delete":
			doc, err = json.Marshal(map[string]any{"id": m.ID, "version": res.Version, "_deleted": true, "fieldsync_reason": "deleted"})
		default:
			doc, err = withDeleted(res.Row, false)
		}
		if err != nil {
			return nil, err
		}
		if !sameDocument(doc, sent[i].NewDocumentState) {
			out = append(out, doc)
		}
	}
	return out, nil
}

// mutation turns a push row into an engine mutation: base_version from the
// assumed master state, the row as the fields that differ from it (all of
// them for a create), so the field-level merge sees what the app changed.
// skip: nothing to send (a row created and deleted offline, an unchanged row).
func mutation(a domain.Caller, collection, id string, r PushRow) (wire.Mutation, bool) {
	var base int64
	assumed := r.AssumedMasterState
	if assumed != nil && !boolField(assumed, "_deleted") {
		base = intField(assumed, "version")
	} else {
		assumed = nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00", a.DeviceID, collection, id, base)
	m := wire.Mutation{Table: collection, ID: id, BaseVersion: base}
	if boolField(r.NewDocumentState, "_deleted") {
		if base == 0 {
			return m, true
		}
		m.Op = "delete"
		h.Write([]byte("delete"))
	} else {
		patch := map[string]json.RawMessage{}
		for _, k := range slices.Sorted(maps.Keys(r.NewDocumentState)) {
			v := r.NewDocumentState[k]
			if reserved[k] {
				continue
			}
			if old, ok := assumed[k]; ok && jsonEqual(old, v) {
				continue
			}
			patch[k] = v
		}
		if base > 0 && len(patch) == 0 {
			return m, true
		}
		m.Op = "upsert"
		m.Row, _ = json.Marshal(patch) // a map of raw messages always marshals
		h.Write(m.Row)
	}
	m.MutationID = uuid.NewSHA1(mutationNamespace, h.Sum(nil)).String()
	return m, false
}

func stringField(doc map[string]json.RawMessage, k string) (string, bool) {
	var s string
	if err := json.Unmarshal(doc[k], &s); err != nil || s == "" {
		return "", false
	}
	return s, true
}

func boolField(doc map[string]json.RawMessage, k string) bool {
	var b bool
	_ = json.Unmarshal(doc[k], &b)
	return b
}

func intField(doc map[string]json.RawMessage, k string) int64 {
	var n int64
	_ = json.Unmarshal(doc[k], &n)
	return n
}

// jsonEqual compares two JSON values by meaning, not bytes (key order,
// spacing, 1.0 against 1).
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xb, _ := json.Marshal(x) // decoded JSON always marshals; map keys sorted
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// sameDocument reports whether the server's document holds exactly what the
// app sent (RxDB's own fields aside): then RxDB need not hear of it.
func sameDocument(doc json.RawMessage, sent map[string]json.RawMessage) bool {
	var d map[string]json.RawMessage
	if json.Unmarshal(doc, &d) != nil {
		return false
	}
	for k, v := range sent {
		if k == "_rev" || k == "_meta" || k == "_attachments" {
			continue
		}
		if _, ok := d[k]; !ok && string(v) != "null" {
			return false
		}
	}
	for k, v := range d {
		if !jsonEqual(v, sent[k]) {
			return false
		}
	}
	return true
}
