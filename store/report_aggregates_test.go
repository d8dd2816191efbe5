package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// aggWorld is a small organisation for exercising the report triggers: three
// territories, three reps, a dozen accounts.
type aggWorld struct {
	territories []string
	reps        []string
	accounts    []string
}

func buildAggWorld(t *testing.T, db *store.DB) aggWorld {
	t.Helper()
	var w aggWorld
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < 3; i++ {
			tr, err := store.CreateTerritory(tx, domain.Territory{ID: uuid.NewString(), Name: fmt.Sprintf("T%d", i)})
			if err != nil {
				return err
			}
			w.territories = append(w.territories, tr.ID)
			u, err := store.CreateUser(tx, store.UserRecord{User: domain.User{ID: uuid.NewString(),
				Name: fmt.Sprintf("rep%d", i), Role: domain.RoleRep, TerritoryIDs: []string{tr.ID}},
				Email: uuid.NewString() + "@example.com", PasswordHash: "x"})
			if err != nil {
				return err
			}
			w.reps = append(w.reps, u.ID)
		}
		var bulk []domain.Account
		for i := 0; i < 12; i++ {
			a := domain.Account{ID: uuid.NewString(), Name: fmt.Sprintf("a%d", i),
				TerritoryID: w.territories[i%3], Class: "ABC"[i%3 : i%3+1], Status: "active"}
			w.accounts = append(w.accounts, a.ID)
			if i < 6 {
				if _, err := store.CreateAccount(tx, a); err != nil {
					return err
				}
				continue
			}
			bulk = append(bulk, a)
		}
		_, err := store.BulkInsertAccounts(tx, now, bulk)
		return err
	})
	if err != nil {
		t.Fatalf("build world: %v", err)
	}
	return w
}

// aggStep is one random write through the store's own functions, in its own
// transaction, the way push, the desk and the admin API write.
type aggStep struct {
	db  *store.DB
	w   aggWorld
	rnd *rand.Rand
	now time.Time
}

func (s *aggStep) pick(xs []string) string { return xs[s.rnd.IntN(len(xs))] }

// instant returns a time in a ten-day window, often within a second of midnight
// UTC, where a day boundary mistake would show.
func (s *aggStep) instant() time.Time {
	day := time.Date(2026, 3, 1+s.rnd.IntN(10), 0, 0, 0, 0, time.UTC)
	switch s.rnd.IntN(3) {
	case 0:
		return day.Add(-time.Duration(1+s.rnd.IntN(999)) * time.Millisecond)
	case 1:
		return day
	}
	return day.Add(time.Duration(s.rnd.IntN(86400)) * time.Second)
}

func (s *aggStep) visit() domain.Visit {
	v := domain.Visit{ID: uuid.NewString(), AccountID: s.pick(s.w.accounts), RepID: s.pick(s.w.reps),
		Status: "planned", PlannedAt: s.instant()}
	s.setStatus(&v)
	return v
}

func (s *aggStep) setStatus(v *domain.Visit) {
	v.Status = []string{"planned", "cancelled", "checked_in", "completed", "completed"}[s.rnd.IntN(5)]
	v.CheckedInAt = nil
	if v.Status == "checked_in" || v.Status == "completed" {
		at := s.instant()
		v.CheckedInAt = &at
	}
}

func (s *aggStep) order() domain.Order {
	o := domain.Order{ID: uuid.NewString(), AccountID: s.pick(s.w.accounts), RepID: s.pick(s.w.reps),
		Currency: "EUR", TotalCents: int64(s.rnd.IntN(100000))}
	s.setOrderStatus(&o)
	return o
}

func (s *aggStep) setOrderStatus(o *domain.Order) {
	o.Status = []string{"draft", "submitted", "confirmed", "cancelled", "rejected", "delivered"}[s.rnd.IntN(6)]
	o.SubmittedAt = nil
	if o.Status != "draft" {
		at := s.instant()
		o.SubmittedAt = &at
	}
}

func (s *aggStep) run(ctx context.Context) error {
	// Hours, not seconds: a draft's day in the orders report is that of its
	// last change, so changes must cross midnight now and then.
	s.now = s.now.Add(time.Duration(1+s.rnd.IntN(5)) * time.Hour)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		switch op := s.rnd.IntN(10); op {
		case 0, 1: // a visit, as the desk plans or a push creates one
			v := s.visit()
			acc, _, err := store.GetAccount(tx, v.AccountID, false)
			if err != nil {
				return err
			}
			_, err = store.CreateVisit(tx, acc, v)
			return err
		case 2: // a batch, as push inserts the creates of one request
			accs := map[string]domain.Account{}
			var vs []domain.Visit
			for i := 0; i < 1+s.rnd.IntN(6); i++ {
				v := s.visit()
				acc, ok := accs[v.AccountID]
				if !ok {
					var err error
					if acc, _, err = store.GetAccount(tx, v.AccountID, false); err != nil {
						return err
					}
					accs[acc.ID] = acc
				}
				nv, _ := store.NewVisit(s.now, acc, v)
				vs = append(vs, nv)
			}
			return store.InsertVisits(tx, vs)
		case 3, 4: // a visit changes status, check-in time, plan or rep
			return s.updateVisit(tx)
		case 5:
			return s.deleteVisit(tx)
		case 6:
			o := s.order()
			acc, _, err := store.GetAccount(tx, o.AccountID, false)
			if err != nil {
				return err
			}
			_, err = store.CreateOrder(tx, acc, o)
			return err
		case 7:
			return s.updateOrder(tx)
		default: // the account moves, changes class or status
			old, fv, err := store.GetAccount(tx, s.pick(s.w.accounts), true)
			if err != nil {
				return err
			}
			a := old
			a.TerritoryID = s.pick(s.w.territories)
			a.Class = s.pick([]string{"A", "B", "C"})
			a.Status = []string{"active", "active", "inactive", "prospect"}[s.rnd.IntN(4)]
			_, err = store.UpdateAccount(tx, old, fv, a)
			return err
		}
	})
}

func (s *aggStep) someRow(tx *store.Tx, table string) (string, bool, error) {
	var ids []string
	if err := store.GormOf(tx).Table(table).Order("id").Pluck("id", &ids).Error; err != nil {
		return "", false, err
	}
	if len(ids) == 0 {
		return "", false, nil
	}
	return s.pick(ids), true, nil
}

func (s *aggStep) updateVisit(tx *store.Tx) error {
	id, ok, err := s.someRow(tx, "visits")
	if err != nil || !ok {
		return err
	}
	old, fv, err := store.GetVisit(tx, id, true)
	if err != nil {
		return err
	}
	v := old
	switch s.rnd.IntN(4) {
	case 0:
		s.setStatus(&v)
	case 1:
		if v.CheckedInAt != nil {
			at := s.instant()
			v.CheckedInAt = &at
		}
	case 2:
		v.PlannedAt = s.instant()
	default:
		v.RepID = s.pick(s.w.reps)
	}
	acc, _, err := store.GetAccount(tx, v.AccountID, false)
	if err != nil {
		return err
	}
	_, err = store.UpdateVisit(tx, acc, old, fv, v)
	return err
}

func (s *aggStep) deleteVisit(tx *store.Tx) error {
	id, ok, err := s.someRow(tx, "visits")
	if err != nil || !ok {
		return err
	}
	v, _, err := store.GetVisit(tx, id, true)
	if err != nil {
		return err
	}
	acc, _, err := store.GetAccount(tx, v.AccountID, false)
	if err != nil {
		return err
	}
	return store.DeleteVisit(tx, acc, v)
}

func (s *aggStep) updateOrder(tx *store.Tx) error {
	id, ok, err := s.someRow(tx, "orders")
	if err != nil || !ok {
		return err
	}
	old, fv, err := store.GetOrder(tx, id, true)
	if err != nil {
		return err
	}
	acc, _, err := store.GetAccount(tx, old.AccountID, false)
	if err != nil {
		return err
	}
	if s.rnd.IntN(5) == 0 {
		return store.DeleteOrder(tx, acc, old)
	}
	o := old
	if s.rnd.IntN(2) == 0 {
		s.setOrderStatus(&o)
	} else {
		o.TotalCents = int64(s.rnd.IntN(100000))
	}
	_, err = store.UpdateOrder(tx, acc, old, fv, o)
	return err
}

func requireNoDrift(t *testing.T, db *store.DB, when string) {
	t.Helper()
	drift, err := store.ReportAggregateDrift(context.Background(), db, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		t.Errorf("%s: %s", when, d)
	}
	if len(drift) > 0 {
		t.FailNow()
	}
}

// TestReportAggregates_RandomWrites applies random writes of every kind the
// report tables depend on (visits created singly and in batches, re-planned,
// re-assigned, completed, un-completed, deleted; orders submitted, cancelled,
// re-priced, deleted; accounts moved, re-classed, deactivated) and checks after
// each one that the trigger-kept tables equal a computation from scratch.
func TestReportAggregates_RandomWrites(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				w := buildAggWorld(t, db)
				requireNoDrift(t, db, "after the bulk insert")
				s := &aggStep{db: db, w: w, rnd: rand.New(rand.NewPCG(seed, 7)),
					now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
				for i := 0; i < 150; i++ {
					if err := s.run(context.Background()); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					requireNoDrift(t, db, fmt.Sprintf("step %d", i))
					if i%7 == 6 {
						if _, err := store.FoldReportDeltas(context.Background(), db); err != nil {
							t.Fatal(err)
						}
						requireNoDrift(t, db, fmt.Sprintf("fold after step %d", i))
					}
				}
				if db.Dialect == store.Postgres {
					if _, err := store.FoldReportDeltas(context.Background(), db); err != nil {
						t.Fatal(err)
					}
					var left int64
					db.Gorm.Raw("SELECT (SELECT COUNT(*) FROM report_visit_deltas) + (SELECT COUNT(*) FROM report_order_deltas)").Scan(&left)
					if left != 0 {
						t.Errorf("%d deltas left after a fold with no writer running", left)
					}
				}
			})
		}
	})
}

// TestReportAggregates_ConcurrentMoves races account moves against visit and
// order writes on the same accounts, with folds running meanwhile. On
// Postgres, where they really run at once, a visit counted under the territory
// its account is leaving would stay there, and a delta folded twice or not at
// all would show.
func TestReportAggregates_ConcurrentMoves(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildAggWorld(t, db)
		w.accounts = w.accounts[:3] // few accounts: writers and movers collide
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				s := &aggStep{db: db, w: w, rnd: rand.New(rand.NewPCG(uint64(g), 11)),
					now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
				for i := 0; i < 80; i++ {
					// Rows picked at random may be gone by the time they are
					// locked, and transactions may deadlock: both roll back.
					err := s.run(ctx)
					if err != nil && !store.IsRetryable(err) && domain.ErrorCode(err) != domain.CodeNotFound {
						errs <- fmt.Errorf("writer %d step %d: %w", g, i, err)
						return
					}
				}
			}(g)
		}
		// Two folders run throughout, as two server instances would.
		stop := make(chan struct{})
		var folders sync.WaitGroup
		for f := 0; f < 2; f++ {
			folders.Add(1)
			go func() {
				defer folders.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := store.FoldReportDeltas(ctx, db); err != nil && !store.IsRetryable(err) {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		folders.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		requireNoDrift(t, db, "after concurrent writes")
	})
}

// TestIsRetryable_RealDeadlock provokes a deadlock between two transactions
// that lock two accounts in opposite orders: Postgres aborts one, and its error
// must be classified as retryable (push runs the request again on it).
func TestIsRetryable_RealDeadlock(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	w := buildAggWorld(t, db)
	ctx := context.Background()
	a, b := w.accounts[0], w.accounts[1]
	firstLocked := make(chan struct{}, 2)
	lockBoth := func(first, second string) error {
		return db.InTx(ctx, func(tx *store.Tx) error {
			if _, _, err := store.GetAccount(tx, first, true); err != nil {
				return err
			}
			firstLocked <- struct{}{}
			for len(firstLocked) < 2 && ctx.Err() == nil { // both hold their first lock
				time.Sleep(time.Millisecond)
			}
			_, _, err := store.GetAccount(tx, second, true)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lockBoth(a, b) }()
	go func() { errs <- lockBoth(b, a) }()
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("want exactly one victim of the deadlock, got %v and %v", e1, e2)
	}
	victim := e1
	if victim == nil {
		victim = e2
	}
	if !store.IsRetryable(victim) {
		t.Errorf("deadlock error %v not classified as retryable", victim)
	}
	if store.IsRetryable(domain.Errorf(domain.CodeNotFound, "x")) {
		t.Error("a not-found error classified as retryable")
	}
}

// TestReportAggregates_TimesWithOffsets: times given with a zone offset are
// stored as UTC, so on SQLite, where times are text, "latest" and "which day"
// compare instants, not strings. 00:00+02:00 on the 11th is 22:00 UTC on the
// 10th, earlier than 23:00 UTC that day.
func TestReportAggregates_TimesWithOffsets(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildAggWorld(t, db)
		plus2 := time.FixedZone("+02", 2*3600)
		early := time.Date(2026, 3, 11, 0, 0, 0, 0, plus2)    // 03-10 22:00 UTC
		late := time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC) // the latest
		err := db.InTx(context.Background(), func(tx *store.Tx) error {
			acc, _, err := store.GetAccount(tx, w.accounts[0], false)
			if err != nil {
				return err
			}
			for _, in := range []time.Time{late, early} {
				if _, err := store.CreateVisit(tx, acc, domain.Visit{ID: uuid.NewString(), AccountID: acc.ID,
					RepID: w.reps[0], Status: "completed", PlannedAt: in, CheckedInAt: &in}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Last time.Time }
		if err := db.Gorm.Raw("SELECT last_completed_at AS last FROM report_accounts WHERE account_id = ?",
			w.accounts[0]).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if !got.Last.Equal(late) {
			t.Errorf("latest completed check-in %v, want %v", got.Last, late)
		}
		var days []string
		if err := db.Gorm.Raw(`SELECT DISTINCT CAST(day AS text) FROM (SELECT day, completed FROM report_visit_days
			UNION ALL SELECT day, completed FROM report_visit_deltas) x WHERE completed > 0`).
			Scan(&days).Error; err != nil {
			t.Fatal(err)
		}
		if len(days) != 1 || days[0] != "2026-03-10" {
			t.Errorf("completed visits counted on %v, want 2026-03-10 only", days)
		}
		requireNoDrift(t, db, "after visits with offsets")
	})
}
