package reports

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// The KPI report's days are the organisation's. In Berlin (UTC+1 in
// winter, +2 in summer):
//
//	A 2026-10-31 23:30Z = 1 Nov 00:30 CET: November in Berlin, October in UTC
//	B 2026-11-30 23:30Z = 1 Dec 00:30 CET: December in Berlin, November in UTC
//	C 2026-11-15 22:30Z = 15 Nov 23:30 CET: the 15th in both
//	D 2026-03-31 22:30Z = 1 Apr 00:30 CEST, after the change to summer time on
//	  29 March: April in Berlin (a fixed +1 would keep it in March), March in UTC
//
// and a visit checked in at 23:30 Berlin time on 15 November counts for the
// 15th.
func TestReports_KPIsLocalDays(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ids := map[string]string{}
		for _, n := range []string{"T", "director", "rep", "acc"} {
			ids[n] = uuid.NewString()
		}
		now := at("2026-01-01 00:00")
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			if _, err := store.CreateTerritory(tx.At(now), domain.Territory{ID: ids["T"], Name: "T"}); err != nil {
				return err
			}
			for _, u := range []struct {
				name string
				role domain.Role
			}{{"director", domain.RoleDirector}, {"rep", domain.RoleRep}} {
				var terrs []string
				if u.role == domain.RoleRep {
					terrs = []string{ids["T"]}
				}
				if _, err := store.CreateUser(tx.At(now), store.UserRecord{User: domain.User{ID: ids[u.name], Name: u.name,
					Role: u.role, TerritoryIDs: terrs}, Email: u.name + "@example.com", PasswordHash: "x"}); err != nil {
					return err
				}
			}
			acc, err := store.CreateAccount(tx.At(now), domain.Account{ID: ids["acc"], Name: "Acc", TerritoryID: ids["T"],
				Class: "A", Status: "active"})
			if err != nil {
				return err
			}
			for _, o := range []struct {
				at    string
				cents int64
			}{{"2026-10-31 23:30", 1000}, {"2026-11-30 23:30", 2000}, {"2026-11-15 22:30", 4000}, {"2026-03-31 22:30", 8000}} {
				id := uuid.NewString()
				if _, err := store.CreateOrder(tx.At(now), acc, domain.Order{ID: id, Number: ptr("SO-" + id[:8]),
					AccountID: acc.ID, RepID: ids["rep"], Status: "confirmed", TotalCents: o.cents, Currency: "EUR",
					SubmittedAt: ptr(at(o.at))}); err != nil {
					return err
				}
			}
			in := at("2026-11-15 22:30")
			_, err = store.CreateVisit(tx.At(now), acc, domain.Visit{ID: uuid.NewString(), AccountID: acc.ID, RepID: ids["rep"],
				Status: "completed", PlannedAt: in, CheckedInAt: &in, CheckedOutAt: ptr(in.Add(time.Minute))})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		utc := newService(t, db)
		local := utc.WithLocation(berlin)
		director := domain.Caller{UserID: ids["director"], Role: domain.RoleDirector}
		for _, c := range []struct {
			name          string
			svc           *Service
			period, asOf  string
			revenue, prev int64
			visits        int64
		}{
			{"UTC November", utc, "2026-11", "2026-11-30", 6000, 1000, 1},
			{"Berlin November", local, "2026-11", "2026-11-30", 5000, 0, 1},
			{"UTC to the 15th", utc, "2026-11", "2026-11-15", 4000, 0, 1},
			{"Berlin to the 15th", local, "2026-11", "2026-11-15", 5000, 0, 1},
			{"Berlin to the 14th", local, "2026-11", "2026-11-14", 1000, 0, 0},
			{"UTC March", utc, "2026-03", "2026-03-31", 8000, 0, 0},
			{"Berlin March", local, "2026-03", "2026-03-31", 0, 0, 0},
			{"Berlin April", local, "2026-04", "2026-04-30", 8000, 0, 0},
		} {
			p, err := ParseKPIParams(at("2026-12-15 12:00"), c.period, c.asOf, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.svc.KPIs(context.Background(), director, p)
			if err != nil {
				t.Fatal(err)
			}
			if got.Totals.RevenueCents != c.revenue || got.Totals.PreviousRevenueCents != c.prev ||
				got.Totals.VisitsCompleted != c.visits {
				t.Errorf("%s: revenue %d, previous %d, visits %d; want %d, %d, %d", c.name, got.Totals.RevenueCents,
					got.Totals.PreviousRevenueCents, got.Totals.VisitsCompleted, c.revenue, c.prev, c.visits)
			}
		}
		// "Today" is Berlin's: at 23:30Z on 31 October it is already 1 November there.
		p, err := ParseKPIParams(at("2026-10-31 23:30").In(berlin), "", "", "")
		if err != nil || p.Period.Name != "2026-11" {
			t.Errorf("Berlin today: %+v %v", p, err)
		}
	})
}
