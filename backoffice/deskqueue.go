package backoffice

import (
	"context"
	"errors"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// QueueItem is an order of the queue with the names the desk page shows.
type QueueItem struct {
	domain.Order
	AccountName string
	RepName     string
}

// Queue is List with the account and rep names of each order, for the desk page.
func (d *OrderDesk) Queue(ctx context.Context, c domain.Caller, q OrderQuery) ([]QueueItem, *string, error) {
	page, err := d.List(ctx, c, q)
	if err != nil {
		return nil, nil, err
	}
	var accIDs, repIDs []string
	for _, o := range page.Items {
		accIDs, repIDs = append(accIDs, o.AccountID), append(repIDs, o.RepID)
	}
	var accs, reps map[string]string
	err = d.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if accs, err = store.Names(tx, "accounts", accIDs); err != nil {
			return err
		}
		reps, err = store.Names(tx, "users", repIDs)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]QueueItem, len(page.Items))
	for i, o := range page.Items {
		out[i] = QueueItem{Order: o, AccountName: accs[o.AccountID], RepName: reps[o.RepID]}
	}
	return out, page.NextCursor, nil
}

// VersionedID names an order at the version the coordinator saw.
type VersionedID struct {
	ID      string
	Version int64
}

// BulkResult is the outcome of one order of a bulk transition: the order as
// moved, or the error that left it as it was.
type BulkResult struct {
	ID    string
	Order domain.Order
	Err   *domain.Error
}

// TransitionMany moves each order to the same status, each in its own
// transaction with the checks of Transition: one stale or illegal order is
// reported and leaves the others moved. Errors that are not the order's
// (the database is down) stop the batch.
func (d *OrderDesk) TransitionMany(ctx context.Context, c domain.Caller, to string, reason *string, ids []VersionedID) ([]BulkResult, error) {
	// A role that moves no order is refused once, before any order is read,
	// as Transition refuses it: not as a list of refusals of each order.
	if err := domain.Authorize(c.Role, domain.ActTransitionOrder); err != nil {
		return nil, err
	}
	out := make([]BulkResult, 0, len(ids))
	for _, v := range ids {
		ver := v.Version
		o, err := d.Transition(ctx, c, v.ID, TransitionInput{To: to, ExpectedVersion: &ver, Reason: reason})
		if err != nil {
			derr := domain.AsError(err)
			if derr == nil || derr.Code == domain.CodeInternal || derr.Code == domain.CodeUnavailable || errors.Is(err, context.Canceled) {
				return out, err
			}
			out = append(out, BulkResult{ID: v.ID, Err: derr})
			continue
		}
		out = append(out, BulkResult{ID: v.ID, Order: o})
	}
	return out, nil
}
