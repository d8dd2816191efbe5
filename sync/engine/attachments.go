package engine

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// Attachment rows are pushed like any row: a create carries the metadata of a
// file the device holds (its bytes go up the upload lane afterwards), an edit
// may change the caption only, a delete removes the row (and, once no row
// names it, the blob after the retention).

var (
	// account_id follows the parent; uploader_id is the pusher; status is
	// the upload lane's.
	attachmentIgnore   = ignoring("account_id", "uploader_id", "status")
	attachmentWritable = map[string]bool{"caption": true}
)

func (p *pusher) attachment(m wire.Mutation) (wire.MutationResult, error) {
	if !p.mayExist(m.Table, m.ID) {
		return p.noRow(m, p.createAttachment)
	}
	cur, err := store.GetAttachment(p.tx, m.ID, true)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return p.noRow(m, p.createAttachment)
	}
	if err != nil {
		return wire.MutationResult{}, err
	}
	acc, err := p.rowAccount(cur.AccountID)
	if err != nil {
		return p.settle(m, err)
	}
	w := domain.RowWrite{Table: m.Table, Kind: domain.WriteUpdate, PrevOwner: cur.UploaderID, Owner: cur.UploaderID}
	if m.Op == store.OpDelete {
		w.Kind = domain.WriteDelete
	}
	if err := domain.CheckWrite(p.actor(), w); err != nil {
		return wire.MutationResult{}, err
	}
	if m.Op == store.OpDelete {
		if err := store.DeleteAttachment(p.tx, acc, cur); err != nil {
			return wire.MutationResult{}, err
		}
		return wire.MutationResult{Status: wire.StatusApplied, Version: cur.Version + 1}, nil
	}
	patched := cur
	changed, perr := domain.ApplyPatch(&patched, m.Row, domain.PatchOptions{Ignore: attachmentIgnore, Writable: attachmentWritable})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if len(changed) == 0 {
		return applied(cur.Version, cur), nil
	}
	if err := domain.ValidateAttachment(patched); err != nil {
		return wire.MutationResult{}, err
	}
	// The caption is the only field both sides can write and the server never
	// does: an edit from an older version (the upload lane marked the row
	// stored meanwhile) keeps the server's status and takes the caption.
	status := wire.StatusApplied
	if m.BaseVersion < cur.Version {
		status = wire.StatusMerged
	}
	saved, err := store.UpdateAttachment(p.tx, acc, cur, patched)
	if err != nil {
		return wire.MutationResult{}, err
	}
	return wire.MutationResult{Status: status, Version: saved.Version, Row: rowJSON(saved)}, nil
}

func (p *pusher) createAttachment(m wire.Mutation) (wire.MutationResult, error) {
	a := domain.Attachment{ID: m.ID, UploaderID: p.a.UserID, Status: domain.AttachmentPending}
	set, perr := domain.ApplyPatch(&a, m.Row, domain.PatchOptions{Ignore: attachmentIgnore})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if err := domain.CheckWrite(p.actor(), domain.RowWrite{Table: m.Table, Kind: domain.WriteCreate, Owner: a.UploaderID, Changed: set}); err != nil {
		return wire.MutationResult{}, err
	}
	if err := domain.ValidateAttachment(a); err != nil {
		return wire.MutationResult{}, err
	}
	parent, err := store.GetAttachmentParent(p.tx, a.ParentTable, a.ParentID)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return wire.MutationResult{}, unknownParent()
	}
	if err != nil {
		return wire.MutationResult{}, err
	}
	acc, err := p.accountFor(parent.AccountID, "parent_id")
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return wire.MutationResult{}, unknownParent() // out of scope: as unknown
	}
	if err != nil {
		return p.outOfScope(m, err, a)
	}
	if err := domain.CheckAttachParent(p.actor(), parent.Owner); err != nil {
		return wire.MutationResult{}, err
	}
	n, err := store.CountAttachments(p.tx, a.ParentTable, a.ParentID, a.Kind)
	if err != nil {
		return wire.MutationResult{}, err
	}
	if err := domain.CheckAttachmentCount(a.Kind, n); err != nil {
		return wire.MutationResult{}, err
	}
	saved, err := store.CreateAttachment(p.tx, acc, p.a.DeviceID, a)
	if err != nil {
		return wire.MutationResult{}, err
	}
	p.created(m.Table, m.ID)
	return applied(saved.Version, saved), nil
}

func unknownParent() *domain.Error {
	e := domain.Invalid(domain.FieldError{Field: "parent_id", Message: "unknown parent row"})
	e.Code, e.Message = domain.CodeNotFound, "parent row not found"
	return e
}
