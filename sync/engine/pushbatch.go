package engine

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// A push request is a batch: what can be asked once per request (which rows
// exist, which accounts are referenced) is asked once (prefetch), and visit
// creates are written together.
//
// The deferred visit creates. A typical batch is a day of planned visits: one
// INSERT and one change-log INSERT for all of them, instead of two statements
// and a savepoint round trip per visit.
// A create is deferred only when nothing about it can fail at write time: the
// id is free and never used (isCreate: not found by prefetch, no tombstone,
// not created earlier in the batch), and every check (validation, the account
// and its scope, the planned rep) ran before it was queued. Its result,
// version 1, is final when it is queued.
//
// flush must run before anything that could see the queued rows or their log
// entries as missing:
//   - before every mutation that is not itself a deferred create (applyOne):
//     it may read, update or delete a queued visit, link an order to one, or
//     append log entries that must follow the creates';
//   - at the end of the request, before its results are stored and it commits
//     (pushBatch).
// A flush that fails fails the request, like any other failed write.

// flush writes the deferred visit creates of this request and their change-log
// entries, and empties the queue.
func (p *pusher) flush() error {
	if len(p.pendingVisits) == 0 {
		return nil
	}
	if err := store.InsertVisits(p.tx, p.pendingVisits); err != nil {
		return err
	}
	err := store.LogChanges(p.tx, p.pendingLog)
	p.pendingVisits, p.pendingLog = p.pendingVisits[:0], p.pendingLog[:0]
	return err
}

// prefetch answers, in one query per table, which rows of the batch exist, and
// takes the request's locks up front in the one order of store/locks.go: the
// accounts the batch refers to (those it edits at write strength) in id order,
// the rows it changes, then the report rows its visit completions rewrite.
// Taken lazily, in mutation order, they deadlocked with concurrent pushes: a
// share lock on an account later raised to write it, rows of two batches taken
// in opposite orders.
func (p *pusher) prefetch(muts []wire.Mutation, replayed map[string]json.RawMessage) error {
	ids := map[string][]string{}
	want := map[string]store.AccountLock{}
	share := func(id string) {
		if want[id] == 0 {
			want[id] = store.LockShare
		}
	}
	var completes []wire.Mutation // visit upserts that may complete a visit
	for _, m := range muts {
		if _, ok := replayed[m.MutationID]; ok || !domain.IsUUID(m.ID) || !domain.IsSyncedTable(m.Table) {
			continue
		}
		ids[m.Table] = append(ids[m.Table], m.ID)
		if m.Op != store.OpUpsert {
			continue
		}
		if m.Table == domain.TableAccounts && domain.MayPush(p.a.Role, m.Table, domain.WriteUpdate) == nil {
			want[m.ID] = store.LockWrite
		}
		var ref struct {
			AccountID json.RawMessage `json:"account_id"`
			Status    json.RawMessage `json:"status"`
		}
		if json.Unmarshal(m.Row, &ref) != nil {
			continue
		}
		var accountID, status string
		if json.Unmarshal(ref.AccountID, &accountID) == nil && domain.IsUUID(accountID) {
			share(accountID)
		}
		if m.Table == domain.TableVisits && json.Unmarshal(ref.Status, &status) == nil && status == domain.VisitCompleted {
			completes = append(completes, m)
		}
	}
	p.absent = map[string]bool{}
	refs := map[string]map[string]store.RowRef{}
	for table, list := range ids {
		var gone []string
		switch table {
		case domain.TableVisits, domain.TableOrders, domain.TableAccountNotes, domain.TableAccounts:
			found, err := store.RowRefs(p.tx, table, list)
			if err != nil {
				return err
			}
			refs[table] = found
			for _, id := range list {
				ref, ok := found[id]
				if !ok {
					p.absent[table+"/"+id] = true
					gone = append(gone, id)
				} else if table != domain.TableAccounts {
					share(ref.AccountID)
				}
			}
		default: // read-only on devices: only whether they exist matters
			existing, err := store.ExistingIDs(p.tx, table, list)
			if err != nil {
				return err
			}
			for _, id := range list {
				if !existing[id] {
					p.absent[table+"/"+id] = true
					gone = append(gone, id)
				}
			}
		}
		if err := p.findDeleted(table, gone); err != nil {
			return err
		}
	}
	if len(want) > 0 {
		accs, err := store.LockAccounts(p.tx, want)
		if err != nil {
			return err
		}
		for id, a := range accs {
			p.accounts[id] = a
		}
	}
	for _, table := range []string{domain.TableVisits, domain.TableOrders, domain.TableAccountNotes} {
		if len(refs[table]) == 0 {
			continue
		}
		if err := store.LockRows(p.tx, table, slices.Collect(maps.Keys(refs[table]))); err != nil {
			return err
		}
	}
	return store.LockReportAccounts(p.tx, reportAccounts(refs[domain.TableVisits], completes))
}

// reportAccounts lists the accounts whose report row the batch's visit writes
// may rewrite: those of completed visits (any change to one may lower the
// account's latest completion) and of visits the batch completes.
func reportAccounts(visits map[string]store.RowRef, completes []wire.Mutation) []string {
	set := map[string]bool{}
	for _, r := range visits {
		if r.Completed {
			set[r.AccountID] = true
		}
	}
	for _, m := range completes {
		if r, ok := visits[m.ID]; ok {
			set[r.AccountID] = true
			continue
		}
		var ref struct {
			AccountID string `json:"account_id"`
		}
		if json.Unmarshal(m.Row, &ref) == nil && domain.IsUUID(ref.AccountID) {
			set[ref.AccountID] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// known reports whether table/id may exist (so it must be looked up), and
// forgets the row's absence once this request creates it.
func (p *pusher) mayExist(table, id string) bool { return !p.absent[table+"/"+id] }

func (p *pusher) created(table, id string) { delete(p.absent, table+"/"+id) }

// isCreate: an upsert of a visit that does not exist, is not pending and
// never existed (so it starts at version 1 with no log entries to replace).
func (p *pusher) isCreate(m wire.Mutation) bool {
	return m.Op == store.OpUpsert && m.Table == domain.TableVisits && m.BaseVersion == 0 &&
		!p.mayExist(m.Table, m.ID) && !p.deleted[m.Table+"/"+m.ID]
}

// findDeleted notes which visits of ids (none of which exists) were deleted:
// their re-creation continues from the tombstone's version, so it cannot be a
// deferred create at version 1.
func (p *pusher) findDeleted(table string, ids []string) error {
	if table != domain.TableVisits || len(ids) == 0 {
		return nil
	}
	logged, err := store.LoggedIDs(p.tx, table, ids)
	if p.deleted == nil {
		p.deleted = map[string]bool{}
	}
	for id := range logged {
		p.deleted[table+"/"+id] = true
	}
	return err
}
