package reports

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

func TestReports_AccountMap(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()
		p := params(t, "2026-03-01", "2026-03-10", "")

		points, more, err := s.AccountMap(ctx, w.caller("manager"), p, 100)
		if err != nil {
			t.Fatal(err)
		}
		// The 7 active accounts of T1 and T2 (a4 is inactive, c1 outside).
		if len(points) != 7 || more {
			t.Fatalf("got %d points (more=%v), want 7", len(points), more)
		}
		byID := map[string]MapPoint{}
		for _, pt := range points {
			byID[pt.AccountID] = pt
		}
		a1, a3 := byID[w.id("a1")], byID[w.id("a3")]
		if a1.DaysSince == nil || *a1.DaysSince != 6 || a1.CadenceDays != 5 || a1.Overdueness() != 1.2 {
			t.Errorf("a1 = %+v, want 6 days since, cadence 5", a1)
		}
		if a3.DaysSince != nil || a3.Overdueness() != -1 {
			t.Errorf("a3 = %+v, want never visited", a3)
		}

		points, more, err = s.AccountMap(ctx, w.caller("manager"), p, 3)
		if err != nil || len(points) != 3 || !more {
			t.Fatalf("limit 3: %d points, more=%v, err %v", len(points), more, err)
		}
	})
}

func TestReports_ScopeTerritories(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		got, err := s.ScopeTerritories(context.Background(), w.caller("manager"))
		if err != nil {
			t.Fatal(err)
		}
		want := []TerritoryRef{{w.id("R"), "Territory R", 0}, {w.id("T1"), "Territory T1", 1}, {w.id("T2"), "Territory T2", 1}}
		if len(got) != len(want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("territory %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		_, err = s.ScopeTerritories(context.Background(), w.caller("rep1"))
		if domain.ErrorCode(err) != domain.CodeForbidden {
			t.Errorf("rep: error = %v, want forbidden", err)
		}
	})
}
