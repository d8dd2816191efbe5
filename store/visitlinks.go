package store

import (
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
)

// An order may name the visit it was taken at (visit_id). A visit can be
// deleted while still planned, and an order outlives it: deleting the visit
// clears the link on every order that holds it, as an ordinary change of the
// order (version bumped, visit_id marked changed for merges, change logged), so
// devices get the unlinked order by pull and the order stays editable.

// unlinkOrders clears visit_id on the orders of the visit being deleted.
func unlinkOrders(tx *Tx, visitID string) error {
	var rows []orderRow
	if err := lock(tx, true).Where("visit_id = ?", visitID).Order("id").Find(&rows).Error; err != nil {
		return fmt.Errorf("orders of visit %s: %w", visitID, err)
	}
	for _, r := range rows {
		old := r.domain()
		acc, _, err := GetAccount(tx, old.AccountID, false)
		if err != nil {
			return fmt.Errorf("account of order %s: %w", old.ID, err)
		}
		next := old
		next.VisitID = nil
		saved, err := UpdateOrder(tx, acc, old, domain.DecodeFieldVersions(r.FieldVersions), next)
		if err != nil {
			return err
		}
		if err := RecordOrderChange(tx, domain.OrderChangeBy{Via: domain.ViaSystem}, &old, saved); err != nil {
			return err
		}
	}
	return nil
}

// WasDeleted reports whether id names a row of table that existed and was
// deleted (its tombstones are in the change log) and does not exist now.
func WasDeleted(tx *Tx, table, id string) (bool, error) {
	existing, err := ExistingIDs(tx, table, []string{id})
	if err != nil || existing[id] {
		return false, err
	}
	logged, err := LoggedIDs(tx, table, []string{id})
	return logged[id], err
}
