package engine

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// Totals, numbers and submit times are the server's; so is the rep of a rep's order.
var orderIgnore = ignoring("number", "rep_id", "total_cents", "submitted_at", "reason")

// After creation an order keeps its account and currency.
var orderWritable = map[string]bool{"visit_id": true, "status": true, "lines": true, "note": true}

func (p *pusher) order(m wire.Mutation) (wire.MutationResult, error) {
	row, res, err := target(p, m, store.GetOrder, p.createOrder)
	if row == nil {
		return res, err
	}
	acc, cur, fv, w := row.acc, row.cur, row.fv, row.w
	if m.Op == store.OpDelete {
		return p.deleteOrder(m, acc, cur, fv)
	}
	patched := cur
	changed, perr := domain.ApplyPatch(&patched, m.Row, domain.PatchOptions{Ignore: orderIgnore, Writable: orderWritable})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if len(changed) == 0 {
		return applied(cur.Version, cur), nil
	}
	result, status := patched, wire.StatusApplied
	if m.BaseVersion < cur.Version {
		var out domain.MergeOutcome
		result, out = domain.MergeOrder(cur, patched, fv.ChangedSince(m.BaseVersion), changed)
		if out.Conflict != "" {
			return p.conflict(m, &acc, out.Conflict, patched, cur, cur.Version)
		}
		if err := p.autoResolved(m, acc, out, patched, cur); err != nil {
			return wire.MutationResult{}, err
		}
		status = wire.StatusMerged
	}
	if !domain.OrderEditable(cur.Status) && (changedField(changed, "lines") || changedField(changed, "note") || changedField(changed, "visit_id")) {
		return wire.MutationResult{}, domain.Errorf(domain.CodeIllegalTransition, "a %s order can no longer be edited", cur.Status)
	}
	w.Status, w.Changed = result.Status, changed
	if err := domain.CheckWrite(p.actor(), w); err != nil {
		return wire.MutationResult{}, err
	}
	linked := result.VisitID != nil
	if err := p.finishOrder(&result, cur.Status); err != nil {
		return wire.MutationResult{}, err
	}
	if linked && result.VisitID == nil {
		status = wire.StatusMerged // the link to a deleted visit was dropped
	}
	saved, err := store.UpdateOrder(p.tx, acc, cur, fv, result)
	if err == nil {
		err = p.recordOrder(&cur, saved)
	}
	if err != nil {
		return wire.MutationResult{}, err
	}
	return wire.MutationResult{Status: status, Version: saved.Version, Row: rowJSON(saved)}, nil
}

func changedField(changed []string, f string) bool {
	for _, c := range changed {
		if c == f {
			return true
		}
	}
	return false
}

func (p *pusher) createOrder(m wire.Mutation) (wire.MutationResult, error) {
	o := domain.Order{ID: m.ID, Status: domain.OrderDraft, Currency: p.e.cfg.Currency, Lines: []domain.OrderLine{}}
	set, perr := domain.ApplyPatch(&o, m.Row, domain.PatchOptions{Ignore: orderIgnore})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	o.RepID = p.a.UserID
	if o.AccountID == "" {
		return wire.MutationResult{}, domain.Invalid(domain.FieldError{Field: "account_id", Message: "is required"})
	}
	acc, err := p.accountFor(o.AccountID, "account_id")
	if err != nil {
		return p.outOfScope(m, err, o)
	}
	if err := domain.CheckWrite(p.actor(), domain.RowWrite{Table: m.Table, Kind: domain.WriteCreate,
		Owner: o.RepID, Status: o.Status, Changed: set}); err != nil {
		return wire.MutationResult{}, err
	}
	linked := o.VisitID != nil
	if err := p.finishOrder(&o, domain.OrderDraft); err != nil {
		return wire.MutationResult{}, err
	}
	saved, err := store.CreateOrder(p.tx, acc, o)
	if err == nil {
		err = p.recordOrder(nil, saved)
	}
	if err != nil {
		return wire.MutationResult{}, err
	}
	p.created(m.Table, m.ID)
	res := applied(saved.Version, saved)
	if linked && saved.VisitID == nil {
		// The device linked the order to a visit deleted before the push
		// arrived: the order is kept, without the link.
		res.Status = wire.StatusMerged
	}
	return res, nil
}

// finishOrder prices, numbers and validates an order about to be written
// (store.FinishOrder, as every writer of orders does).
func (p *pusher) finishOrder(o *domain.Order, from string) error {
	return store.FinishOrder(p.tx, o, from)
}

func (p *pusher) deleteOrder(m wire.Mutation, acc domain.Account, cur domain.Order, fv domain.FieldVersions) (wire.MutationResult, error) {
	if cur.Status != domain.OrderDraft {
		return wire.MutationResult{}, domain.Errorf(domain.CodeIllegalTransition, "a %s order cannot be deleted; cancel it instead", cur.Status)
	}
	if m.BaseVersion < cur.Version && len(fv.ChangedSince(m.BaseVersion)) > 0 {
		return p.conflict(m, &acc, "order changed on the server after the device deleted it", nil, cur, cur.Version)
	}
	if err := store.DeleteOrder(p.tx, acc, cur); err != nil {
		return wire.MutationResult{}, err
	}
	return wire.MutationResult{Status: wire.StatusApplied, Version: cur.Version + 1}, nil
}
