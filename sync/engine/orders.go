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

// finishOrder prices and validates an order about to be written (FinishOrder).
func (p *pusher) finishOrder(o *domain.Order, from string) error {
	return FinishOrder(p.tx, o, from)
}

// FinishOrder prices, numbers and validates an order about to be written from
// status from, for every writer (push, the desk, conflict resolution). Draft
// lines are priced from the catalogue on every write so the rep sees real
// totals offline after the next sync; submitting freezes prices, takes the next
// organisation-wide number and stamps the time; the total is always the
// server's.
func FinishOrder(tx *store.Tx, o *domain.Order, from string) error {
	if o.VisitID != nil {
		if err := checkOrderVisit(tx, o); err != nil {
			return err
		}
	}
	if domain.OrderEditable(from) {
		if err := PriceOrder(tx, o); err != nil {
			return err
		}
	}
	if from == domain.OrderDraft && o.Status == domain.OrderSubmitted {
		if len(o.Lines) == 0 {
			return domain.Invalid(domain.FieldError{Field: "lines", Message: "an order needs at least one line to be submitted"})
		}
		n, err := store.NextOrderNumber(tx)
		if err != nil {
			return err
		}
		now := tx.Now()
		o.Number, o.SubmittedAt = &n, &now
	}
	o.TotalCents = domain.OrderTotal(o.Lines)
	if verr := domain.ValidateOrder(*o); verr != nil {
		return verr
	}
	return nil
}

// PriceOrder sets each line's unit price from the catalogue. Products must exist,
// be active and share the order's currency.
func PriceOrder(tx *store.Tx, o *domain.Order) error {
	if len(o.Lines) == 0 {
		return nil
	}
	ids := make([]string, 0, len(o.Lines))
	for _, l := range o.Lines {
		if domain.IsUUID(l.ProductID) {
			ids = append(ids, l.ProductID)
		}
	}
	products, err := store.GetProducts(tx, ids)
	if err != nil {
		return err
	}
	lines, perr := domain.PriceLines(o.Lines, products)
	if perr != nil {
		return perr
	}
	if perr := domain.CheckCurrency(*o, products); perr != nil {
		return perr
	}
	o.Lines = lines
	return nil
}

// checkOrderVisit: an order's visit is a visit of its account. A link to a
// visit that was deleted is cleared instead of refused (store/visitlinks.go):
// a device may have linked the order offline before it heard of the delete,
// and refusing would lose the order, or leave an order unlinked by an older
// server stuck forever.
func checkOrderVisit(tx *store.Tx, o *domain.Order) error {
	v, _, err := store.GetVisit(tx, *o.VisitID, false)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		gone, derr := store.WasDeleted(tx, domain.TableVisits, *o.VisitID)
		if derr != nil {
			return derr
		}
		if gone {
			o.VisitID = nil
			return nil
		}
	}
	if domain.ErrorCode(err) == domain.CodeNotFound || (err == nil && v.AccountID != o.AccountID) {
		return domain.Invalid(domain.FieldError{Field: "visit_id", Message: "must be a visit of the same account"})
	}
	return err
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
