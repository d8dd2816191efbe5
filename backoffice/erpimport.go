package backoffice

import (
	"context"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// ERPImport takes the ERP's word that an order shipped or was delivered
// (docs/api.md, "ERP status import"). Each report is one transaction: the
// order's new status goes through the change log (reps see it on their next
// pull), with its history entry, its webhook event and the report itself,
// kept by the ERP's reference so that the same report sent again is answered
// as before and changes nothing.
type ERPImport struct {
	db *store.DB
}

func NewERPImport(db *store.DB) *ERPImport { return &ERPImport{db: db} }

// ERPApplied is a report's outcome: the order's status and version it
// produced (the same for a repeated report, whatever happened since).
type ERPApplied struct {
	ERPRef  string `json:"erp_ref"`
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
}

// Report applies one report of integration k. A reference already reported
// with the same content is answered as the first time; with other content it
// is a conflict. Only confirmed → shipped → delivered are accepted.
func (e *ERPImport) Report(ctx context.Context, k domain.Integration, r domain.ERPReport) (ERPApplied, error) {
	if err := domain.AuthorizeIntegration(domain.ActImportOrderStatus); err != nil {
		return ERPApplied{}, err
	}
	r.ShippedAt, r.DeliveredAt = microUTC(r.ShippedAt), microUTC(r.DeliveredAt)
	if err := domain.CheckERPReport(r, e.db.Now()); err != nil {
		return ERPApplied{}, err
	}
	var out ERPApplied
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		// The account, then the order, as every writer locks them
		// (store/locks.go), before the reference is looked up: a repeated
		// report sent while the first is in flight waits for the first's
		// commit and then finds it recorded.
		if err := store.LockAccountOf(tx, domain.TableOrders, r.OrderID); err != nil {
			return err
		}
		cur, fv, orderErr := store.GetOrder(tx, r.OrderID, true)
		if orderErr != nil && domain.ErrorCode(orderErr) != domain.CodeNotFound {
			return orderErr
		}
		prev, found, err := store.GetERPReport(tx, r.ERPRef)
		if err != nil {
			return err
		}
		if found {
			if !domain.SameERPReport(prev.Report, r) {
				return domain.Errorf(domain.CodeConflict, "erp_ref %s was already reported with other content", r.ERPRef)
			}
			out = ERPApplied{ERPRef: r.ERPRef, OrderID: r.OrderID, Status: r.Status, Version: prev.OrderVersion}
			return nil
		}
		if orderErr != nil {
			return orderErr
		}
		out, err = e.apply(tx, k, r, cur, fv)
		return err
	})
	return out, err
}

// apply moves cur, the order locked by the caller, as r reports.
func (e *ERPImport) apply(tx *store.Tx, k domain.Integration, r domain.ERPReport, cur domain.Order, fv domain.FieldVersions) (ERPApplied, error) {
	if err := domain.CheckERPOrderMove(cur.Status, r.Status); err != nil {
		return ERPApplied{}, err
	}
	acc, _, err := store.GetAccount(tx, cur.AccountID, false)
	if err != nil {
		return ERPApplied{}, err
	}
	next := cur
	next.Status = r.Status
	if err := store.FinishOrder(tx, &next, cur.Status); err != nil {
		return ERPApplied{}, err
	}
	saved, err := store.UpdateOrder(tx, acc, cur, fv, next)
	if err != nil {
		return ERPApplied{}, err
	}
	by := domain.OrderChangeBy{Via: domain.ViaERP, ActorName: k.Name, ERPRef: r.ERPRef, ReportedAt: r.ERPTime()}
	if err := store.RecordOrderChange(tx, by, &cur, saved); err != nil {
		return ERPApplied{}, err
	}
	if err := store.RecordERPReport(tx, k.KeyID, store.ERPReportRecord{Report: r, OrderVersion: saved.Version}); err != nil {
		return ERPApplied{}, err
	}
	return ERPApplied{ERPRef: r.ERPRef, OrderID: saved.ID, Status: saved.Status, Version: saved.Version}, nil
}

// microUTC is t as the databases keep it (UTC, microseconds), so a repeated
// report compares equal to the recorded one.
func microUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
