package reports

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
	"gorm.io/gorm"
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
		if err := db.Tx(context.Background(), func(tx *gorm.DB) error {
			_, err := store.CreateUser(tx, at("2026-02-01 00:00"), store.UserRecord{User: domain.User{ID: rep4,
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
		byID := map[string]Metrics{}
		for _, r := range got.Reps {
			byID[r.RepID] = r.Metrics
		}
		want1 := wantRep1
		want1.VisitsRequired, want1.AttainmentPct = 2.25, 133.3
		checkMetrics(t, "rep1", byID[w.id("rep1")], want1)
		want4 := Metrics{Accounts: 4, AccountsVisited: 3, CoveragePct: 75, VisitsRequired: 2.25, OverdueAccounts: 2}
		checkMetrics(t, "rep4", byID[rep4], want4)
		checkMetrics(t, "rep2", byID[w.id("rep2")], wantRep2) // alone in T2: the whole territory
	})
}
