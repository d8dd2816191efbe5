package store

import (
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
)

// The rows of visits, orders and account notes are stored alike: each hangs
// off an account, whose keys scope it in the change log, and carries per-field
// versions for merging. One generic get, create, update and delete serves the
// three tables; the exported functions in rows.go name them per table.

// accountRowOf is the stored form of such a row: a GORM model that converts
// to the domain row D and keeps its field versions.
type accountRowOf[D any] interface {
	visitRow | orderRow | noteRow
	domain() D
	fieldVersions() string
}

func (r visitRow) fieldVersions() string { return r.FieldVersions }
func (r orderRow) fieldVersions() string { return r.FieldVersions }
func (r noteRow) fieldVersions() string  { return r.FieldVersions }

// accountTable describes one of the tables: its name in the change log, what
// a row is called in errors, and how to reach a domain row's id and meta and
// convert it to its stored form.
type accountTable[D any, R accountRowOf[D]] struct {
	name  string
	what  string
	id    func(D) string
	meta  func(*D) *domain.Meta
	toRow func(D, domain.FieldVersions) R
}

var (
	visits = accountTable[domain.Visit, visitRow]{name: domain.TableVisits, what: "visit",
		id: func(v domain.Visit) string { return v.ID }, meta: func(v *domain.Visit) *domain.Meta { return &v.Meta },
		toRow: toVisitRow}
	orders = accountTable[domain.Order, orderRow]{name: domain.TableOrders, what: "order",
		id: func(o domain.Order) string { return o.ID }, meta: func(o *domain.Order) *domain.Meta { return &o.Meta },
		toRow: toOrderRow}
	notes = accountTable[domain.AccountNote, noteRow]{name: domain.TableAccountNotes, what: "account note",
		id: func(n domain.AccountNote) string { return n.ID }, meta: func(n *domain.AccountNote) *domain.Meta { return &n.Meta },
		toRow: toNoteRow}
)

// get reads the row id, locked FOR UPDATE when forUpdate.
func (t accountTable[D, R]) get(tx *Tx, id string, forUpdate bool) (D, domain.FieldVersions, error) {
	var r R
	if err := lock(tx, forUpdate).Where("id = ?", id).Take(&r).Error; err != nil {
		var zero D
		return zero, nil, Translate(err, t.what)
	}
	return r.domain(), domain.DecodeFieldVersions(r.fieldVersions()), nil
}

// create inserts row under acc's keys. An id of a deleted row continues from
// its last version (recreate.go).
func (t accountTable[D, R]) create(tx *Tx, acc domain.Account, row D) (D, error) {
	m := t.meta(&row)
	m.UpdatedAt = tx.now
	var err error
	m.Version, err = recreate(tx, t.name, t.id(row), func(version int64) any {
		m.Version = version
		r := t.toRow(row, domain.FieldVersions{})
		return &r
	}, domain.AccountKeys(acc.TerritoryID, acc.OwnerID))
	return row, err
}

// update writes next over old (locked by the caller with get) when a field
// changed: the version goes up, the changed fields take it, the change is
// logged under acc's keys.
func (t accountTable[D, R]) update(tx *Tx, acc domain.Account, old D, fv domain.FieldVersions, next D) (D, error) {
	changed := domain.ChangedFields(old, next)
	if len(changed) == 0 {
		return old, nil
	}
	m := t.meta(&next)
	m.Version, m.UpdatedAt = t.meta(&old).Version+1, tx.now
	fv.Touch(m.Version, changed...)
	r := t.toRow(next, fv)
	id := t.id(next)
	if err := updateAll(tx, &r, id, t.what); err != nil {
		return next, err
	}
	return next, LogChange(tx, Change{Table: t.name, RowID: id, Version: m.Version,
		Keys: domain.AccountKeys(acc.TerritoryID, acc.OwnerID)})
}

// delete removes row and logs its tombstone, one version past it, under acc's
// keys.
func (t accountTable[D, R]) delete(tx *Tx, acc domain.Account, row D) error {
	return deleteRow(tx, t.name, new(R), t.id(row), t.meta(&row).Version+1, domain.AccountKeys(acc.TerritoryID, acc.OwnerID))
}

// deleteRow deletes the row id of table (model is its GORM model) and logs
// its tombstone at version under keys. A deleted visit, order or note takes
// its attachments with it (attachments.go).
func deleteRow(tx *Tx, table string, model any, id string, version int64, keys []string) error {
	if err := tx.g.Where("id = ?", id).Delete(model).Error; err != nil {
		return fmt.Errorf("delete %s %s: %w", table, id, Translate(err, table))
	}
	if table != domain.TableAttachments {
		if err := deleteAttachmentsOf(tx, table, id, keys); err != nil {
			return err
		}
	}
	return LogChange(tx, Change{Table: table, RowID: id, Version: version, Deleted: true, Keys: keys})
}
