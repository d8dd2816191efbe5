package acceptance

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

// TestSync_Convergence proves §4.1 guarantee 1: after a field day of mixed
// edits by two reps and ops, devices that followed every change incrementally
// and devices that start from nothing hold identical mirrors, equal to the
// scope the server grants.
func TestSync_Convergence(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rep1, rep2 := e.synced(e.rep1), e.synced(e.rep2)
		mgr, desk := e.synced(e.mgr), e.synced(e.coord)
		followers := []*device.Client{rep1, rep2, mgr, desk}
		step := func(edits func()) {
			t.Helper()
			edits()
			for _, f := range followers {
				e.sync(f)
			}
		}
		var v1, v2 domain.Visit
		var note domain.AccountNote
		step(func() {
			var err error
			v1, err = rep1.PlanVisit(ctx, e.a1, day.Add(time.Hour))
			must(t, err)
			v2, err = rep1.PlanVisit(ctx, e.key, day.Add(3*time.Hour))
			must(t, err)
		})
		step(func() {
			_, err := rep2.PlanVisit(ctx, e.a2, day.Add(2*time.Hour))
			must(t, err)
			note, err = rep2.AddNote(ctx, e.key, "Buyer on holiday until Friday")
			must(t, err)
		})
		var a3 string
		step(func() {
			_, err := e.admin.UpdateProduct(ctx, e.p2, backoffice.ProductPatch{Name: backoffice.Some("Product two, new label")})
			must(t, err)
			acc, err := e.admin.CreateAccount(ctx, backoffice.AccountInput{Name: "Delta Deli", TerritoryID: e.t1, Class: "B"})
			must(t, err)
			a3 = acc.ID
		})
		step(func() {
			_, err := rep1.CheckIn(ctx, v1.ID, day.Add(time.Hour), 52.5201, 13.4001)
			must(t, err)
			_, err = rep1.CheckOut(ctx, v1.ID, day.Add(90*time.Minute), "order", "Took an order for the weekend")
			must(t, err)
			o, err := rep1.DraftOrder(ctx, e.a1, &v1.ID, []domain.OrderLine{{ProductID: e.p1, Quantity: 3}}, "")
			must(t, err)
			_, err = rep1.SubmitOrder(ctx, o.ID)
			must(t, err)
		})
		step(func() {
			_, err := rep2.EditAccountContact(ctx, e.a2, ptr("+49 89 555"), nil, ptr("Hauptstr. 1"))
			must(t, err)
			must(t, rep2.DeleteNote(ctx, note.ID))
		})
		step(func() {
			_, err := e.admin.UpdateProduct(ctx, e.p1, backoffice.ProductPatch{Active: backoffice.Some(false)})
			must(t, err)
			_, err = e.admin.UpdateAccount(ctx, e.a1b, backoffice.AccountPatch{TerritoryID: backoffice.Some(e.t2)})
			must(t, err)
		})
		step(func() {
			_, err := rep1.CancelVisit(ctx, v2.ID)
			must(t, err)
			_, err = rep1.AddNote(ctx, a3, "New customer, wants a catalogue")
			must(t, err)
			_, err = e.admin.UpdateTerritory(ctx, e.t1, backoffice.TerritoryPatch{Name: backoffice.Some("T1 Harbour and Docks")})
			must(t, err)
		})
		// The writers' own last edits reached the server during their Sync, but
		// the other followers pulled before them: one more round settles all.
		for _, f := range followers {
			e.sync(f)
		}
		for _, f := range followers {
			fresh := e.synced(f.UserID())
			mirrorsEqual(t, f, fresh)
			e.converged(f)
			e.converged(fresh)
		}
	})
}

// TestSync_NothingSkippedConcurrentPushers is a device-level version of §4.1
// guarantee 2 (the heavy proof is sync/engine/concurrency_test.go): four devices push
// while two others pull; once everyone has synced, every write is on every
// device that may see it.
func TestSync_NothingSkippedConcurrentPushers(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		pushers := []*device.Client{e.synced(e.rep1), e.synced(e.rep1), e.synced(e.rep3), e.synced(e.rep2)}
		accountOf := map[*device.Client]string{pushers[0]: e.a1, pushers[1]: e.a1b, pushers[2]: e.a1, pushers[3]: e.a2}
		pullers := []*device.Client{e.synced(e.mgr), e.synced(e.rep3)}
		const rounds, perRound = 4, 3
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		stop := make(chan struct{})
		for _, p := range pushers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; r < rounds; r++ {
					for i := 0; i < perRound; i++ {
						if _, err := p.PlanVisit(ctx, accountOf[p], day.Add(time.Duration(r*perRound+i)*time.Minute)); err != nil {
							errs <- err
							return
						}
					}
					if _, err := p.Sync(ctx); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		var pwg sync.WaitGroup
		for _, p := range pullers {
			pwg.Add(1)
			go func() {
				defer pwg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := p.Pull(ctx); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		pwg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, c := range append(pushers, pullers...) {
			e.sync(c)
			e.converged(c)
		}
		visits := e.serverScope(e.mgr)[domain.TableVisits]
		if len(visits) != len(pushers)*rounds*perRound {
			t.Errorf("server holds %d visits, want %d", len(visits), len(pushers)*rounds*perRound)
		}
		mirrorsEqual(t, pullers[0], e.synced(e.mgr))
	})
}
