package store

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
)

// Resolving a conflict may write a row again under the id of a row that was
// deleted (a device edited it offline meanwhile). Its tombstones are still in
// the change log, so the row cannot start again at version 1 as a create: it
// takes the version after its last logged one and replaces its tombstones, and
// a device that still holds the old row takes the new one as a newer version.

// nextVersion is the version a row written under id must take: 1 for an id
// never used, else one past the highest version logged for it.
func nextVersion(tx *gorm.DB, table, id string) (int64, bool, error) {
	var v *int64
	if err := tx.Model(&ChangeEntry{}).Select("MAX(version)").Where("tbl = ? AND row_id = ?", table, id).
		Scan(&v).Error; err != nil {
		return 0, false, fmt.Errorf("last version of %s %s: %w", table, id, err)
	}
	if v == nil {
		return 1, false, nil
	}
	return *v + 1, true, nil
}

func recreate(tx *gorm.DB, now time.Time, table, id string, row func(version int64) any, keys []string) (int64, error) {
	version, used, err := nextVersion(tx, table, id)
	if err != nil {
		return 0, err
	}
	if err := tx.Create(row(version)).Error; err != nil {
		return 0, fmt.Errorf("recreate %s: %w", table, Translate(err, table))
	}
	return version, LogChange(tx, now, Change{Table: table, RowID: id, Version: version, Keys: keys, Created: !used})
}

// RecreateVisit inserts v, which may reuse the id of a deleted visit.
func RecreateVisit(tx *gorm.DB, now time.Time, acc domain.Account, v domain.Visit) (domain.Visit, error) {
	v.UpdatedAt = now
	var err error
	v.Version, err = recreate(tx, now, domain.TableVisits, v.ID, func(version int64) any {
		v.Version = version
		r := toVisitRow(v, domain.FieldVersions{})
		return &r
	}, domain.AccountKeys(acc.TerritoryID, acc.OwnerID))
	return v, err
}

// RecreateOrder inserts o, which may reuse the id of a deleted order.
func RecreateOrder(tx *gorm.DB, now time.Time, acc domain.Account, o domain.Order) (domain.Order, error) {
	o.UpdatedAt = now
	if o.Lines == nil {
		o.Lines = []domain.OrderLine{}
	}
	var err error
	o.Version, err = recreate(tx, now, domain.TableOrders, o.ID, func(version int64) any {
		o.Version = version
		r := toOrderRow(o, domain.FieldVersions{})
		return &r
	}, domain.AccountKeys(acc.TerritoryID, acc.OwnerID))
	return o, err
}

// RecreateNote inserts n, which may reuse the id of a deleted note.
func RecreateNote(tx *gorm.DB, now time.Time, acc domain.Account, n domain.AccountNote) (domain.AccountNote, error) {
	n.UpdatedAt = now
	var err error
	n.Version, err = recreate(tx, now, domain.TableAccountNotes, n.ID, func(version int64) any {
		n.Version = version
		r := toNoteRow(n, domain.FieldVersions{})
		return &r
	}, domain.AccountKeys(acc.TerritoryID, acc.OwnerID))
	return n, err
}
