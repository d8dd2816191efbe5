package backoffice

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// OrderDesk is the coordinators' queue of submitted orders and their status
// transitions (docs/protocol.md §6). Managers, directors and ops read the queue; only
// coordinators move orders.
type OrderDesk struct {
	db *store.DB
}

func NewOrderDesk(db *store.DB) *OrderDesk { return &OrderDesk{db: db} }

// OrderQuery filters, sorts and pages the queue. Every field is a query
// parameter as sent; List checks them.
type OrderQuery struct {
	Status      string
	TerritoryID string
	Cursor      string
	Limit       int

	Number        string
	AccountID     string
	RepID         string
	SubmittedFrom string
	SubmittedTo   string
	MinTotal      string
	MaxTotal      string
	Sort          string
	// Zone is the organisation's time zone: a SubmittedFrom or SubmittedTo
	// given as a date names that day there. Nil is UTC.
	Zone *time.Location
}

// OrderList is one page of the queue.
type OrderList struct {
	Items      []domain.Order `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

// TransitionInput moves an order to To, if it is still at ExpectedVersion.
// Reason is required to reject an order.
type TransitionInput struct {
	To              string  `json:"to"`
	ExpectedVersion *int64  `json:"expected_version"`
	Reason          *string `json:"reason"`
}

// List returns the caller's queue: orders that have been submitted (drafts are
// still on the rep's device), of accounts in the caller's territories, oldest
// submission first unless sorted otherwise, filtered by q.
func (d *OrderDesk) List(ctx context.Context, c domain.Caller, q OrderQuery) (OrderList, error) {
	if err := domain.Authorize(c.Role, domain.ActListOrders); err != nil {
		return OrderList{}, err
	}
	var sel store.OrderQueue
	if err := parseOrderFilters(q, &sel); err != nil {
		return OrderList{}, err
	}
	if err := applyCursor(&sel, sel.Sort, q.Cursor); err != nil {
		return OrderList{}, err
	}
	limit := clampLimit(q.Limit)
	sel.Limit = limit + 1
	out := OrderList{Items: []domain.Order{}}
	err := d.db.ReadTx(ctx, func(tx *store.Tx) error {
		r, err := reachWithin(tx, c, q.TerritoryID)
		if err != nil {
			return err
		}
		sel.All, sel.Territories = r.All, r.Territories
		items, err := store.ListOrderQueue(tx, sel)
		if err != nil {
			return err
		}
		if len(items) > limit {
			items = items[:limit]
			out.NextCursor = encodeOrderCursor(sel.Sort, items[limit-1])
		}
		out.Items = items
		return nil
	})
	return out, err
}

// Transition moves an order one arrow of its state machine. A stale
// expected_version is a version_conflict: the coordinator looked at an order
// that has changed since (a rep's edit, another coordinator).
func (d *OrderDesk) Transition(ctx context.Context, c domain.Caller, id string, in TransitionInput) (domain.Order, error) {
	if err := domain.Authorize(c.Role, domain.ActTransitionOrder); err != nil {
		return domain.Order{}, err
	}
	if err := checkTransitionInput(in); err != nil {
		return domain.Order{}, err
	}
	if err := checkPathID("order", id); err != nil {
		return domain.Order{}, err
	}
	var out domain.Order
	err := d.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := reachOf(tx, c)
		if err != nil {
			return err
		}
		// The account before the order, as every writer locks them (store/locks.go).
		if err := store.LockAccountOf(tx, domain.TableOrders, id); err != nil {
			return err
		}
		cur, fv, err := store.GetOrder(tx, id, true)
		if err != nil {
			return err
		}
		acc, err := accountInReach(tx, r, cur.AccountID)
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return domain.Errorf(domain.CodeNotFound, "order not found")
		}
		if err != nil {
			return err
		}
		if *in.ExpectedVersion != cur.Version {
			return domain.Errorf(domain.CodeVersionConflict, "order is at version %d, not %d", cur.Version, *in.ExpectedVersion)
		}
		if cur.Status == in.To {
			return domain.Errorf(domain.CodeIllegalTransition, "order is already %s", cur.Status)
		}
		next := cur
		next.Status = in.To
		if in.Reason != nil {
			next.Reason = in.Reason
		}
		w := domain.RowWrite{Table: domain.TableOrders, Kind: domain.WriteUpdate, PrevOwner: cur.RepID, Owner: cur.RepID,
			PrevStatus: cur.Status, Status: next.Status, Changed: domain.ChangedFields(cur, next)}
		if err := domain.CheckWrite(c, w); err != nil {
			return err
		}
		if err := store.FinishOrder(tx, &next, cur.Status); err != nil {
			return err
		}
		if out, err = store.UpdateOrder(tx, acc, cur, fv, next); err != nil {
			return err
		}
		return store.RecordOrderChange(tx, changeBy(c), &cur, out)
	})
	return out, err
}

// changeBy is the caller as the order history records them.
func changeBy(c domain.Caller) domain.OrderChangeBy {
	via := c.Via
	if via == "" {
		via = domain.ViaAPI
	}
	return domain.OrderChangeBy{UserID: c.UserID, Role: c.Role, Via: via}
}

func checkTransitionInput(in TransitionInput) error {
	var f fields
	switch {
	case in.To == "":
		f.add("to", "is required")
	case !slices.Contains(domain.OrderStatuses(), in.To):
		f.add("to", "must be one of "+strings.Join(domain.OrderStatuses(), ", "))
	}
	if in.ExpectedVersion == nil {
		f.add("expected_version", "is required")
	}
	if in.To == domain.OrderRejected && (in.Reason == nil || strings.TrimSpace(*in.Reason) == "") {
		f.add("reason", "is required to reject an order")
	}
	return f.err()
}

// checkOrderEditable: lines, note and visit change only while the order is a
// draft (docs/protocol.md §4.4), whoever writes.
func checkOrderEditable(cur, next domain.Order) error {
	if !domain.OrderEditable(cur.Status) {
		for _, f := range domain.ChangedFields(cur, next) {
			if f == "lines" || f == "note" || f == "visit_id" {
				return domain.Errorf(domain.CodeIllegalTransition, "a %s order can no longer be edited", cur.Status)
			}
		}
	}
	return nil
}
