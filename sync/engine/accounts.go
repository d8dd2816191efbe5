package engine

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// Reps and managers may change only an account's contact fields from a device;
// everything else is sales operations' (admin API).
var accountWritable = map[string]bool{"phone": true, "email": true, "address": true}

func (p *pusher) account(m wire.Mutation) (wire.MutationResult, error) {
	if m.Op == store.OpDelete {
		return wire.MutationResult{}, domain.Errorf(domain.CodeForbidden, "accounts cannot be deleted from a device")
	}
	acc, err := p.accountFor(m.ID, "id")
	if domain.ErrorCode(err) == domain.CodeNotFound {
		// Accounts are created by sales operations: an unknown id and one
		// outside the scope are both a row that is not there.
		return wire.MutationResult{}, domain.RowNotFound(m.Table)
	}
	if err != nil {
		return p.outOfScope(m, err, nil)
	}
	acc, fv, err := store.GetAccount(p.tx, acc.ID, true)
	if err != nil {
		return wire.MutationResult{}, err
	}
	patched := acc
	changed, perr := domain.ApplyPatch(&patched, m.Row, domain.PatchOptions{Ignore: serverOwned, Writable: accountWritable})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if len(changed) == 0 {
		return applied(acc.Version, acc), nil
	}
	result, status := patched, wire.StatusApplied
	var out domain.MergeOutcome
	if m.BaseVersion < acc.Version {
		result, out = domain.MergeAccount(acc, patched, fv.ChangedSince(m.BaseVersion), changed)
		status = wire.StatusMerged
	}
	if err := domain.ValidateAccount(result); err != nil {
		return wire.MutationResult{}, err
	}
	saved, err := store.UpdateAccount(p.tx, acc, fv, result)
	if err != nil {
		return wire.MutationResult{}, err
	}
	p.accounts[saved.ID] = saved
	if err := p.autoResolved(m, acc, out, patched, acc); err != nil {
		return wire.MutationResult{}, err
	}
	return wire.MutationResult{Status: status, Version: saved.Version, Row: rowJSON(saved)}, nil
}
