// Package bench is Fieldsync's load command: it seeds a Postgres database with
// one rep's scope of the size docs/benchmarks.md targets inside an organisation of a
// chosen size, runs the server as a child process on loopback, and measures
// pull, push and memory against a raw pgx baseline taken in the same run.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// Dataset sizes of the rep's scope (docs/benchmarks.md, "Targets").
type Dataset struct {
	Accounts, Visits, Orders, Notes int
	// OrgAccounts are accounts in other territories, each with VisitsPerOrgAccount
	// visits: the rest of the organisation the rep's pulls must not pay for.
	OrgAccounts         int
	VisitsPerOrgAccount int
}

// Seeded is what the benchmark needs to know of the seeded data.
type Seeded struct {
	RepEmail, Password string
	RepTerritory       string
	AccountIDs         []string
	ScopeRows          int
}

const benchPassword = "bench-password"

func seed(ctx context.Context, db *store.DB, ds Dataset, rng *rand.Rand) (Seeded, error) {
	now := db.Now()
	s := Seeded{RepEmail: "bench-rep@fieldsync.test", Password: benchPassword, RepTerritory: uid(rng)}
	hash, err := bcrypt.GenerateFromPassword([]byte(benchPassword), bcrypt.MinCost)
	if err != nil {
		return s, err
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := store.BulkInsertTerritories(tx, []domain.Territory{{ID: s.RepTerritory, Name: "Bench territory"}}); err != nil {
			return err
		}
		rep := store.UserRecord{User: domain.User{ID: uid(rng), Name: "Bench Rep", Role: domain.RoleRep,
			TerritoryIDs: []string{s.RepTerritory}}, Email: s.RepEmail, PasswordHash: string(hash)}
		if _, err := store.BulkInsertUsers(tx, now, []store.UserRecord{rep}); err != nil {
			return err
		}
		accs := accounts(rng, s.RepTerritory, ds.Accounts)
		for _, a := range accs {
			s.AccountIDs = append(s.AccountIDs, a.ID)
		}
		return insertScope(tx, now, rng, rep.ID, accs, ds)
	})
	if err != nil {
		return s, fmt.Errorf("seed rep scope: %w", err)
	}
	s.ScopeRows = 1 + 1 + ds.Accounts + ds.Visits + ds.Orders + ds.Notes
	return s, seedOrg(ctx, db, ds, rng)
}

func insertScope(tx *store.Tx, now time.Time, rng *rand.Rand, repID string, accs []domain.Account, ds Dataset) error {
	byID := map[string]domain.Account{}
	for _, a := range accs {
		byID[a.ID] = a
	}
	keys := store.KeysOf(byID)
	if _, err := store.BulkInsertAccounts(tx, now, accs); err != nil {
		return err
	}
	pick := func() string { return accs[rng.IntN(len(accs))].ID }
	vs := make([]domain.Visit, ds.Visits)
	for i := range vs {
		vs[i] = visit(rng, pick(), repID, now)
	}
	if _, err := store.BulkInsertVisits(tx, keys, vs); err != nil {
		return err
	}
	os := make([]domain.Order, ds.Orders)
	for i := range os {
		os[i] = domain.Order{ID: uid(rng), AccountID: pick(), RepID: repID, Status: domain.OrderDraft, Currency: "EUR",
			Lines: []domain.OrderLine{{ProductID: uid(rng), Quantity: 3, UnitPriceCents: 1250}}, TotalCents: 3750}
	}
	if _, err := store.BulkInsertOrders(tx, keys, os); err != nil {
		return err
	}
	ns := make([]domain.AccountNote, ds.Notes)
	for i := range ns {
		ns[i] = domain.AccountNote{ID: uid(rng), AccountID: pick(), AuthorID: repID,
			Body: "Met the buyer; wants samples of the new range before the spring order."}
	}
	_, err := store.BulkInsertNotes(tx, keys, ns)
	return err
}

// seedOrg adds the rest of the organisation in chunks, one transaction each, so
// memory stays flat however large it is.
func seedOrg(ctx context.Context, db *store.DB, ds Dataset, rng *rand.Rand) error {
	const perTerritory = 500
	now := db.Now()
	rep := uid(rng)
	for done := 0; done < ds.OrgAccounts; done += perTerritory {
		n := min(perTerritory, ds.OrgAccounts-done)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			t := domain.Territory{ID: uid(rng), Name: fmt.Sprintf("Org territory %d", done/perTerritory)}
			if _, err := store.BulkInsertTerritories(tx, []domain.Territory{t}); err != nil {
				return err
			}
			if done == 0 {
				u := store.UserRecord{User: domain.User{ID: rep, Name: "Org Rep", Role: domain.RoleRep, TerritoryIDs: []string{t.ID}},
					Email: "org-rep@fieldsync.test", PasswordHash: "x"}
				if _, err := store.BulkInsertUsers(tx, now, []store.UserRecord{u}); err != nil {
					return err
				}
			}
			accs := accounts(rng, t.ID, n)
			return insertScope(tx, now, rng, rep, accs, Dataset{Visits: n * ds.VisitsPerOrgAccount})
		})
		if err != nil {
			return fmt.Errorf("seed organisation: %w", err)
		}
	}
	return nil
}

func accounts(rng *rand.Rand, territory string, n int) []domain.Account {
	out := make([]domain.Account, n)
	classes := []string{domain.ClassA, domain.ClassB, domain.ClassC}
	for i := range out {
		lat, lng := 48+rng.Float64()*4, 9+rng.Float64()*4
		phone, addr := "+49 30 5550 1234", "Hauptstraße 12, 10115 Berlin"
		out[i] = domain.Account{ID: uid(rng), Name: fmt.Sprintf("Customer %d GmbH", i), TerritoryID: territory,
			Class: classes[rng.IntN(3)], Status: domain.AccountActive, Address: &addr, Phone: &phone, Lat: &lat, Lng: &lng}
	}
	return out
}

func visit(rng *rand.Rand, accountID, repID string, now time.Time) domain.Visit {
	at := now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
	in, out := at.Add(5*time.Minute), at.Add(45*time.Minute)
	outcome, report := "order", "Reviewed the shelf plan and agreed a follow-up order."
	return domain.Visit{ID: uid(rng), AccountID: accountID, RepID: repID, Status: domain.VisitCompleted,
		PlannedAt: at, CheckedInAt: &in, CheckedOutAt: &out, Outcome: &outcome, Report: &report}
}

func uid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	u, _ := uuid.FromBytes(b[:])
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u.String()
}
