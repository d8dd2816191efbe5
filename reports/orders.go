package reports

import (
	"slices"

	"context"
	"fmt"
	"sort"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// orderStatuses is the order of the status rows: the order state machine's.
var orderStatuses = domain.OrderStatuses()

// StatusAmount is a count of orders and their summed totals.
type StatusAmount struct {
	Status     string `json:"status,omitempty"`
	Count      int64  `json:"count"`
	ValueCents int64  `json:"value_cents"`
}

type TerritoryOrders struct {
	TerritoryID string         `json:"territory_id"`
	Name        string         `json:"name"`
	Count       int64          `json:"count"`
	ValueCents  int64          `json:"value_cents"`
	ByStatus    []StatusAmount `json:"by_status"`
}

// OrdersReport counts the orders of the period by status and territory. An
// order belongs to the period by its submitted_at; a draft, never submitted, by
// its last change.
type OrdersReport struct {
	From        Date              `json:"from"`
	To          Date              `json:"to"`
	Currency    string            `json:"currency"`
	Totals      StatusAmount      `json:"totals"`
	ByStatus    []StatusAmount    `json:"by_status"`
	Territories []TerritoryOrders `json:"territories"`
	// Depth: as in the coverage report ("1": Territories is one level of the
	// tree, each row with its subtree).
	Depth string `json:"depth"`
	// TerritoriesTotal and TerritoriesNextCursor: as in the coverage report.
	TerritoriesTotal      int     `json:"territories_total"`
	TerritoriesNextCursor *string `json:"territories_next_cursor"`
}

type orderAgg struct {
	TerritoryID string
	Status      string
	Count       int64
	ValueCents  int64
}

// ordersReportSQL reads report_order_status_days (migration 00004), where each
// order counts on the organisation's day (migration 00021) of its submission, or of its last change for a
// draft, plus the deltas not folded yet.
const ordersReportSQL = `
SELECT territory_id, status, SUM(orders) AS count, CAST(SUM(value_cents) AS bigint) AS value_cents FROM (
  SELECT territory_id, status, orders, value_cents FROM report_order_status_days
  WHERE day >= @from AND day <= @to%[1]s
  UNION ALL
  SELECT territory_id, status, orders, value_cents FROM report_order_status_deltas
  WHERE day >= @from AND day <= @to%[1]s
) x
GROUP BY territory_id, status
HAVING SUM(orders) <> 0`

// Orders computes the orders report for the caller's scope, every territory.
func (s *Service) Orders(ctx context.Context, c domain.Caller, p Params) (OrdersReport, error) {
	return s.OrdersLevel(ctx, c, p, WholeTree)
}

// OrdersLevel computes the orders report with one level of the tree (Level)
// or, when lv.All, every territory holding orders.
func (s *Service) OrdersLevel(ctx context.Context, c domain.Caller, p Params, lv Level) (OrdersReport, error) {
	out := OrdersReport{From: Date(p.From), To: Date(p.To), Currency: s.currency,
		ByStatus: emptyStatuses(), Territories: []TerritoryOrders{}, Depth: lv.depth()}
	var sc scope
	var rows []orderAgg
	snap := false
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if err := s.checkZone(tx); err != nil {
			return err
		}
		var err error
		if sc, err = s.resolveScope(tx, c, kindOrders, p.TerritoryID); err != nil || sc.empty() {
			return err
		}
		// A large scope reads the organisation's snapshot (Snapshots).
		if snap = s.snaps.covers(sc); snap {
			return nil
		}
		rows, err = queryOrders(tx, sc, p)
		return err
	})
	if err != nil || sc.empty() {
		return out, err
	}
	lv = lv.forScope(sc)
	out.Depth = lv.depth()
	if snap {
		all, err := s.ordersSnapshot(ctx, p)
		if err != nil {
			return out, err
		}
		rows = all
		if keep := sc.keep(); keep != nil {
			rows = nil
			for _, r := range all {
				if keep(r.TerritoryID) {
					rows = append(rows, r)
				}
			}
		}
	}
	fillOrders(&out, rows, sc, p, lv)
	return out, nil
}

// fillOrders computes out's totals and territory rows from rows.
func fillOrders(out *OrdersReport, rows []orderAgg, sc scope, p Params, lv Level) {
	rowOf := func(id string) string { return id }
	if !lv.All {
		// Each row adds up its subtree: the rows count for their level row.
		rowOf = sc.rowOf(sc.levelRows(p.TerritoryID))
	}
	out.Territories = assembleOrders(rows, sc, out, rowOf)
	if !lv.All {
		out.Territories = slices.DeleteFunc(out.Territories, func(t TerritoryOrders) bool { return t.TerritoryID == "" })
	}
	out.TerritoriesTotal = len(out.Territories)
	lo, hi, next := lv.territories().pageRows(len(out.Territories), func(i int) (string, string) {
		return out.Territories[i].Name, out.Territories[i].TerritoryID
	})
	out.Territories, out.TerritoriesNextCursor = out.Territories[lo:hi], next
}

func queryOrders(tx *store.Tx, sc scope, p Params) ([]orderAgg, error) {
	var rows []orderAgg
	if err := tx.Query(&rows, fmt.Sprintf(ordersReportSQL, sc.scopeIn("territory_id")), dayArgs(sc, p)...); err != nil {
		return nil, fmt.Errorf("orders report: %w", err)
	}
	return rows, nil
}

// ordersSnapshot returns the organisation's orders report rows for p's
// period from s.snaps, reading them when there is no snapshot young enough.
func (s *Service) ordersSnapshot(ctx context.Context, p Params) ([]orderAgg, error) {
	v, err := s.snaps.get(ctx, s.snapKey("orders", p), func(ctx context.Context) (any, error) {
		var rows []orderAgg
		err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
			if err := s.checkZone(tx); err != nil {
				return err
			}
			var err error
			rows, err = queryOrders(tx, wholeOrganisation, p)
			return err
		})
		sort.Slice(rows, func(i, j int) bool { return rows[i].TerritoryID < rows[j].TerritoryID })
		return rows, err
	})
	if err != nil {
		return nil, err
	}
	return v.([]orderAgg), nil
}

// assembleOrders adds rows up into out's totals and a row per territory
// rowOf maps them to, by name.
func assembleOrders(rows []orderAgg, sc scope, out *OrdersReport, rowOf func(string) string) []TerritoryOrders {
	byTerr := map[string]*TerritoryOrders{}
	var last, id string
	for i, r := range rows {
		// A snapshot's rows come sorted by territory (ordersSnapshot): one
		// lookup of the level row per territory, not per status.
		if i == 0 || r.TerritoryID != last {
			last, id = r.TerritoryID, rowOf(r.TerritoryID)
		}
		t := byTerr[id]
		if t == nil {
			t = &TerritoryOrders{TerritoryID: id, Name: sc.name(id), ByStatus: emptyStatuses()}
			byTerr[id] = t
		}
		i := statusIndex(r.Status)
		if i < 0 {
			continue
		}
		for _, sa := range []*StatusAmount{&t.ByStatus[i], &out.ByStatus[i]} {
			sa.Count += r.Count
			sa.ValueCents += r.ValueCents
		}
		t.Count, t.ValueCents = t.Count+r.Count, t.ValueCents+r.ValueCents
		out.Totals.Count, out.Totals.ValueCents = out.Totals.Count+r.Count, out.Totals.ValueCents+r.ValueCents
	}
	terrs := make([]TerritoryOrders, 0, len(byTerr))
	for _, t := range byTerr {
		terrs = append(terrs, *t)
	}
	sort.Slice(terrs, func(i, j int) bool {
		if terrs[i].Name != terrs[j].Name {
			return terrs[i].Name < terrs[j].Name
		}
		return terrs[i].TerritoryID < terrs[j].TerritoryID
	})
	return terrs
}

func emptyStatuses() []StatusAmount {
	out := make([]StatusAmount, len(orderStatuses))
	for i, s := range orderStatuses {
		out[i].Status = s
	}
	return out
}

func statusIndex(status string) int { return slices.Index(orderStatuses, status) }
