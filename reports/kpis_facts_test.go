package reports

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestReports_KPIFactsMatchOrders writes random orders (every status, times
// all around the clock over fifteen months, several reps per account) and
// then random changes (status, total, deletion, accounts moved between
// territories), and checks that the KPI figures read from the facts of
// migration 00023 equal those computed from the orders themselves
// (kpiDirect), for random months and quarters read as of random days, for the
// director and a manager, in UTC and in Los Angeles.
func TestReports_KPIFactsMatchOrders(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		for _, zoneName := range []string{"UTC", "America/Los_Angeles"} {
			t.Run(zoneName, func(t *testing.T) {
				loc := zone(t, zoneName)
				setZone(t, db, loc)
				s := newService(t, db).WithLocation(loc)
				rnd := rand.New(rand.NewPCG(uint64(len(zoneName)), 11))
				w := buildRandomKPIWorld(t, db, rnd)
				for i := 0; i < 40; i++ {
					p := randomKPIParams(t, rnd)
					for _, c := range []domain.Caller{w.director, w.manager} {
						compareKPIFacts(t, s, c, p)
					}
				}
			})
		}
	})
}

type randomKPIWorld struct {
	director, manager domain.Caller
}

func buildRandomKPIWorld(t *testing.T, db *store.DB, rnd *rand.Rand) randomKPIWorld {
	t.Helper()
	ctx := context.Background()
	now := at("2025-01-01 00:00")
	terrs := make([]string, 6) // 0, 1 roots; 2, 3 under 0; 4 under 1; 5 under 2
	parents := []int{-1, -1, 0, 0, 1, 2}
	var reps, accounts []string
	w := randomKPIWorld{director: domain.Caller{UserID: uuid.NewString(), Role: domain.RoleDirector},
		manager: domain.Caller{UserID: uuid.NewString(), Role: domain.RoleManager}}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		tx = tx.At(now)
		for i := range terrs {
			terrs[i] = uuid.NewString()
			row := domain.Territory{ID: terrs[i], Name: fmt.Sprintf("T%d %s", i, terrs[i][:4])}
			if parents[i] >= 0 {
				row.ParentID = ptr(terrs[parents[i]])
			}
			if _, err := store.CreateTerritory(tx, row); err != nil {
				return err
			}
		}
		users := []store.UserRecord{
			{User: domain.User{ID: w.director.UserID, Role: domain.RoleDirector}},
			{User: domain.User{ID: w.manager.UserID, Role: domain.RoleManager, TerritoryIDs: []string{terrs[0]}}},
		}
		for i := 0; i < 5; i++ {
			id := uuid.NewString()
			reps = append(reps, id)
			users = append(users, store.UserRecord{User: domain.User{ID: id, Role: domain.RoleRep,
				TerritoryIDs: []string{terrs[rnd.IntN(len(terrs))]}}})
		}
		for i, u := range users {
			u.Name, u.Email, u.PasswordHash = fmt.Sprintf("User %d", i), u.ID+"@example.com", "x"
			if _, err := store.CreateUser(tx, u); err != nil {
				return err
			}
		}
		for i := 0; i < 14; i++ {
			a, err := store.CreateAccount(tx, domain.Account{ID: uuid.NewString(), Name: fmt.Sprintf("Account %d", i),
				TerritoryID: terrs[rnd.IntN(len(terrs))], Class: "A", Status: "active"})
			if err != nil {
				return err
			}
			accounts = append(accounts, a.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	statuses := []string{domain.OrderDraft, domain.OrderSubmitted, domain.OrderConfirmed, domain.OrderShipped,
		domain.OrderDelivered, domain.OrderCancelled, domain.OrderRejected}
	start := at("2025-10-01 00:00")
	instant := func() time.Time {
		if rnd.IntN(4) == 0 { // around a month's first midnight, in UTC or Los Angeles
			m := start.AddDate(0, rnd.IntN(15), 0)
			return m.Add(time.Duration(rnd.Int64N(int64(12*time.Hour))) - 3*time.Hour)
		}
		return start.Add(time.Duration(rnd.Int64N(int64(15 * 31 * 24 * time.Hour))))
	}
	var orders []string
	err = db.InTx(ctx, func(tx *store.Tx) error {
		tx = tx.At(now)
		for i := 0; i < 250; i++ {
			acc, _, err := store.GetAccount(tx, accounts[rnd.IntN(len(accounts))], false)
			if err != nil {
				return err
			}
			id := uuid.NewString()
			o := domain.Order{ID: id, AccountID: acc.ID, RepID: reps[rnd.IntN(len(reps))],
				Status: statuses[rnd.IntN(len(statuses))], TotalCents: rnd.Int64N(50000), Currency: "EUR"}
			if o.Status != domain.OrderDraft {
				o.Number, o.SubmittedAt = ptr("SO-"+id[:8]), ptr(instant())
			}
			if _, err := store.CreateOrder(tx, acc, o); err != nil {
				return err
			}
			orders = append(orders, id)
			if rnd.IntN(3) == 0 {
				in := instant()
				if _, err := store.CreateVisit(tx, acc, domain.Visit{ID: uuid.NewString(), AccountID: acc.ID,
					RepID: o.RepID, Status: "completed", PlannedAt: in, CheckedInAt: &in,
					CheckedOutAt: ptr(in.Add(time.Minute))}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Changes after the fact, one transaction each: confirmations,
	// cancellations and repricing move orders between the figures, deletions
	// remove them, moves take an account's history to another territory.
	for i := 0; i < 80; i++ {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			tx = tx.At(now.Add(time.Duration(i+1) * time.Minute))
			if rnd.IntN(8) == 0 {
				a, fv, err := store.GetAccount(tx, accounts[rnd.IntN(len(accounts))], true)
				if err != nil {
					return err
				}
				moved := a
				moved.TerritoryID = terrs[rnd.IntN(len(terrs))]
				_, err = store.UpdateAccount(tx, a, fv, moved)
				return err
			}
			k := rnd.IntN(len(orders))
			old, fv, err := store.GetOrder(tx, orders[k], true)
			if err != nil {
				return err
			}
			acc, _, err := store.GetAccount(tx, old.AccountID, false)
			if err != nil {
				return err
			}
			switch rnd.IntN(4) {
			case 0:
				orders = append(orders[:k], orders[k+1:]...)
				return store.DeleteOrder(tx, acc, old)
			case 1:
				o := old
				o.TotalCents = rnd.Int64N(50000)
				_, err = store.UpdateOrder(tx, acc, old, fv, o)
				return err
			default:
				o := old
				o.Status = statuses[1+rnd.IntN(len(statuses)-1)]
				if o.SubmittedAt == nil {
					o.Number, o.SubmittedAt = ptr("SO-"+o.ID[:8]), ptr(instant())
				}
				_, err = store.UpdateOrder(tx, acc, old, fv, o)
				return err
			}
		})
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	drift, err := store.ReportAggregateDrift(ctx, db, 5)
	if err != nil || len(drift) > 0 {
		t.Fatalf("report tables after the changes: %v %v", drift, err)
	}
	return w
}

func randomKPIParams(t *testing.T, rnd *rand.Rand) KPIParams {
	t.Helper()
	var period string
	if rnd.IntN(3) == 0 {
		period = fmt.Sprintf("2026-Q%d", 1+rnd.IntN(4))
	} else {
		period = fmt.Sprintf("2026-%02d", 1+rnd.IntN(12))
	}
	P, err := domain.ParsePeriod(period)
	if err != nil {
		t.Fatal(err)
	}
	asOf := P.Start.AddDate(0, 0, rnd.IntN(P.Days()+5)) // sometimes after the end: complete
	p, err := ParseKPIParams(at("2027-01-15 12:00"), period, asOf.Format(time.DateOnly), "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// compareKPIFacts compares the rows the report is built from, read from the
// facts and from the orders, dropping rows of nothing but zeros (the facts
// name a territory holding only orders outside the windows' counts, the
// orders do not, and neither changes a figure).
func compareKPIFacts(t *testing.T, s *Service, c domain.Caller, p KPIParams) {
	t.Helper()
	ctx := context.Background()
	sc, err := s.scopeOf(ctx, c, kindKPIs, "")
	if err != nil {
		t.Fatal(err)
	}
	_, wins := kpiCalendar(p)
	var facts []kpiFactRow
	var factVisits []activityAgg
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if err := s.checkZone(tx); err != nil {
			return err
		}
		facts, factVisits, err = s.kpiFacts(tx, sc, wins)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	direct, directVisits, err := s.kpiDirect(ctx, sc, wins)
	if err != nil {
		t.Fatal(err)
	}
	norm := func(rows []kpiFactRow) []kpiFactRow {
		var out []kpiFactRow
		for _, r := range rows {
			if (r != kpiFactRow{Kind: r.Kind, ID: r.ID}) {
				out = append(out, r)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Kind+out[i].ID < out[j].Kind+out[j].ID })
		return out
	}
	visitSums := func(vs []activityAgg) map[string]int64 {
		m := map[string]int64{}
		for _, v := range vs {
			m[v.TerritoryID+"/"+v.RepID] += v.B
		}
		return m
	}
	name := fmt.Sprintf("%s as of %s, %s", p.Period.Name, Date(p.AsOf), c.Role)
	if got, want := norm(facts), norm(direct); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: facts\n%+v\nwant (from the orders)\n%+v", name, got, want)
	}
	if got, want := visitSums(factVisits), visitSums(directVisits); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: visits %v, want %v", name, got, want)
	}
}
