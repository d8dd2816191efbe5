package acceptance

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// in returns e reporting to t, for use inside a subtest.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// linkedDraft plans a visit on a1 from c, drafts an order taken at it, and
// syncs both to the server.
func (e *env) linkedDraft(c *device.Client) (domain.Visit, domain.Order) {
	e.t.Helper()
	ctx := context.Background()
	v, err := c.PlanVisit(ctx, e.a1, day.Add(2*time.Hour))
	must(e.t, err)
	o, err := c.DraftOrder(ctx, e.a1, &v.ID, []domain.OrderLine{{ProductID: e.p1, Quantity: 1}}, "")
	must(e.t, err)
	if rep := e.sync(c); rep.Rejected != 0 {
		e.t.Fatalf("linked draft: %+v", rep)
	}
	return v, o
}

// editable checks that the order of c holds no visit link, on the device and
// on the server, and that the rep can still edit it: before, every edit was
// rejected ("visit_id must be a visit of the same account") for ever.
func (e *env) editable(c *device.Client, orderID string) {
	e.t.Helper()
	ctx := context.Background()
	got, err := c.Order(ctx, orderID)
	must(e.t, err)
	if got.VisitID != nil {
		e.t.Fatalf("device order still linked to visit %s", *got.VisitID)
	}
	_, err = c.EditOrder(ctx, orderID, []domain.OrderLine{{ProductID: e.p1, Quantity: 5}}, ptr("after the visit was dropped"))
	must(e.t, err)
	if rep := e.sync(c); rep.Rejected != 0 || rep.Conflicts != 0 {
		failed, _ := c.Failed(ctx)
		e.t.Fatalf("edit of the order: %+v, failed %+v", rep, failed)
	}
	var server domain.Order
	e.tx(func(tx *store.Tx) error {
		var err error
		server, _, err = store.GetOrder(tx, orderID, false)
		return err
	})
	if server.VisitID != nil || len(server.Lines) != 1 || server.Lines[0].Quantity != 5 {
		e.t.Fatalf("server order %+v, want unlinked with the edit", server)
	}
	e.converged(c)
}

// TestVisitLink_OrdersOutliveTheirVisits: deleting a planned visit clears the
// link of the orders taken at it (version bumped, change pulled by every
// device), whoever deletes it; and an order linked offline to a visit deleted
// meanwhile is kept without the link.
func TestVisitLink_OrdersOutliveTheirVisits(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		t.Run("RepDeletesTheVisit", func(t *testing.T) {
			e := e.in(t)
			p := e.pair(e.rep1)
			v, o := e.linkedDraft(p.a)
			e.sync(p.b)
			must(t, p.a.DeleteVisit(ctx, v.ID))
			e.sync(p.a)
			// The other device gets the visit's delete and the unlinked order.
			e.sync(p.b)
			if _, err := p.b.Visit(ctx, v.ID); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Errorf("visit still on the other device: %v", err)
			}
			e.editable(p.b, o.ID)
			e.editable(p.a, o.ID)
			e.both(p)
		})
		t.Run("ManagerResolvesADeleteConflict", func(t *testing.T) {
			e := e.in(t)
			c := e.synced(e.rep1)
			v, o := e.linkedDraft(c)
			// The rep deletes the visit offline while re-planning it from
			// another device (managers plan new visits, they do not edit a
			// rep's): the delete is a conflict, which the manager resolves
			// for the device.
			must(t, c.DeleteVisit(ctx, v.ID))
			tablet := e.token(e.rep1, "rep-tablet")
			mgr := e.token(e.mgr, "mgr-phone")
			var resp wire.PushResponse
			e.ok(http.MethodPost, "/v1/sync/push", tablet, wire.PushRequest{Mutations: []wire.Mutation{{MutationID: newID(),
				Table: "visits", Op: "upsert", ID: v.ID, BaseVersion: 1, Row: []byte(`{"planned_at":"2026-11-24T08:00:00Z"}`)}}},
				http.StatusOK, &resp)
			if rep := e.sync(c); rep.Conflicts != 1 {
				t.Fatalf("delete after a re-plan: %+v, want a conflict", rep)
			}
			open := e.conflicts(e.mgr, "open", v.ID)
			if len(open) != 1 {
				t.Fatalf("manager sees %+v", open)
			}
			e.ok(http.MethodPost, "/v1/conflicts/"+open[0].ID+"/resolve", mgr, map[string]any{"resolution": "take_device"},
				http.StatusOK, nil)
			e.sync(c)
			if _, err := c.Visit(ctx, v.ID); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Errorf("resolved delete did not reach the device: %v", err)
			}
			e.editable(c, o.ID)
		})
		t.Run("OrderLinkedOfflineToADeletedVisit", func(t *testing.T) {
			e := e.in(t)
			p := e.pair(e.rep1)
			v, err := p.a.PlanVisit(ctx, e.a1, day.Add(3*time.Hour))
			must(t, err)
			e.sync(p.a)
			e.sync(p.b)
			// b takes an order at the visit offline; a deletes the visit first.
			o, err := p.b.DraftOrder(ctx, e.a1, &v.ID, []domain.OrderLine{{ProductID: e.p1, Quantity: 2}}, "")
			must(t, err)
			must(t, p.a.DeleteVisit(ctx, v.ID))
			e.sync(p.a)
			rep := e.sync(p.b)
			if rep.Rejected != 0 || rep.Merged != 1 {
				t.Fatalf("order linked to a deleted visit: %+v, want it merged (kept, unlinked)", rep)
			}
			e.editable(p.b, o.ID)
			e.both(p)
		})
	})
}
