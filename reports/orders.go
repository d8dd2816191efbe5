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
}

type orderAgg struct {
	TerritoryID string
	Status      string
	Count       int64
	ValueCents  int64
}

// ordersReportSQL reads report_order_status_days (migration 00004), where each
// order counts on the organisation's day (migration 00013) of its submission, or of its last change for a
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

// Orders computes the orders report for the caller's scope.
func (s *Service) Orders(ctx context.Context, c domain.Caller, p Params) (OrdersReport, error) {
	out := OrdersReport{From: Date(p.From), To: Date(p.To), Currency: s.currency,
		ByStatus: emptyStatuses(), Territories: []TerritoryOrders{}}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if err := s.checkZone(tx); err != nil {
			return err
		}
		sc, err := resolveScope(tx, c, kindOrders, p.TerritoryID)
		if err != nil || sc.empty() {
			return err
		}
		var rows []orderAgg
		if err := tx.Query(&rows, fmt.Sprintf(ordersReportSQL, sc.scopeIn("territory_id")), dayArgs(sc, p)...); err != nil {
			return fmt.Errorf("orders report: %w", err)
		}
		out.Territories = assembleOrders(rows, sc, &out)
		return nil
	})
	return out, err
}

func assembleOrders(rows []orderAgg, sc scope, out *OrdersReport) []TerritoryOrders {
	byTerr := map[string]*TerritoryOrders{}
	for _, r := range rows {
		t := byTerr[r.TerritoryID]
		if t == nil {
			t = &TerritoryOrders{TerritoryID: r.TerritoryID, Name: sc.name(r.TerritoryID), ByStatus: emptyStatuses()}
			byTerr[r.TerritoryID] = t
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
