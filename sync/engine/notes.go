package engine

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

var (
	noteIgnore   = ignoring("author_id", "conflict_of")
	noteWritable = map[string]bool{"body": true}
)

func (p *pusher) note(m wire.Mutation) (wire.MutationResult, error) {
	row, res, err := target(p, m, store.GetNote, p.createNote)
	if row == nil {
		return res, err
	}
	acc, cur, fv := row.acc, row.cur, row.fv
	if m.Op == store.OpDelete {
		// A note edited on the server since the device's copy stays: deleting it
		// would drop an edit its author never saw.
		if m.BaseVersion < cur.Version && len(fv.ChangedSince(m.BaseVersion)) > 0 {
			return wire.MutationResult{Status: wire.StatusMerged, Version: cur.Version, Row: rowJSON(cur)}, nil
		}
		if err := store.DeleteNote(p.tx, acc, cur); err != nil {
			return wire.MutationResult{}, err
		}
		return wire.MutationResult{Status: wire.StatusApplied, Version: cur.Version + 1}, nil
	}
	patched := cur
	changed, perr := domain.ApplyPatch(&patched, m.Row, domain.PatchOptions{Ignore: noteIgnore, Writable: noteWritable})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if len(changed) == 0 {
		return applied(cur.Version, cur), nil
	}
	if err := domain.ValidateNote(patched); err != nil {
		return wire.MutationResult{}, err
	}
	result, status := patched, wire.StatusApplied
	var out domain.MergeOutcome
	if m.BaseVersion < cur.Version {
		result, out = domain.MergeNote(cur, patched, fv.ChangedSince(m.BaseVersion), changed)
		status = wire.StatusMerged
	}
	saved, err := store.UpdateNote(p.tx, acc, cur, fv, result)
	if err != nil {
		return wire.MutationResult{}, err
	}
	if out.NoteCopy != nil {
		// Both sides rewrote the body: the server's stays, the device's becomes a
		// new note pointing at the original; it reaches every device by pull.
		orig := cur.ID
		fork := domain.AccountNote{ID: newID(), AccountID: cur.AccountID, AuthorID: p.a.UserID,
			Body: *out.NoteCopy, ConflictOf: &orig}
		if _, err := store.CreateNote(p.tx, acc, fork); err != nil {
			return wire.MutationResult{}, err
		}
	}
	return wire.MutationResult{Status: status, Version: saved.Version, Row: rowJSON(saved)}, nil
}

func (p *pusher) createNote(m wire.Mutation) (wire.MutationResult, error) {
	n := domain.AccountNote{ID: m.ID, AuthorID: p.a.UserID}
	set, perr := domain.ApplyPatch(&n, m.Row, domain.PatchOptions{Ignore: noteIgnore})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if err := domain.CheckWrite(p.actor(), domain.RowWrite{Table: m.Table, Kind: domain.WriteCreate, Owner: n.AuthorID, Changed: set}); err != nil {
		return wire.MutationResult{}, err
	}
	if err := domain.ValidateNote(n); err != nil {
		return wire.MutationResult{}, err
	}
	acc, err := p.accountFor(n.AccountID, "account_id")
	if err != nil {
		return p.outOfScope(m, err, n)
	}
	saved, err := store.CreateNote(p.tx, acc, n)
	if err != nil {
		return wire.MutationResult{}, err
	}
	p.created(m.Table, m.ID)
	return applied(saved.Version, saved), nil
}
