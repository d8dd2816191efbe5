package reports

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// Two reps sharing T1 are each measured against their share of its required
// visits (4.5 ÷ 2 = 2.25), so the reps' required visits add up to the
// territory's and a rep's attainment reads like the territory's: rep1's 3
// visits are 133.3% of their share (they were 66.7% of the whole territory,
// beside T1's 88.9%); rep4, who visited nothing, 0%.
func TestReports_CoverageSharedTerritory(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		rep4 := uuid.NewString()
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := store.CreateUser(tx.At(at("2026-02-01 00:00")), store.UserRecord{User: domain.User{ID: rep4,
				Name: "User rep4", Role: domain.RoleRep, TerritoryIDs: []string{w.id("T1")}},
				Email: "rep4@example.com", PasswordHash: "x"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got, err := newService(t, db).Coverage(context.Background(), w.caller("manager"), params(t, "2026-03-01", "2026-03-10", ""))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]RepCoverage{}
		for _, r := range got.Reps {
			byID[r.RepID] = r
		}
		// The contract's metrics are unchanged: each rep carries all of T1.
		checkMetrics(t, "rep1", byID[w.id("rep1")].Metrics, wantRep1)
		if r := byID[w.id("rep1")]; r.VisitsRequiredShare != 2.25 || r.AttainmentSharePct != 133.3 {
			t.Errorf("rep1 share = %v / %v%%, want 2.25 / 133.3%%", r.VisitsRequiredShare, r.AttainmentSharePct)
		}
		if r := byID[rep4]; r.VisitsRequiredShare != 2.25 || r.AttainmentSharePct != 0 {
			t.Errorf("rep4 share = %v / %v%%, want 2.25 / 0%%", r.VisitsRequiredShare, r.AttainmentSharePct)
		}
		// Alone in T2: the share is the whole territory.
		checkMetrics(t, "rep2", byID[w.id("rep2")].Metrics, wantRep2)
		if r := byID[w.id("rep2")]; r.VisitsRequiredShare != wantRep2.VisitsRequired || r.AttainmentSharePct != wantRep2.AttainmentPct {
			t.Errorf("rep2 share = %v / %v%%, want the whole territory %v / %v%%", r.VisitsRequiredShare, r.AttainmentSharePct, wantRep2.VisitsRequired, wantRep2.AttainmentPct)
		}
	})
}
