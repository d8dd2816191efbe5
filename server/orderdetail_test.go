package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// kinds lists the history as "kind:via:from>to" for comparison.
func historyOf(d backoffice.OrderDetail) []string {
	var out []string
	for _, e := range d.History {
		from := "-"
		if e.FromStatus != nil {
			from = *e.FromStatus
		}
		out = append(out, fmt.Sprintf("%s:%s:%s>%s", e.Kind, e.Via, from, e.Status))
	}
	return out
}

func TestOrderDetail_History(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		// A draft whose lines two devices changed: a conflict the coordinator
		// settles with the second device's lines; then the rep submits, a
		// bad submit is refused, the desk confirms and the rep's late edit of
		// the note conflicts.
		id, conflictID := o.linesConflict("rep1", o.acc1)
		var res backoffice.Resolved
		o.as("coord1", "POST", "/v1/conflicts/"+conflictID+"/resolve", `{"resolution":"take_device"}`, 200, &res)
		o.pushOne("rep1", mutation("orders", "upsert", id, 3, map[string]any{"lines": []map[string]any{}, "status": "submitted"}), wire.StatusRejected)
		o.pushOne("rep1", mutation("orders", "upsert", id, 3, map[string]any{"status": "submitted"}), wire.StatusApplied)
		o.transition("coord1", id, map[string]any{"to": "confirmed", "expected_version": 4}, 200)
		late := o.pushOne("rep1", mutation("orders", "upsert", id, 4, map[string]any{"note": "deliver after 10"}), wire.StatusConflict)

		var d backoffice.OrderDetail
		o.as("coord1", "GET", "/v1/orders/"+id, "", 200, &d)
		want := []string{"created:device:->draft", "edited:device:draft>draft", "edited:resolution:draft>draft",
			"status_changed:device:draft>submitted", "status_changed:api:submitted>confirmed"}
		if got := historyOf(d); !slices.Equal(got, want) {
			t.Fatalf("history = %v, want %v", got, want)
		}
		h := d.History
		if *h[0].ActorID != o.rep1 || *h[0].DeviceID != "dev-rep1" || *h[0].ActorName != "rep1" || *h[0].ActorRole != "rep" {
			t.Errorf("create by %+v", h[0])
		}
		if !slices.Equal(h[1].Fields, []string{"lines", "total_cents"}) || h[1].Version != 2 {
			t.Errorf("edit %+v", h[1])
		}
		if *h[2].ActorID != o.coord1 || *h[2].ConflictID != conflictID || h[2].DeviceID != nil {
			t.Errorf("resolution %+v", h[2])
		}
		if *h[4].ActorID != o.coord1 || h[4].DeviceID != nil || h[4].Version != 5 {
			t.Errorf("confirmation %+v", h[4])
		}
		for i := 1; i < len(h); i++ {
			if h[i].At.Before(h[i-1].At) {
				t.Errorf("history not oldest first: %v", h)
			}
		}
		if len(d.Conflicts) != 2 || d.Conflicts[0].ID != conflictID || d.Conflicts[0].Status != "resolved" ||
			d.Conflicts[1].ID != late.ConflictID || d.Conflicts[1].Status != "open" {
			t.Errorf("conflicts %+v", d.Conflicts)
		}
		if d.Order.Status != domain.OrderConfirmed || d.Account.ID != o.acc1 || d.Account.TerritoryName != "T1" ||
			d.Rep.Name != "rep1" || d.Visit != nil || d.Totals.Quantity != 3 || d.Totals.TotalCents != 3*1999 ||
			d.Totals.Lines != 1 || d.Lines[0].SKU != "W-1" || d.Lines[0].TotalCents != 3*1999 {
			t.Errorf("detail %+v", d)
		}

		t.Run("RejectWithReason", func(t *testing.T) {
			o := o.in(t)
			ord := o.submittedOrder("rep1", o.acc1)
			o.transition("coord1", ord.ID, map[string]any{"to": "rejected", "expected_version": 2, "reason": "credit hold"}, 200)
			var d backoffice.OrderDetail
			o.as("mgr", "GET", "/v1/orders/"+ord.ID, "", 200, &d)
			last := d.History[len(d.History)-1]
			if last.Reason == nil || *last.Reason != "credit hold" || last.Status != "rejected" {
				t.Errorf("rejection %+v", last)
			}
		})
		t.Run("ScopeAndRoles", func(t *testing.T) {
			o := o.in(t)
			out := o.submittedOrder("rep3", o.acc3)
			draft := o.draftOrder("rep1", o.acc1, 1)
			unknown := o.failsAs("coord1", "GET", "/v1/orders/"+uuid.NewString(), "", 404, domain.CodeNotFound)
			for _, p := range []string{out.ID, draft} {
				if got := o.failsAs("coord1", "GET", "/v1/orders/"+p, "", 404, domain.CodeNotFound); got.Message != unknown.Message {
					t.Errorf("out of scope answers %q, unknown %q", got.Message, unknown.Message)
				}
			}
			o.failsAs("rep1", "GET", "/v1/orders/"+id, "", 403, domain.CodeForbidden)
			o.as("coordAll", "GET", "/v1/orders/"+out.ID, "", 200, nil)
			o.as("director", "GET", "/v1/orders/"+out.ID, "", 200, nil)
			o.as("ops", "GET", "/v1/orders/"+out.ID, "", 200, nil)
		})
	})
}

func TestOrderDesk_Search(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		step := 0
		db.Now = func() time.Time { step++; return base.Add(time.Duration(step) * time.Hour) }
		// Orders of 1, 2 and 3 widgets on acc1 (rep1), 4 on acc2 (rep2), 5 on acc3 (rep3).
		var ords []domain.Order
		for i, who := range []string{"rep1", "rep1", "rep1", "rep2", "rep3"} {
			acc := map[string]string{"rep1": o.acc1, "rep2": o.acc2, "rep3": o.acc3}[who]
			id := o.draftOrder(who, acc, i+1)
			r := o.pushOne(who, mutation("orders", "upsert", id, 1, map[string]any{"status": "submitted"}), wire.StatusApplied)
			var ord domain.Order
			if err := json.Unmarshal(r.Row, &ord); err != nil {
				t.Fatal(err)
			}
			ords = append(ords, ord)
		}
		ids := func(is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, ords[i].ID)
			}
			return out
		}
		day := ords[2].SubmittedAt.Format(time.DateOnly)
		cases := []struct {
			name, who, query string
			want             []string
		}{
			{"Default", "coordAll", "", ids(0, 1, 2, 3, 4)},
			{"Number", "coordAll", "number=" + url.QueryEscape(*ords[3].Number), ids(3)},
			{"Account", "coordAll", "account_id=" + o.acc1, ids(0, 1, 2)},
			{"Rep", "coordAll", "rep_id=" + o.rep2, ids(3)},
			{"RepOutOfScopeMatchesNothing", "coord1", "rep_id=" + o.rep3, nil},
			{"Territory", "mgr", "territory_id=" + o.t2, ids(3)},
			{"Amount", "coordAll", "min_total_cents=3997&max_total_cents=7996", ids(1, 2, 3)},
			{"SubmittedRange", "coordAll", "submitted_from=" + url.QueryEscape(ords[1].SubmittedAt.Format(time.RFC3339Nano)) +
				"&submitted_to=" + url.QueryEscape(ords[3].SubmittedAt.Format(time.RFC3339Nano)), ids(1, 2)},
			{"SubmittedDay", "coordAll", "submitted_from=" + day + "&submitted_to=" + day, ids(0, 1, 2, 3, 4)},
			{"NewestFirst", "coordAll", "sort=-submitted_at", ids(4, 3, 2, 1, 0)},
			{"LargestFirst", "coordAll", "sort=-total_cents&account_id=" + o.acc1, ids(2, 1, 0)},
			{"SmallestFirst", "mgr", "sort=total_cents", ids(0, 1, 2, 3)},
			{"Combined", "coordAll", "status=submitted&account_id=" + o.acc1 + "&min_total_cents=3998&sort=-submitted_at", ids(2, 1)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				o := o.in(t)
				for _, limit := range []int{1, 2, 100} {
					if got := orderIDs(o.queue(tc.who, tc.query, limit)); !slices.Equal(got, tc.want) {
						t.Errorf("limit %d: %v, want %v", limit, got, tc.want)
					}
				}
			})
		}
		t.Run("ErrBadFilters", func(t *testing.T) {
			o := o.in(t)
			for _, q := range []string{"sort=number", "min_total_cents=-1", "max_total_cents=x", "submitted_from=yesterday",
				"account_id=nope", "rep_id=1", "number=" + strings.Repeat("9", 65)} {
				d := o.failsAs("coordAll", "GET", "/v1/orders?"+q, "", 400, domain.CodeBadRequest)
				if len(d.Fields) != 1 {
					t.Errorf("%s: fields %+v", q, d.Fields)
				}
			}
			// A cursor belongs to its sort order.
			var page backoffice.OrderList
			o.as("coordAll", "GET", "/v1/orders?limit=1&sort=total_cents", "", 200, &page)
			o.failsAs("coordAll", "GET", "/v1/orders?cursor="+*page.NextCursor, "", 400, domain.CodeBadRequest)
		})
	})
}
