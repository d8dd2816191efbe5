package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestServer_FoldsReportDeltas: a serving server folds the report deltas that
// writes leave on Postgres, and the folded tables still match the base tables.
func TestServer_FoldsReportDeltas(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	deltas := seedVisitDeltas(t, db)
	e := newSrvEnv(t, db)
	e.s.Cfg.ReportFoldInterval = 20 * time.Millisecond
	serveReal(t, e)
	deadline := time.Now().Add(10 * time.Second)
	for deltas() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("deltas still unfolded after 10 s; log:\n%s", e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var completed int64
	if err := db.Gorm.Raw("SELECT COALESCE(SUM(completed), 0) FROM report_visit_days").Scan(&completed).Error; err != nil {
		t.Fatal(err)
	}
	if completed != 3 {
		t.Errorf("report_visit_days holds %d completed visits after the fold, want 3", completed)
	}
	drift, err := store.ReportAggregateDrift(ctx, db, 5)
	if err != nil || len(drift) > 0 {
		t.Errorf("after folding: drift %v, err %v", drift, err)
	}
}

// seedVisitDeltas writes three completed visits on Postgres, which leave
// report deltas to fold, and returns a counter of the deltas not folded yet.
func seedVisitDeltas(t *testing.T, db *store.DB) func() int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		tr, err := store.CreateTerritory(tx, domain.Territory{ID: uuid.NewString(), Name: "T"})
		if err != nil {
			return err
		}
		rep, err := store.CreateUser(tx, store.UserRecord{User: domain.User{ID: uuid.NewString(), Name: "rep",
			Role: domain.RoleRep, TerritoryIDs: []string{tr.ID}}, Email: "rep@example.com", PasswordHash: "x"})
		if err != nil {
			return err
		}
		acc, err := store.CreateAccount(tx, domain.Account{ID: uuid.NewString(), Name: "a", TerritoryID: tr.ID,
			Class: "A", Status: "active"})
		if err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			in := now.AddDate(0, 0, i)
			if _, err := store.CreateVisit(tx, acc, domain.Visit{ID: uuid.NewString(), AccountID: acc.ID,
				RepID: rep.ID, Status: "completed", PlannedAt: in, CheckedInAt: &in}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deltas := func() int64 {
		var n int64
		if err := db.Gorm.Raw("SELECT COUNT(*) FROM report_visit_deltas").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if deltas() == 0 {
		t.Fatal("the visits left no deltas: nothing to fold")
	}
	return deltas
}
