package store

import (
	"github.com/fieldsync/fieldsync/domain"
)

// FinishOrder loads what domain.FinishOrder needs to know of o (its products,
// its visit) and applies it, numbering a submission from the organisation's
// sequence (NextOrderNumber). Every writer of orders calls it: push, the order
// desk and conflict resolution.
func FinishOrder(tx *Tx, o *domain.Order, from string) error {
	facts, err := orderFacts(tx, o, from)
	if err != nil {
		return err
	}
	return domain.FinishOrder(o, from, facts, tx.now, func() (string, error) { return NextOrderNumber(tx) })
}

// orderFacts reads the visit o names and, while its lines may still change,
// the products of its lines.
func orderFacts(tx *Tx, o *domain.Order, from string) (domain.OrderFacts, error) {
	var f domain.OrderFacts
	if o.VisitID != nil {
		v, _, err := GetVisit(tx, *o.VisitID, false)
		switch {
		case err == nil:
			f.Visit = domain.OrderVisit{Found: true, AccountID: v.AccountID}
		case domain.ErrorCode(err) == domain.CodeNotFound:
			if f.Visit.Deleted, err = WasDeleted(tx, domain.TableVisits, *o.VisitID); err != nil {
				return f, err
			}
		default:
			return f, err
		}
	}
	if domain.OrderEditable(from) && len(o.Lines) > 0 {
		ids := make([]string, 0, len(o.Lines))
		for _, l := range o.Lines {
			if domain.IsUUID(l.ProductID) {
				ids = append(ids, l.ProductID)
			}
		}
		var err error
		if f.Products, err = GetProducts(tx, ids); err != nil {
			return f, err
		}
	}
	return f, nil
}
