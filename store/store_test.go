package store_test

import (
	"context"
	"sort"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

func entries(t *testing.T, db *store.DB, rowID string) []string {
	t.Helper()
	var es []store.ChangeEntry
	if err := db.Gorm.Where("row_id = ?", rowID).Order("seq").Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		s := e.Op + " " + e.ScopeKey
		if e.Reason != nil {
			s += " " + *e.Reason
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestLogChange_AccountMoveRelogsHistory(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := db.Now()
		t1, t2 := uuid.NewString(), uuid.NewString()
		rep := uuid.NewString()
		acc := domain.Account{ID: uuid.NewString(), Name: "Acme", TerritoryID: t1, Class: "A", Status: "active"}
		visit := domain.Visit{ID: uuid.NewString(), AccountID: acc.ID, RepID: rep, Status: "planned", PlannedAt: now}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, id := range []string{t1, t2} {
				if _, err := store.CreateTerritory(tx, domain.Territory{ID: id, Name: "T"}); err != nil {
					return err
				}
			}
			if _, err := store.CreateUser(tx, store.UserRecord{User: domain.User{ID: rep, Name: "R", Role: domain.RoleRep, TerritoryIDs: []string{t1}}, Email: "r@x.io", PasswordHash: "x"}); err != nil {
				return err
			}
			a, err := store.CreateAccount(tx, acc)
			if err != nil {
				return err
			}
			_, err = store.CreateVisit(tx, a, visit)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			old, fv, err := store.GetAccount(tx, acc.ID, true)
			if err != nil {
				return err
			}
			moved := old
			moved.TerritoryID = t2
			got, err := store.UpdateAccount(tx, old, fv, moved)
			if got.Version != 2 {
				t.Errorf("version = %d, want 2", got.Version)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"delete t:" + t1 + " out_of_scope", "upsert t:" + t2}
		for _, id := range []string{acc.ID, visit.ID} {
			got := entries(t, db, id)
			if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("entries of %s = %v, want %v", id, got, want)
			}
		}
	})
}

func TestNextOrderNumber_Unique(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		seen := map[string]bool{}
		for i := 0; i < 3; i++ {
			err := db.InTx(context.Background(), func(tx *store.Tx) error {
				n, err := store.NextOrderNumber(tx)
				if seen[n] {
					t.Errorf("number %s handed out twice", n)
				}
				seen[n] = true
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestDB_WarmOpensThePool: on Postgres, Warm leaves every connection the pool
// may hold open and idle; on SQLite it does nothing.
func TestDB_WarmOpensThePool(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		if err := db.Warm(context.Background()); err != nil {
			t.Fatal(err)
		}
		sqlDB, err := db.Gorm.DB()
		if err != nil {
			t.Fatal(err)
		}
		st := sqlDB.Stats()
		if db.Dialect != store.Postgres {
			return
		}
		if st.OpenConnections != st.MaxOpenConnections || st.Idle != st.MaxOpenConnections {
			t.Errorf("after Warm: %d open, %d idle, want all %d", st.OpenConnections, st.Idle, st.MaxOpenConnections)
		}
	})
}
