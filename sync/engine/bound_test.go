package engine_test

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestPull_BoundIgnoresOtherDatabases: a write transaction left open in another
// database of the cluster (another tenant, a bulk load) must not hold back
// pulls here, while one open in this database delays delivery of later commits
// until it ends, and then everything arrives.
func TestPull_BoundIgnoresOtherDatabases(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, store.Postgres)
	other := testdb.Open(t, store.Postgres)
	o := newOrg(t, db)
	m := newMirror()
	o.syncAll(t, m, o.rep1)

	otherTx := other.Gorm.WithContext(ctx).Begin()
	defer otherTx.Rollback()
	if err := otherTx.Exec("INSERT INTO counters(name, value) VALUES ('held', 1)").Error; err != nil {
		t.Fatal(err)
	}
	v1 := uuid.NewString()
	o.push(t, o.rep1, planVisit(o, v1))
	o.syncAll(t, m, o.rep1)
	if !m.has("visits", v1) {
		t.Fatal("an open transaction in another database stalled this database's pulls")
	}

	held, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Rollback() }()
	note := domain.AccountNote{ID: uuid.NewString(), AccountID: o.acc1, AuthorID: o.rep1, Body: "written slowly"}
	acc, _, err := store.GetAccount(held, o.acc1, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateNote(held, acc, note); err != nil {
		t.Fatal(err)
	}
	v2 := uuid.NewString()
	o.push(t, o.rep1, planVisit(o, v2))
	o.syncAll(t, m, o.rep1)
	if m.has("visits", v2) {
		t.Fatal("a commit behind an open transaction of the same database was delivered: the cursor could now skip that transaction")
	}
	if err := held.Commit(); err != nil {
		t.Fatal(err)
	}
	o.syncAll(t, m, o.rep1)
	if !m.has("visits", v2) || !m.has("account_notes", note.ID) {
		t.Fatal("after the open transaction ended, both writes must arrive")
	}
	assertConverged(t, o, m, o.rep1)
}
