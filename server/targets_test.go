package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

func targetBody(subject, id, period string, revenue int64, extra string) string {
	return fmt.Sprintf(`{%q: %q, "period": %q, "revenue_cents": %d%s}`, subject, id, period, revenue, extra)
}

// Directors and ops set targets; a change is a new version with its history
// (who, when, old and new figures); setting the same figures again changes
// nothing.
func TestTargets_SetAndHistory(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		var created, changed, same domain.Target
		o.as("director", "PUT", "/v1/targets", targetBody("territory_id", o.t1, "2026-11", 500000, `, "visits": 40`), 201, &created)
		if created.Version != 1 || created.PeriodStart != "2026-11-01" || created.PeriodEnd != "2026-11-30" ||
			created.Visits == nil || *created.Visits != 40 || created.NewAccounts != nil || created.UpdatedBy != o.director {
			t.Fatalf("created %+v", created)
		}
		o.as("ops", "PUT", "/v1/targets", targetBody("territory_id", o.t1, "2026-11", 650000, `, "new_accounts": 3`), 200, &changed)
		if changed.ID != created.ID || changed.Version != 2 || changed.RevenueCents != 650000 || changed.Visits != nil ||
			*changed.NewAccounts != 3 || changed.UpdatedBy == o.director || changed.UpdatedBy == "" {
			t.Fatalf("changed %+v", changed)
		}
		o.as("director", "PUT", "/v1/targets", targetBody("territory_id", o.t1, "2026-11", 650000, `, "new_accounts": 3`), 200, &same)
		if same.Version != 2 || same.UpdatedBy != changed.UpdatedBy {
			t.Fatalf("unchanged figures made a new version: %+v", same)
		}
		var q domain.Target
		o.as("director", "PUT", "/v1/targets", targetBody("rep_id", o.rep1, "2026-Q4", 900000, ""), 201, &q)
		if q.PeriodStart != "2026-10-01" || q.PeriodEnd != "2026-12-31" || q.TerritoryID != nil {
			t.Fatalf("quarter target %+v", q)
		}

		var h struct{ Items []domain.TargetChange }
		o.as("mgr", "GET", "/v1/targets/"+created.ID+"/history", "", 200, &h)
		if len(h.Items) != 2 {
			t.Fatalf("history %+v", h.Items)
		}
		first, second := h.Items[0], h.Items[1]
		if first.Old != nil || first.New.RevenueCents != 500000 || first.ChangedBy != o.director || first.Version != 1 {
			t.Fatalf("first entry %+v", first)
		}
		if second.Old == nil || second.Old.RevenueCents != 500000 || *second.Old.Visits != 40 || second.Old.NewAccounts != nil ||
			second.New.RevenueCents != 650000 || second.ChangedBy != changed.UpdatedBy || second.Version != 2 ||
			second.ChangedAt.Before(first.ChangedAt) {
			t.Fatalf("second entry %+v", second)
		}
	})
}

func TestTargets_Validation(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		for _, c := range []struct{ body, field string }{
			{`{"territory_id": "` + o.t1 + `", "period": "2026-13", "revenue_cents": 1}`, "period"},
			{`{"territory_id": "` + o.t1 + `", "period": "2026-Q5", "revenue_cents": 1}`, "period"},
			{`{"territory_id": "` + o.t1 + `", "period": "2026-11"}`, "revenue_cents"},
			{`{"territory_id": "` + o.t1 + `", "period": "2026-11", "revenue_cents": -1}`, "revenue_cents"},
			{`{"territory_id": "` + o.t1 + `", "period": "2026-11", "revenue_cents": 1, "visits": -2}`, "visits"},
			{`{"period": "2026-11", "revenue_cents": 1}`, "territory_id"},
			{`{"territory_id": "` + o.t1 + `", "rep_id": "` + o.rep1 + `", "period": "2026-11", "revenue_cents": 1}`, "rep_id"},
			{`{"rep_id": "` + o.mgr + `", "period": "2026-11", "revenue_cents": 1}`, "rep_id"},
			{`{"territory_id": "` + uuid.NewString() + `", "period": "2026-11", "revenue_cents": 1}`, "territory_id"},
			{`{"territory_id": "not-a-uuid", "period": "2026-11", "revenue_cents": 1}`, "territory_id"},
		} {
			d := o.failsAs("director", "PUT", "/v1/targets", c.body, 422, domain.CodeValidation)
			if !slices.ContainsFunc(d.Fields, func(f domain.FieldError) bool { return f.Field == c.field }) {
				t.Errorf("%s: fields %+v, want %s", c.body, d.Fields, c.field)
			}
		}
		o.failsAs("director", "GET", "/v1/targets?period=2026-1", "", 400, domain.CodeBadRequest)
	})
}

// Only directors and ops set targets; managers read their subtree's (the
// territories' and their reps'), and a target outside it answers like an
// unknown one.
func TestTargets_WhoSeesWhat(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		body := targetBody("territory_id", o.t1, "2026-11", 100, "")
		for _, who := range []string{"mgr", "rep1", "coord1"} {
			o.failsAs(who, "PUT", "/v1/targets", body, 403, domain.CodeForbidden)
		}
		for _, who := range []string{"rep1", "coord1", "coordAll"} {
			o.failsAs(who, "GET", "/v1/targets", "", 403, domain.CodeForbidden)
		}
		ids := map[string]string{}
		for name, b := range map[string]string{
			"t1": body, "t3": targetBody("territory_id", o.t3, "2026-11", 300, ""),
			"rep1": targetBody("rep_id", o.rep1, "2026-11", 10, ""), "rep3": targetBody("rep_id", o.rep3, "2026-11", 30, ""),
			"r": targetBody("territory_id", o.r, "2026-Q4", 1000, ""),
		} {
			var tg domain.Target
			o.as("director", "PUT", "/v1/targets", b, 201, &tg)
			ids[name] = tg.ID
		}
		list := func(who, query string) []string {
			var page struct{ Items []domain.Target }
			o.as(who, "GET", "/v1/targets"+query, "", 200, &page)
			var names []string
			for _, it := range page.Items {
				for n, id := range ids {
					if id == it.ID {
						names = append(names, n)
					}
				}
			}
			slices.Sort(names)
			return names
		}
		for _, c := range []struct {
			who, query string
			want       []string
		}{
			{"mgr", "", []string{"r", "rep1", "t1"}},
			{"mgr2", "", []string{"rep3", "t3"}},
			{"director", "", []string{"r", "rep1", "rep3", "t1", "t3"}},
			{"ops", "?period=2026-11", []string{"rep1", "rep3", "t1", "t3"}},
			{"mgr", "?rep_id=" + o.rep1, []string{"rep1"}},
			{"mgr", "?rep_id=" + o.rep3, nil},
		} {
			if got := list(c.who, c.query); !slices.Equal(got, c.want) {
				t.Errorf("%s %s: %v, want %v", c.who, c.query, got, c.want)
			}
		}
		o.failsAs("mgr2", "GET", "/v1/targets/"+ids["t1"]+"/history", "", 404, domain.CodeNotFound)
		o.failsAs("mgr2", "GET", "/v1/targets/"+uuid.NewString()+"/history", "", 404, domain.CodeNotFound)
		o.failsAs("mgr2", "GET", "/v1/targets?territory_id="+o.t1, "", 404, domain.CodeNotFound)

		// Paging: one target a page, every target once.
		var seen []string
		cursor := ""
		for {
			var page struct {
				Items      []domain.Target
				NextCursor *string `json:"next_cursor"`
			}
			o.as("director", "GET", "/v1/targets?limit=2&cursor="+cursor, "", 200, &page)
			for _, it := range page.Items {
				seen = append(seen, it.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if len(seen) != 5 {
			t.Fatalf("paged %d targets, want 5", len(seen))
		}
	})
}

// Reps receive their own targets and their territory's through sync, changes
// included; another rep's target never reaches them; a device cannot write a
// target.
func TestTargets_Sync(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		var own, other, team domain.Target
		o.as("director", "PUT", "/v1/targets", targetBody("rep_id", o.rep1, "2026-11", 100, ""), 201, &own)
		o.as("director", "PUT", "/v1/targets", targetBody("rep_id", o.rep2, "2026-11", 200, ""), 201, &other)
		o.as("director", "PUT", "/v1/targets", targetBody("territory_id", o.t1, "2026-11", 300, ""), 201, &team)
		m := o.mirror("rep1")
		m.hasVersion(domain.TableTargets, own.ID, 1)
		m.hasVersion(domain.TableTargets, team.ID, 1)
		o.as("ops", "PUT", "/v1/targets", targetBody("rep_id", o.rep1, "2026-11", 150, ""), 200, nil)
		got := m.hasVersion(domain.TableTargets, own.ID, 2)
		var row domain.Target
		if err := json.Unmarshal(got.Row, &row); err != nil || row.RevenueCents != 150 {
			t.Fatalf("synced row %s: %v", got.Row, err)
		}
		if _, ok := m.rows[domain.TableTargets][other.ID]; ok {
			t.Fatal("rep1 received rep2's target")
		}
		r := o.push("rep1", "", mutation(domain.TableTargets, "upsert", own.ID, 2, map[string]any{"revenue_cents": 1}))[0]
		if r.Status != wire.StatusRejected || r.Error == nil || r.Error.Code != string(domain.CodeForbidden) {
			t.Fatalf("push of a target: %+v", r)
		}
		// The manager above sees the territory's target through sync too.
		o.mirror("mgr").hasVersion(domain.TableTargets, team.ID, 1)
	})
}

// The KPI report answers managers and directors as documented (the exchange is
// checked against openapi.json); the figures themselves are proven in
// reports/kpis_test.go.
func TestReports_KPIsEndpoint(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		o.as("director", "PUT", "/v1/targets", targetBody("territory_id", o.t1, "2026-11", 1000, ""), 201, nil)
		var got struct {
			Period      string `json:"period"`
			Territories []struct {
				TerritoryID string `json:"territory_id"`
				TargetCents *int64 `json:"target_cents"`
			} `json:"territories"`
		}
		o.as("mgr", "GET", "/v1/reports/kpis?period=2026-11&as_of=2026-11-15&depth=all", "", 200, &got)
		found := false
		for _, tr := range got.Territories {
			if tr.TerritoryID == o.t1 && tr.TargetCents != nil && *tr.TargetCents == 1000 {
				found = true
			}
		}
		if got.Period != "2026-11" || !found {
			t.Fatalf("kpis %+v", got)
		}
		o.as("director", "GET", "/v1/reports/kpis", "", 200, nil)
		o.failsAs("rep1", "GET", "/v1/reports/kpis", "", 403, domain.CodeForbidden)
		o.failsAs("ops", "GET", "/v1/reports/kpis", "", 403, domain.CodeForbidden)
		o.failsAs("mgr", "GET", "/v1/reports/kpis?period=2026-14", "", 400, domain.CodeBadRequest)
		o.failsAs("mgr2", "GET", "/v1/reports/kpis?territory_id="+o.t1, "", 404, domain.CodeNotFound)
	})
}
