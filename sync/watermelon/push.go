package watermelon

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TableChanges is one table of a WatermelonDB change set as the app pushes
// it: whole raw records (with _status and _changed) and deleted ids.
type TableChanges struct {
	Created []json.RawMessage `json:"created"`
	Updated []json.RawMessage `json:"updated"`
	Deleted []string          `json:"deleted"`
}

// PushRequest is a WatermelonDB pushChanges call.
type PushRequest struct {
	LastPulledAt int64
	Changes      map[string]TableChanges
}

// PushResult is what WatermelonDB reads back: the ids it must keep unsynced.
type PushResult struct {
	RejectedIDs map[string][]string `json:"experimentalRejectedIds"`
}

// mutationNS namespaces the mutation ids derived from pushed records.
var mutationNS = uuid.MustParse("6f1c1a52-8a55-4a43-9b0e-2f8d1d1b7a10")

// pushed is one record of the change set and the engine mutation it became.
type pushed struct {
	table, id, kind string
	m               wire.Mutation
	err             *domain.Error // refused before the engine (a record that is not an object)
}

// Push applies a WatermelonDB change set through the engine, as
// /v1/sync/push would apply the same writes: the same permissions, policies
// and idempotency. Each record is its own unit: one bad record is rejected
// alone and reported in experimentalRejectedIds; the push fails as a whole
// only on an internal error.
func (ad *Adapter) Push(ctx context.Context, a domain.Caller, req PushRequest) (PushResult, error) {
	res := PushResult{RejectedIDs: map[string][]string{}}
	recs, err := ad.mutations(ctx, a, req)
	if err != nil {
		return res, err
	}
	var muts []wire.Mutation
	for _, p := range recs {
		if p.err == nil {
			muts = append(muts, p.m)
		}
	}
	results := make([]wire.MutationResult, 0, len(muts))
	for start := 0; start < len(muts); start += wire.MaxMutations {
		batch := muts[start:min(start+wire.MaxMutations, len(muts))]
		resp, err := ad.eng.Push(ctx, a, wire.PushRequest{DeviceID: a.DeviceID, Mutations: batch})
		if err != nil {
			return res, err
		}
		results = append(results, resp.Results...)
	}
	var pending []store.WatermelonPending
	var known []store.KnownVersion
	next := 0
	for _, p := range recs {
		status := wire.StatusRejected
		if p.err == nil {
			r := results[next]
			next++
			status = r.Status
			if (status == wire.StatusApplied || status == wire.StatusMerged) && p.kind != kindDeleted && r.Version > 0 {
				known = append(known, store.KnownVersion{Table: p.table, RowID: p.id, Version: r.Version})
			}
		}
		switch status {
		case wire.StatusApplied:
			continue
		case wire.StatusRejected:
			res.RejectedIDs[p.table] = append(res.RejectedIDs[p.table], p.id)
		}
		// Whatever did not go in as sent, the app's next pull corrects: a
		// conflict wrote nothing the log would carry, a merge may not have
		// touched the row the app edited, a rejection left the server as it
		// was.
		kind := store.PendingResend
		switch {
		case status == wire.StatusRejected && p.kind == kindCreated:
			kind = store.PendingRejectedCreate
		case status == wire.StatusRejected && p.kind == kindDeleted:
			kind = store.PendingRejectedDelete
		}
		pending = append(pending, store.WatermelonPending{Table: p.table, RowID: p.id, Kind: kind})
	}
	if err := ad.db.SaveWatermelonKnown(ctx, a.UserID, a.DeviceID, known); err != nil {
		return res, err
	}
	if err := ad.db.SaveWatermelonPending(ctx, a.UserID, a.DeviceID, pending); err != nil {
		return res, err
	}
	return res, nil
}

// mutations turns the change set into engine mutations, tables in dependency
// order (a visit before the order that names it), deletes last and in
// reverse order.
func (ad *Adapter) mutations(ctx context.Context, a domain.Caller, req PushRequest) ([]pushed, error) {
	bases, err := ad.baser(ctx, a, req)
	if err != nil {
		return nil, err
	}
	var out []pushed
	for _, table := range domain.SyncedTables {
		ch, ok := req.Changes[table]
		if !ok {
			continue
		}
		for _, raw := range ch.Created {
			out = append(out, bases.record(table, kindCreated, raw))
		}
		for _, raw := range ch.Updated {
			out = append(out, bases.record(table, kindUpdated, raw))
		}
	}
	for i := len(domain.SyncedTables) - 1; i >= 0; i-- {
		table := domain.SyncedTables[i]
		for _, id := range req.Changes[table].Deleted {
			out = append(out, bases.deleted(table, id))
		}
	}
	return out, nil
}

// baser chooses base versions. WatermelonDB sends no version, and its pull
// merges pulled rows into unpushed edits (the edited columns keep the app's
// values), so neither the record nor lastPulledAt tells what an edit started
// from. What does: the number the pull before this push started from (the
// device's last pull, store.WatermelonPullFrom). A row that did not change
// after it, or whose latest change is the device's own push, is based on the
// current version; a row someone else changed after it is based on the
// device's own last write, else on 1, so every concurrent change meets the
// table's merge policy instead of being overwritten. docs/protocol.md, "The
// WatermelonDB adapter", gives the reasons.
type baser struct {
	last  int64
	byRow map[string]map[string]store.RowBase
	// known: the position the edits started from is known; else every
	// existing row is treated as changed by someone else.
	known  bool
	device string
}

func (ad *Adapter) baser(ctx context.Context, a domain.Caller, req PushRequest) (*baser, error) {
	b := &baser{last: req.LastPulledAt, byRow: map[string]map[string]store.RowBase{}, device: a.DeviceID}
	pos, err := ad.startedFrom(ctx, a, req.LastPulledAt)
	if err != nil {
		return nil, err
	}
	b.known = pos != nil
	if pos == nil {
		pos = &store.Pos{}
	}
	for table, ch := range req.Changes {
		if _, ok := columns[table]; !ok {
			continue // a table of the app's own, not synced with Fieldsync
		}
		ids := append([]string{}, ch.Deleted...)
		for _, set := range [][]json.RawMessage{ch.Created, ch.Updated} {
			for _, raw := range set {
				var r struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(raw, &r) == nil {
					ids = append(ids, r.ID)
				}
			}
		}
		rows, err := ad.db.RowBases(ctx, a.UserID, a.DeviceID, table, uuidsOnly(ids), *pos)
		if err != nil {
			return nil, err
		}
		b.byRow[table] = rows
	}
	return b, nil
}

// startedFrom returns the log position the pushed edits started from: where
// the pull that answered lastPulledAt began. nil: unknown.
func (ad *Adapter) startedFrom(ctx context.Context, a domain.Caller, lastPulledAt int64) (*store.Pos, error) {
	if lastPulledAt <= 0 {
		return nil, nil
	}
	from, ok, err := ad.db.WatermelonPullFrom(ctx, a.UserID, a.DeviceID, lastPulledAt)
	if err != nil || !ok {
		return nil, err
	}
	cursor, ok, err := ad.db.WatermelonCursor(ctx, a.UserID, from)
	if err != nil || !ok {
		return nil, err
	}
	pos, ok := ad.eng.CursorPos(a.UserID, cursor)
	if !ok {
		return nil, nil
	}
	return &pos, nil
}

func uuidsOnly(ids []string) []string {
	out := ids[:0]
	for _, id := range ids {
		if domain.IsUUID(id) {
			out = append(out, id)
		}
	}
	return out
}

// base returns the base version for a write of a row, and whether the row
// exists.
func (b *baser) base(table, id string) (int64, bool) {
	rb, exists := b.byRow[table][id]
	if !exists || rb.Version == 0 {
		return 0, false
	}
	switch {
	case b.known && !rb.ChangedAfter, rb.Own == rb.Version:
		return rb.Version, true
	case rb.Own > 0 && rb.Own < rb.Version:
		return rb.Own, true
	}
	return 1, true
}

func (b *baser) mutationID(table, op string, payload []byte) string {
	key := b.device + "\x00" + strconv.FormatInt(b.last, 10) + "\x00" + table + "\x00" + op + "\x00"
	return uuid.NewSHA1(mutationNS, append([]byte(key), payload...)).String()
}

func (b *baser) record(table, kind string, raw json.RawMessage) pushed {
	p := pushed{table: table, kind: kind}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rec); err != nil || rec == nil {
		p.err = domain.Errorf(domain.CodeValidation, "record is not an object")
		return p
	}
	_ = json.Unmarshal(rec["id"], &p.id)
	var names []string // nil: every column (a create)
	base, exists := b.base(table, p.id)
	if kind == kindUpdated {
		var changed string
		_ = json.Unmarshal(rec["_changed"], &changed)
		names = []string{}
		for _, n := range strings.Split(changed, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if !exists {
			// An edit of a row the server does not have: the engine's rule
			// for edits of vanished rows applies (a conflict record if it was
			// deleted, else not found).
			base = 1
		}
	}
	row, err := fieldsOf(table, rec, names)
	if err != nil {
		p.err = domain.Invalid(domain.FieldError{Field: table, Message: err.Error()})
		return p
	}
	p.m = wire.Mutation{MutationID: b.mutationID(table, store.OpUpsert, raw), Table: table, Op: store.OpUpsert,
		ID: p.id, BaseVersion: base, Row: row}
	return p
}

func (b *baser) deleted(table, id string) pushed {
	base, _ := b.base(table, id)
	return pushed{table: table, id: id, kind: kindDeleted,
		m: wire.Mutation{MutationID: b.mutationID(table, store.OpDelete, []byte(id)), Table: table,
			Op: store.OpDelete, ID: id, BaseVersion: base}}
}
