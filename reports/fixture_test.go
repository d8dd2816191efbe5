package reports

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// world is a small sales organisation whose report figures are computed by hand
// in the tests. Dates are in March 2026; the standard period is 03-01..03-10 and
// the cadence is configured away from the defaults: A 5 days, B 10, C 20.
//
//	R (region, no accounts)           T3 (another region)
//	├── T1: rep1; a1 A, a2 B, a3 C,    └── c1 A (rep3)
//	│       a4 A inactive, a5 B (moved here from T2 after its visit)
//	└── T2: rep2; b1 C, b2 A, b3 A (owned by rep1)
//
// manager → R; coordinator → T1; director, ops unassigned.
type world struct {
	ids map[string]string // name → id
}

func (w world) id(name string) string { return w.ids[name] }

var testCadence = Cadence{A: 5, B: 10, C: 20}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func ptr[T any](v T) *T { return &v }

func newService(t *testing.T, db *store.DB) *Service {
	t.Helper()
	return New(db, testCadence, "EUR")
}

func buildWorld(t *testing.T, db *store.DB) world {
	t.Helper()
	w := world{ids: map[string]string{}}
	for _, n := range []string{"R", "T1", "T2", "T3", "manager", "director", "coordinator", "ops",
		"rep1", "rep2", "rep3", "a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "c1"} {
		w.ids[n] = uuid.NewString()
	}
	now := at("2026-02-01 00:00")
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		steps := []func(*store.Tx, time.Time) error{w.territories, w.users, w.accounts, w.visits, w.orders, w.moveA5}
		for _, step := range steps {
			if err := step(tx.At(now), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("build world: %v", err)
	}
	return w
}

func (w world) territories(tx *store.Tx, now time.Time) error {
	for _, t := range []struct{ name, parent string }{{"R", ""}, {"T1", "R"}, {"T2", "R"}, {"T3", ""}} {
		row := domain.Territory{ID: w.id(t.name), Name: "Territory " + t.name}
		if t.parent != "" {
			row.ParentID = ptr(w.id(t.parent))
		}
		if _, err := store.CreateTerritory(tx, row); err != nil {
			return err
		}
	}
	return nil
}

func (w world) users(tx *store.Tx, now time.Time) error {
	for _, u := range []struct {
		name  string
		role  domain.Role
		terrs []string
	}{
		{"manager", domain.RoleManager, []string{"R"}},
		{"director", domain.RoleDirector, nil},
		{"coordinator", domain.RoleCoordinator, []string{"T1"}},
		{"ops", domain.RoleOps, nil},
		{"rep1", domain.RoleRep, []string{"T1"}},
		{"rep2", domain.RoleRep, []string{"T2"}},
		{"rep3", domain.RoleRep, []string{"T3"}},
	} {
		var terrs []string
		for _, t := range u.terrs {
			terrs = append(terrs, w.id(t))
		}
		rec := store.UserRecord{User: domain.User{ID: w.id(u.name), Name: "User " + u.name, Role: u.role,
			TerritoryIDs: terrs}, Email: u.name + "@example.com", PasswordHash: "x"}
		if _, err := store.CreateUser(tx, rec); err != nil {
			return err
		}
	}
	return nil
}

func (w world) accounts(tx *store.Tx, now time.Time) error {
	for i, a := range []struct{ name, terr, class, status string }{
		{"a1", "T1", "A", "active"}, {"a2", "T1", "B", "active"}, {"a3", "T1", "C", "active"},
		{"a4", "T1", "A", "inactive"}, {"a5", "T2", "B", "active"},
		{"b1", "T2", "C", "active"}, {"b2", "T2", "A", "active"}, {"b3", "T2", "A", "active"},
		{"c1", "T3", "A", "active"},
	} {
		row := domain.Account{ID: w.id(a.name), Name: "Account " + a.name, TerritoryID: w.id(a.terr),
			Class: a.class, Status: a.status, Lat: ptr(48.0 + float64(i)/10), Lng: ptr(11.0 + float64(i)/10)}
		if a.name == "b3" { // a key account of rep1's in rep2's territory
			row.OwnerID = ptr(w.id("rep1"))
		}
		if _, err := store.CreateAccount(tx, row); err != nil {
			return err
		}
	}
	return nil
}

func (w world) visits(tx *store.Tx, now time.Time) error {
	for _, v := range []struct{ account, rep, status, planned, checkedIn string }{
		{"a1", "rep1", "completed", "2026-03-04 09:00", "2026-03-04 23:59"},
		{"a1", "rep1", "planned", "2026-03-12 09:00", ""},
		{"a2", "rep1", "completed", "2026-03-10 08:00", "2026-03-10 23:30"},
		{"a2", "rep1", "completed", "2026-02-20 10:00", "2026-02-20 10:00"},
		{"a2", "rep1", "cancelled", "2026-03-03 09:00", ""},
		{"a3", "rep1", "completed", "2026-03-10 22:00", "2026-03-11 00:00"}, // after `to`
		{"a4", "rep1", "completed", "2026-03-05 09:00", "2026-03-05 09:10"}, // inactive account
		{"a5", "rep2", "completed", "2026-03-02 09:00", "2026-03-02 09:00"}, // before the move
		{"b1", "rep2", "completed", "2026-02-18 00:00", "2026-02-18 00:00"},
		{"b2", "rep2", "completed", "2026-02-28 10:00", "2026-03-01 00:00"},
		{"b3", "rep2", "checked_in", "2026-03-09 10:00", "2026-03-09 10:00"},
		{"c1", "rep3", "completed", "2026-03-05 09:00", "2026-03-05 09:00"},
	} {
		acc, _, err := store.GetAccount(tx, w.id(v.account), false)
		if err != nil {
			return err
		}
		row := domain.Visit{ID: uuid.NewString(), AccountID: acc.ID, RepID: w.id(v.rep), Status: v.status,
			PlannedAt: at(v.planned)}
		if v.checkedIn != "" {
			row.CheckedInAt = ptr(at(v.checkedIn))
			if v.status == "completed" {
				row.CheckedOutAt = ptr(at(v.checkedIn).Add(time.Minute))
			}
		}
		if _, err := store.CreateVisit(tx, acc, row); err != nil {
			return err
		}
	}
	return nil
}

func (w world) orders(tx *store.Tx, now time.Time) error {
	for _, o := range []struct {
		account, rep, status, submitted string
		total                           int64
	}{
		{"a1", "rep1", "confirmed", "2026-03-05 10:00", 10000},
		{"a2", "rep1", "cancelled", "2026-03-06 10:00", 5000},
		{"b1", "rep2", "submitted", "2026-03-10 23:59", 2500},
		{"a1", "rep1", "draft", "", 800},
		{"b2", "rep2", "delivered", "2026-02-28 10:00", 7000},
		{"c1", "rep3", "confirmed", "2026-03-02 10:00", 1234},
		{"a2", "rep1", "rejected", "2026-03-03 10:00", 400},
	} {
		acc, _, err := store.GetAccount(tx, w.id(o.account), false)
		if err != nil {
			return err
		}
		row := domain.Order{ID: uuid.NewString(), AccountID: acc.ID, RepID: w.id(o.rep), Status: o.status,
			TotalCents: o.total, Currency: "EUR"}
		if o.submitted != "" {
			row.SubmittedAt = ptr(at(o.submitted))
			row.Number = ptr("SO-" + row.ID[:8])
		}
		if _, err := store.CreateOrder(tx, acc, row); err != nil {
			return err
		}
	}
	return nil
}

// moveA5 reassigns a5 from T2 to T1 after rep2 visited it: its history now
// counts for T1, its current territory.
func (w world) moveA5(tx *store.Tx, now time.Time) error {
	old, fv, err := store.GetAccount(tx, w.id("a5"), true)
	if err != nil {
		return err
	}
	moved := old
	moved.TerritoryID = w.id("T1")
	_, err = store.UpdateAccount(tx.At(now.Add(time.Hour)), old, fv, moved)
	return err
}

func (w world) caller(name string) domain.Caller {
	roles := map[string]domain.Role{"manager": domain.RoleManager, "director": domain.RoleDirector,
		"coordinator": domain.RoleCoordinator, "ops": domain.RoleOps}
	r, ok := roles[name]
	if !ok {
		r = domain.RoleRep
	}
	return domain.Caller{UserID: w.id(name), Role: r}
}

func params(t *testing.T, from, to, territory string) Params {
	t.Helper()
	p, err := ParseParams(at("2026-03-20 12:00"), from, to, territory)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
