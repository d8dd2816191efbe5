package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// queue lists every page of GET /v1/orders?query as who, with limit per page.
func (o *office) queue(who, query string, limit int) []domain.Order {
	o.t.Helper()
	var out []domain.Order
	cursor := ""
	for range 100 {
		var page backoffice.OrderList
		path := fmt.Sprintf("/v1/orders?limit=%d&%s", limit, query)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		o.as(who, "GET", path, "", 200, &page)
		if len(page.Items) > limit {
			o.t.Fatalf("page of %d over limit %d", len(page.Items), limit)
		}
		out = append(out, page.Items...)
		if page.NextCursor == nil {
			return out
		}
		cursor = *page.NextCursor
	}
	o.t.Fatal("queue never ended")
	return nil
}

func orderIDs(orders []domain.Order) []string {
	var ids []string
	for _, ord := range orders {
		ids = append(ids, ord.ID)
	}
	return ids
}

func TestOrderDesk_Queue(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		var t1, t2, t3 []domain.Order
		for range 3 {
			t1 = append(t1, o.submittedOrder("rep1", o.acc1))
			t2 = append(t2, o.submittedOrder("rep2", o.acc2))
			t3 = append(t3, o.submittedOrder("rep3", o.acc3))
		}
		o.draftOrder("rep1", o.acc1, 1) // drafts are not in the queue
		confirmed := o.transition("coord1", t1[0].ID, map[string]any{"to": "confirmed", "expected_version": 2}, 200)

		all := slices.Concat(t1, t2, t3)
		slices.SortFunc(all, func(a, b domain.Order) int {
			if c := a.SubmittedAt.Compare(*b.SubmittedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		inOrder := func(want []domain.Order) []string {
			var ids []string
			for _, ord := range all {
				if slices.ContainsFunc(want, func(w domain.Order) bool { return w.ID == ord.ID }) {
					ids = append(ids, ord.ID)
				}
			}
			return ids
		}
		cases := []struct {
			name, who, query string
			want             []string
		}{
			{"CoordinatorOwnTerritory", "coord1", "", inOrder(t1)},
			{"CoordinatorWithoutTerritoriesSeesAll", "coordAll", "", inOrder(all)},
			{"ManagerSubtree", "mgr", "", inOrder(slices.Concat(t1, t2))},
			{"ManagerTerritoryFilter", "mgr", "territory_id=" + o.t2, inOrder(t2)},
			{"RegionFilter", "director", "territory_id=" + o.s, inOrder(t3)},
			{"Director", "director", "", inOrder(all)},
			{"StatusFilter", "coordAll", "status=confirmed", []string{confirmed.ID}},
			{"StatusAndTerritory", "coordAll", "status=submitted&territory_id=" + o.t1, inOrder(t1[1:])},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				o := o.in(t)
				for _, limit := range []int{1, 2, 100} {
					if got := orderIDs(o.queue(tc.who, tc.query, limit)); !slices.Equal(got, tc.want) {
						t.Errorf("limit %d: queue = %v, want %v", limit, got, tc.want)
					}
				}
			})
		}
		t.Run("ErrRep", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("rep1", "GET", "/v1/orders", "", 403, domain.CodeForbidden)
		})
		t.Run("ErrTerritoryOutOfScope", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("mgr", "GET", "/v1/orders?territory_id="+o.t3, "", 404, domain.CodeNotFound)
			o.failsAs("coord1", "GET", "/v1/orders?territory_id="+o.r, "", 404, domain.CodeNotFound)
		})
		// An unknown territory answers like one outside the scope, for the
		// organisation-wide roles too (docs/api.md, "Who sees which territories").
		t.Run("ErrTerritoryUnknown", func(t *testing.T) {
			o := o.in(t)
			outside := o.failsAs("mgr", "GET", "/v1/orders?territory_id="+o.t3, "", 404, domain.CodeNotFound)
			for _, who := range []string{"mgr", "director", "coordAll", "coord1"} {
				got := o.failsAs(who, "GET", "/v1/orders?territory_id="+uuid.NewString(), "", 404, domain.CodeNotFound)
				if got.Message != outside.Message || len(got.Fields) != len(outside.Fields) {
					t.Errorf("%s: unknown territory answers %+v, out of scope %+v", who, got, outside)
				}
			}
		})
		t.Run("ErrBadParams", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("coordAll", "GET", "/v1/orders?status=lost", "", 400, domain.CodeBadRequest)
			o.failsAs("coordAll", "GET", "/v1/orders?cursor=nope", "", 400, domain.CodeBadRequest)
			o.failsAs("coordAll", "GET", "/v1/orders?territory_id=nope", "", 400, domain.CodeBadRequest)
			o.failsAs("coordAll", "GET", "/v1/orders?limit=0", "", 400, domain.CodeBadRequest)
		})
	})
}

func TestOrderDesk_Transition(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		ord := o.submittedOrder("rep1", o.acc1)
		path := "/v1/orders/" + ord.ID + "/transition"

		t.Run("Confirm", func(t *testing.T) {
			o := o.in(t)
			got := o.transition("coord1", ord.ID, map[string]any{"to": "confirmed", "expected_version": 2}, 200)
			if got.Status != domain.OrderConfirmed || got.Version != 3 || *got.Number != *ord.Number || got.TotalCents != 1999 {
				t.Errorf("confirmed %+v", got)
			}
			o.mirror("rep1").hasVersion("orders", ord.ID, 3) // the rep's devices get the confirmation
		})
		t.Run("ErrStaleVersion", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("coord1", "POST", path, `{"to":"shipped","expected_version":2}`, 409, domain.CodeVersionConflict)
		})
		t.Run("ErrIllegalTransition", func(t *testing.T) {
			o := o.in(t)
			o.failsAs("coord1", "POST", path, `{"to":"submitted","expected_version":3}`, 422, domain.CodeIllegalTransition)
			o.failsAs("coord1", "POST", path, `{"to":"delivered","expected_version":3}`, 422, domain.CodeIllegalTransition)
			o.failsAs("coord1", "POST", path, `{"to":"confirmed","expected_version":3}`, 422, domain.CodeIllegalTransition)
		})
		t.Run("ErrInvalidBody", func(t *testing.T) {
			o := o.in(t)
			d := o.failsAs("coord1", "POST", path, `{"to":"lost"}`, 422, domain.CodeValidation)
			if got := fieldNames(d); !slices.Equal(got, []string{"expected_version", "to"}) {
				t.Errorf("fields = %v", got)
			}
			o.failsAs("coord1", "POST", path, `{"to":"shipped","expected_version":"3"}`, 400, domain.CodeBadRequest)
		})
		t.Run("RejectNeedsReason", func(t *testing.T) {
			o := o.in(t)
			other := o.submittedOrder("rep1", o.acc1)
			p := "/v1/orders/" + other.ID + "/transition"
			d := o.failsAs("coord1", "POST", p, `{"to":"rejected","expected_version":2}`, 422, domain.CodeValidation)
			if got := fieldNames(d); !slices.Equal(got, []string{"reason"}) {
				t.Errorf("fields = %v", got)
			}
			got := o.transition("coord1", other.ID, map[string]any{"to": "rejected", "expected_version": 2, "reason": "out of stock"}, 200)
			if got.Status != domain.OrderRejected || got.Reason == nil || *got.Reason != "out of stock" {
				t.Errorf("rejected %+v", got)
			}
		})
		t.Run("ErrForbidden", func(t *testing.T) {
			o := o.in(t)
			for _, who := range []string{"rep1", "mgr", "director", "ops"} {
				o.failsAs(who, "POST", path, `{"to":"shipped","expected_version":3}`, 403, domain.CodeForbidden)
			}
		})
		t.Run("ErrOutOfScope", func(t *testing.T) {
			o := o.in(t)
			far := o.submittedOrder("rep3", o.acc3)
			o.failsAs("coord1", "POST", "/v1/orders/"+far.ID+"/transition", `{"to":"confirmed","expected_version":2}`, 404, domain.CodeNotFound)
			o.failsAs("coord1", "POST", "/v1/orders/"+uuid.NewString()+"/transition", `{"to":"confirmed","expected_version":2}`, 404, domain.CodeNotFound)
			o.failsAs("coord1", "POST", "/v1/orders/42/transition", `{"to":"confirmed","expected_version":2}`, 404, domain.CodeNotFound)
		})
		t.Run("SubmitPricesAndNumbers", func(t *testing.T) {
			o := o.in(t)
			id := o.draftOrder("rep1", o.acc1, 3)
			got := o.transition("coord1", id, map[string]any{"to": "submitted", "expected_version": 1}, 200)
			if got.Number == nil || got.SubmittedAt == nil || got.TotalCents != 3*1999 || got.Lines[0].UnitPriceCents != 1999 {
				t.Errorf("submitted from the desk %+v", got)
			}
		})
		t.Run("ErrSubmitWithoutLines", func(t *testing.T) {
			o := o.in(t)
			id := uuid.NewString()
			o.pushOne("rep1", mutation("orders", "upsert", id, 0, map[string]any{"account_id": o.acc1}), "applied")
			o.failsAs("coord1", "POST", "/v1/orders/"+id+"/transition", `{"to":"submitted","expected_version":1}`, 422, domain.CodeValidation)
		})
	})
}

// Numbers are taken from one locked counter: submits racing through the desk
// never share one.
func TestOrderDesk_NumbersUnique(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		const n = 8
		ids := make([]string, n)
		for i := range ids {
			ids[i] = o.draftOrder("rep1", o.acc1, i+1)
		}
		numbers := make([]string, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				status, b := o.do("POST", "/v1/orders/"+id+"/transition", o.tokens["coordAll"], `{"to":"submitted","expected_version":1}`)
				var ord domain.Order
				if status != 200 || json.Unmarshal(b, &ord) != nil || ord.Number == nil {
					t.Errorf("submit %s: %d %s", id, status, b)
					return
				}
				numbers[i] = *ord.Number
			})
		}
		wg.Wait()
		slices.Sort(numbers)
		if len(slices.Compact(slices.Clone(numbers))) != n {
			t.Errorf("order numbers not unique: %v", numbers)
		}
	})
}
