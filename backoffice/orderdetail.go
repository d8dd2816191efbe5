package backoffice

import (
	"context"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// OrderDetail is one order as the desk opens it: the order, what it refers
// to, its totals, every change it went through and the conflicts recorded on
// it (docs/api.md, "Order desk").
type OrderDetail struct {
	Order     domain.Order        `json:"order"`
	Lines     []DetailLine        `json:"lines"`
	Totals    OrderTotals         `json:"totals"`
	Account   DetailAccount       `json:"account"`
	Rep       DetailUser          `json:"rep"`
	Visit     *domain.Visit       `json:"visit"`
	History   []domain.OrderEvent `json:"history"`
	Conflicts []Conflict          `json:"conflicts"`
}

// DetailLine is an order line with its product's name and its total.
type DetailLine struct {
	domain.OrderLine
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	TotalCents int64  `json:"total_cents"`
}

// OrderTotals sums the order's lines.
type OrderTotals struct {
	Lines      int    `json:"lines"`
	Quantity   int64  `json:"quantity"`
	TotalCents int64  `json:"total_cents"`
	Currency   string `json:"currency"`
}

// DetailAccount is the order's account, with its territory's name.
type DetailAccount struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	TerritoryID   string  `json:"territory_id"`
	TerritoryName string  `json:"territory_name"`
	Class         string  `json:"class"`
	Address       *string `json:"address"`
	Phone         *string `json:"phone"`
	Email         *string `json:"email"`
}

// DetailUser names a user (the rep, or whoever changed the order).
type DetailUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Get opens one order of the caller's scope. Drafts are the rep's and, like
// orders outside the scope, answer as unknown.
func (d *OrderDesk) Get(ctx context.Context, c domain.Caller, id string) (OrderDetail, error) {
	if err := domain.Authorize(c.Role, domain.ActListOrders); err != nil {
		return OrderDetail{}, err
	}
	notFound := domain.RowNotFound(domain.TableOrders)
	if !domain.IsUUID(id) {
		return OrderDetail{}, notFound
	}
	var out OrderDetail
	err := d.db.ReadTx(ctx, func(tx *store.Tx) error {
		r, err := reachOf(tx, c)
		if err != nil {
			return err
		}
		o, _, err := store.GetOrder(tx, id, false)
		if domain.ErrorCode(err) == domain.CodeNotFound || (err == nil && o.SubmittedAt == nil) {
			return notFound
		}
		if err != nil {
			return err
		}
		acc, err := store.ReadAccount(tx, o.AccountID)
		if domain.ErrorCode(err) == domain.CodeNotFound || (err == nil && !r.Sees(acc.TerritoryID)) {
			return notFound
		}
		if err != nil {
			return err
		}
		out, err = orderDetail(tx, o, acc)
		return err
	})
	return out, err
}

func orderDetail(tx *store.Tx, o domain.Order, acc domain.Account) (OrderDetail, error) {
	out := OrderDetail{Order: o, Lines: []DetailLine{}, Totals: OrderTotals{Lines: len(o.Lines), TotalCents: o.TotalCents, Currency: o.Currency},
		Account: DetailAccount{ID: acc.ID, Name: acc.Name, TerritoryID: acc.TerritoryID, Class: acc.Class,
			Address: acc.Address, Phone: acc.Phone, Email: acc.Email}, Rep: DetailUser{ID: o.RepID}}
	if t, err := store.GetTerritory(tx, acc.TerritoryID, false); err == nil {
		out.Account.TerritoryName = t.Name
	} else if domain.ErrorCode(err) != domain.CodeNotFound {
		return out, err
	}
	if u, err := store.GetUser(tx, o.RepID, false); err == nil {
		out.Rep.Name = u.Name
	} else if domain.ErrorCode(err) != domain.CodeNotFound {
		return out, err
	}
	if o.VisitID != nil {
		v, _, err := store.GetVisit(tx, *o.VisitID, false)
		if err == nil {
			out.Visit = &v
		} else if domain.ErrorCode(err) != domain.CodeNotFound {
			return out, err
		}
	}
	ids := make([]string, 0, len(o.Lines))
	for _, l := range o.Lines {
		ids = append(ids, l.ProductID)
	}
	products, err := store.GetProducts(tx, ids)
	if err != nil {
		return out, err
	}
	for _, l := range o.Lines {
		p := products[l.ProductID]
		out.Lines = append(out.Lines, DetailLine{OrderLine: l, SKU: p.SKU, Name: p.Name, TotalCents: domain.LineTotal(l)})
		out.Totals.Quantity += l.Quantity
	}
	if out.History, err = store.OrderEvents(tx, o.ID); err != nil {
		return out, err
	}
	recs, err := store.RowConflicts(tx, domain.TableOrders, o.ID)
	if err != nil {
		return out, err
	}
	out.Conflicts = make([]Conflict, len(recs))
	for i, rec := range recs {
		out.Conflicts[i] = toConflict(rec)
	}
	return out, nil
}
