package sync

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// A push request is a batch: what can be asked once per request (which rows
// exist, which accounts are referenced) is asked once, and visit creates, which
// check everything before their only write, are written together at the end.

// flush writes the deferred creates of this request.
func (p *pusher) flush() error {
	if len(p.pendingVisits) == 0 {
		return nil
	}
	if err := store.InsertVisits(p.tx, p.pendingVisits); err != nil {
		return err
	}
	err := store.LogChanges(p.tx, p.now, p.pendingLog)
	p.pendingVisits, p.pendingLog = p.pendingVisits[:0], p.pendingLog[:0]
	return err
}

// prefetch answers, in one query per table, which rows of the batch exist, and
// loads the accounts the batch refers to, instead of a lookup per mutation.
func (p *pusher) prefetch(muts []wire.Mutation, replayed map[string]json.RawMessage) error {
	ids := map[string][]string{}
	var accountIDs []string
	for _, m := range muts {
		if _, ok := replayed[m.MutationID]; ok || !domain.IsUUID(m.ID) || !domain.IsSyncedTable(m.Table) {
			continue
		}
		ids[m.Table] = append(ids[m.Table], m.ID)
		var ref struct {
			AccountID string `json:"account_id"`
		}
		if m.Op == store.OpUpsert && json.Unmarshal(m.Row, &ref) == nil && domain.IsUUID(ref.AccountID) {
			accountIDs = append(accountIDs, ref.AccountID)
		}
	}
	p.absent = map[string]bool{}
	for table, list := range ids {
		existing, err := store.ExistingIDs(p.tx, table, list)
		if err != nil {
			return err
		}
		var gone []string
		for _, id := range list {
			if !existing[id] {
				p.absent[table+"/"+id] = true
				gone = append(gone, id)
			}
		}
		if err := p.findDeleted(table, gone); err != nil {
			return err
		}
	}
	if len(accountIDs) == 0 {
		return nil
	}
	accs, err := store.GetAccounts(p.tx, accountIDs)
	for id, a := range accs {
		p.accounts[id] = a
	}
	return err
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
