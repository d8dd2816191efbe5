package device_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

func TestWorkflow_Visits(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	t.Run("OfflineDayCoalescesIntoOneCreate", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		v, err := w.c.PlanVisit(ctx, w.account, t0)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != domain.VisitPlanned || v.RepID != w.repID || v.Version != 0 {
			t.Fatalf("planned visit %+v", v)
		}
		if _, err := w.c.CheckIn(ctx, v.ID, t0.Add(time.Minute), 55.6, 12.5); err != nil {
			t.Fatal(err)
		}
		done, err := w.c.CheckOut(ctx, v.ID, t0.Add(time.Hour), "order_taken", "all good")
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != domain.VisitCompleted || done.CheckedInAt == nil || *done.Report != "all good" {
			t.Fatalf("completed visit %+v", done)
		}
		ob := outbox(t, w.c)
		if len(ob) != 1 || ob[0].BaseVersion != 0 || ob[0].Op != "upsert" {
			t.Fatalf("outbox %+v, want one create", ob)
		}
		want := map[string]any{"account_id": w.account, "planned_at": "2026-11-22T09:30:00Z", "status": "completed",
			"checked_in_at": "2026-11-22T09:31:00Z", "check_in_lat": 55.6, "check_in_lng": 12.5,
			"checked_out_at": "2026-11-22T10:30:00Z", "outcome": "order_taken", "report": "all good"}
		assertPatch(t, patchOf(t, ob[0]), want)

		_, err = w.c.CheckIn(ctx, v.ID, t0, 1, 1)
		wantCode(t, err, domain.CodeIllegalTransition)
		wantCode(t, w.c.DeleteVisit(ctx, v.ID), domain.CodeIllegalTransition)
		if len(outbox(t, w.c)) != 1 {
			t.Fatal("a refused workflow left a mutation")
		}
		mustSync(t, w.c)
		if got := w.f.row(domain.TableVisits, v.ID)["status"]; got != "completed" {
			t.Fatalf("server visit status %v", got)
		}
	})
	t.Run("EditOfSyncedVisitSendsOnlyChangedFields", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		v, err := w.c.PlanVisit(ctx, w.account, t0)
		if err != nil {
			t.Fatal(err)
		}
		mustSync(t, w.c)
		if _, err := w.c.CancelVisit(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
		ob := outbox(t, w.c)
		if len(ob) != 1 || ob[0].BaseVersion != 1 {
			t.Fatalf("outbox %+v", ob)
		}
		assertPatch(t, patchOf(t, ob[0]), map[string]any{"status": "cancelled"})
		_, err = w.c.CheckIn(ctx, v.ID, t0, 1, 1)
		wantCode(t, err, domain.CodeIllegalTransition)
	})
	t.Run("DeleteOfUnsentCreateSendsNothing", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		v, _ := w.c.PlanVisit(ctx, w.account, t0)
		if err := w.c.DeleteVisit(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
		if len(outbox(t, w.c)) != 0 {
			t.Fatal("create and delete did not cancel out")
		}
		_, err := w.c.Visit(ctx, v.ID)
		wantCode(t, err, domain.CodeNotFound)
	})
	t.Run("Validation", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		_, err := w.c.PlanVisit(ctx, "6b1d9c1e-0000-4000-8000-000000000000", t0)
		wantCode(t, err, domain.CodeValidation)
		v, _ := w.c.PlanVisit(ctx, w.account, t0)
		_, err = w.c.CheckIn(ctx, v.ID, t0, 91, 0)
		wantCode(t, err, domain.CodeValidation)
		if _, err := w.c.CheckIn(ctx, v.ID, t0, 1, 1); err != nil {
			t.Fatal(err)
		}
		_, err = w.c.CheckOut(ctx, v.ID, t0.Add(-time.Hour), "x", "")
		wantCode(t, err, domain.CodeValidation)
	})
}

func TestWorkflow_Orders(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, device.Options{})
	mustSync(t, w.c)
	empty, err := w.c.DraftOrder(ctx, w.account, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.c.SubmitOrder(ctx, empty.ID)
	wantCode(t, err, domain.CodeValidation)

	lines := []domain.OrderLine{{ProductID: w.product, Quantity: 3, DiscountPct: 1000}}
	o, err := w.c.DraftOrder(ctx, w.account, nil, lines, "leave at the back door")
	if err != nil {
		t.Fatal(err)
	}
	if o.Currency != "EUR" || o.Lines[0].UnitPriceCents != 1250 || o.TotalCents != 3375 || o.RepID != w.repID {
		t.Fatalf("draft %+v", o)
	}
	if _, err := w.c.EditOrder(ctx, o.ID, []domain.OrderLine{{ProductID: w.product, Quantity: 4}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.SubmitOrder(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.EditOrder(ctx, o.ID, nil, ptr("too late"))
	wantCode(t, err, domain.CodeIllegalTransition)
	_, err = w.c.DraftOrder(ctx, w.account, nil, []domain.OrderLine{{ProductID: w.product, Quantity: 0}}, "")
	wantCode(t, err, domain.CodeValidation)

	ob := outbox(t, w.c)
	if len(ob) != 2 || ob[1].RowID != o.ID {
		t.Fatalf("outbox %+v", ob)
	}
	assertPatch(t, patchOf(t, ob[1]), map[string]any{"account_id": w.account, "status": "submitted", "currency": "EUR",
		"note":  "leave at the back door",
		"lines": []any{map[string]any{"product_id": w.product, "quantity": 4.0, "unit_price_cents": 1250.0, "discount_pct": 0.0}}})

	mustSync(t, w.c)
	if _, err := w.c.CancelOrder(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	ob = outbox(t, w.c)
	if len(ob) != 1 || ob[0].BaseVersion != 1 {
		t.Fatalf("outbox %+v", ob)
	}
	assertPatch(t, patchOf(t, ob[0]), map[string]any{"status": "cancelled"})
}

func TestWorkflow_NotesAndContacts(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, device.Options{})
	mustSync(t, w.c)
	n, err := w.c.AddNote(ctx, w.account, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.EditNote(ctx, n.ID, "second"); err != nil {
		t.Fatal(err)
	}
	ob := outbox(t, w.c)
	if len(ob) != 1 {
		t.Fatalf("outbox %+v", ob)
	}
	assertPatch(t, patchOf(t, ob[0]), map[string]any{"account_id": w.account, "body": "second"})
	_, err = w.c.AddNote(ctx, w.account, "")
	wantCode(t, err, domain.CodeValidation)

	mustSync(t, w.c)
	other := w.f.addUser("other@example.com", "x", domain.RoleRep)
	foreign := "22222222-2222-4222-8222-222222222222"
	w.f.put(domain.TableAccountNotes, map[string]any{"id": foreign, "account_id": w.account, "author_id": other, "body": "theirs", "conflict_of": nil})
	mustSync(t, w.c)
	wantCode(t, w.c.DeleteNote(ctx, foreign), domain.CodeForbidden)
	if err := w.c.DeleteNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	ob = outbox(t, w.c)
	if len(ob) != 1 || ob[0].Op != "delete" || ob[0].BaseVersion != 1 || ob[0].Patch != nil {
		t.Fatalf("outbox %+v", ob)
	}
	mustSync(t, w.c)
	if w.f.row(domain.TableAccountNotes, n.ID) != nil {
		t.Fatal("note still on the server")
	}

	acc, err := w.c.EditAccountContact(ctx, w.account, nil, ptr("orders@example.com"), ptr(""))
	if err != nil {
		t.Fatal(err)
	}
	if *acc.Email != "orders@example.com" || acc.Address != nil {
		t.Fatalf("account %+v", acc)
	}
	ob = outbox(t, w.c)
	assertPatch(t, patchOf(t, ob[0]), map[string]any{"email": "orders@example.com", "address": nil})
	if ob[0].BaseVersion != 1 {
		t.Fatalf("base %d", ob[0].BaseVersion)
	}
	_, err = w.c.EditAccountContact(ctx, w.account, nil, ptr("not an email"), nil)
	wantCode(t, err, domain.CodeValidation)
}

func assertPatch(t *testing.T, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("patch %#v\nwant  %#v", got, want)
	}
}
