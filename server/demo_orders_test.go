package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

// TestDemoOrders_History: on the demo organisation, a seeded order read
// through GET /v1/orders/{id} has the history of its life, at the version
// that history ends at, so the desk moves a queued one with the version it
// shows and the move is the next entry.
func TestDemoOrders_History(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newReportEnv(t, db)
		u, err := store.GetUserByEmail(db.Autocommit(context.Background()), "coordinator@demo.fieldsync.dev")
		if err != nil {
			t.Fatal(err)
		}
		pick := func(status string) string {
			var id string
			err := db.Gorm.Raw(`SELECT o.id FROM orders o JOIN accounts a ON a.id = o.account_id
				JOIN user_territories ut ON ut.user_id = ? JOIN territories t ON t.id = a.territory_id AND t.parent_id = ut.territory_id
				WHERE o.status = ? ORDER BY o.number LIMIT 1`, u.ID, status).Scan(&id).Error
			if err != nil || id == "" {
				t.Fatalf("no %s order in the demo coordinator's region: %v", status, err)
			}
			return id
		}
		read := func(id string) backoffice.OrderDetail {
			var d backoffice.OrderDetail
			e.get(t, domain.RoleCoordinator, "/v1/orders/"+id, &d)
			h := d.History
			if len(h) == 0 || int64(len(h)) != d.Order.Version || h[len(h)-1].Version != d.Order.Version ||
				h[len(h)-1].Status != d.Order.Status {
				t.Fatalf("order %s (%s v%d): history %+v", id, d.Order.Status, d.Order.Version, h)
			}
			if h[0].Kind != domain.OrderCreated || h[0].Via != domain.ViaDevice || *h[0].ActorID != d.Order.RepID ||
				h[0].ActorName == nil || *h[0].ActorName != d.Rep.Name {
				t.Errorf("order %s created by %+v", id, h[0])
			}
			return d
		}

		delivered := read(pick(domain.OrderDelivered))
		var vias []string
		for _, ev := range delivered.History {
			vias = append(vias, ev.Status+"/"+ev.Via)
		}
		if n := len(vias); n < 4 || vias[n-3] != "confirmed/desk" || vias[n-2] != "shipped/erp" || vias[n-1] != "delivered/erp" {
			t.Errorf("delivered order's history %v", vias)
		}
		if last := delivered.History[len(delivered.History)-1]; last.ERPRef == nil || last.ReportedAt == nil || last.ActorName == nil {
			t.Errorf("the ERP's delivery %+v", last)
		}

		queued := read(pick(domain.OrderSubmitted))
		body, _ := json.Marshal(map[string]any{"to": "confirmed", "expected_version": queued.Order.Version})
		if status, resp := e.do(t, "POST", "/v1/orders/"+queued.Order.ID+"/transition", e.tokens[domain.RoleCoordinator], body); status != 200 {
			t.Fatalf("confirm the queued order at v%d: %d %s", queued.Order.Version, status, resp)
		}
		after := read(queued.Order.ID)
		if last := after.History[len(after.History)-1]; after.Order.Version != queued.Order.Version+1 ||
			fmt.Sprint(*last.FromStatus, ">", last.Status) != "submitted>confirmed" || last.Via != domain.ViaAPI {
			t.Errorf("after confirming: v%d, last entry %+v", after.Order.Version, last)
		}
	})
}
