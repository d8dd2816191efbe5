package server

import (
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/store"
	"github.com/gofiber/fiber/v2"
)

// reportHandlers serve the report endpoints (docs/protocol.md §6, "Reports").
type reportHandlers struct {
	s    *Server
	svcs *reportReaders
}

// svc is the report service of this request: on the read replica while one
// is usable (replica.go).
func (h reportHandlers) svc() *reports.Service { return h.svcs.get() }

// reportsOn is the report service reading db, its days in the organisation's
// zone.
func (s *Server) reportsOn(db *store.DB) *reports.Service {
	svc := reports.New(db, reports.Cadence{A: s.Cfg.CadenceA, B: s.Cfg.CadenceB, C: s.Cfg.CadenceC}, s.Cfg.Currency)
	return svc.WithLocation(s.Zone).WithSnapshots(s.snaps).WithKPISnapshots(s.kpiSnaps).WithTreeCache(s.trees)
}

// today is the server's clock in the organisation's zone: report parameters
// read today's date from it.
func (s *Server) today() time.Time { return s.DB.Now().In(s.Zone) }

// registerReports adds /reports under r (the /v1 group). Managers and directors
// read every report; coordinators only the orders report; reps and ops get 403
// (domain's role table, asked by the route and again by the service).
func (s *Server) registerReports(r fiber.Router) {
	h := reportHandlers{s: s, svcs: s.reportReaders()}
	g := r.Group("/reports", httpapi.Authenticate(s.Auth))
	g.Get("/coverage", httpapi.RequireAction(domain.ActReportCoverage), h.coverage)
	g.Get("/overdue", httpapi.RequireAction(domain.ActReportOverdue), h.overdue)
	g.Get("/orders", httpapi.RequireAction(domain.ActReportOrders), h.orders)
	g.Get("/sync-health", httpapi.RequireAction(domain.ActReportSyncHealth), h.syncHealth)
	g.Get("/kpis", httpapi.RequireAction(domain.ActReportKPIs), h.kpis)
}

// kpis answers the KPI report (docs/reports.md "KPIs"): period, as_of and
// territory_id instead of from and to.
func (h reportHandlers) kpis(c *fiber.Ctx) error {
	v, err := httpapi.Queries(c, "period", "as_of", "territory_id")
	if err != nil {
		return err
	}
	p, err := reports.ParseKPIParams(h.s.today(), v[0], v[1], v[2])
	if err != nil {
		return err
	}
	lv, err := levelOf(c)
	if err != nil {
		return err
	}
	out, err := h.svc().KPIsLevel(c.UserContext(), httpapi.CallerOf(c), p, lv)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// params reads from, to and territory_id; the strings are copied because
// Fiber reuses its buffers after the handler returns.
func (h reportHandlers) params(c *fiber.Ctx) (reports.Params, error) {
	v, err := httpapi.Queries(c, "from", "to", "territory_id")
	if err != nil {
		return reports.Params{}, err
	}
	return reports.ParseParams(h.s.today(), v[0], v[1], v[2])
}

func (h reportHandlers) coverage(c *fiber.Ctx) error {
	p, err := h.params(c)
	if err != nil {
		return err
	}
	lv, err := levelOf(c)
	if err != nil {
		return err
	}
	out, err := h.svc().CoverageLevel(c.UserContext(), httpapi.CallerOf(c), p, lv)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (h reportHandlers) overdue(c *fiber.Ctx) error {
	p, err := h.params(c)
	if err != nil {
		return err
	}
	limit, err := httpapi.QueryLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	cursor, err := httpapi.Query(c, "cursor")
	if err != nil {
		return err
	}
	out, err := h.svc().Overdue(c.UserContext(), httpapi.CallerOf(c), p, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (h reportHandlers) orders(c *fiber.Ctx) error {
	p, err := h.params(c)
	if err != nil {
		return err
	}
	lv, err := levelOf(c)
	if err != nil {
		return err
	}
	out, err := h.svc().OrdersLevel(c.UserContext(), httpapi.CallerOf(c), p, lv)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (h reportHandlers) syncHealth(c *fiber.Ctx) error {
	p, err := h.params(c)
	if err != nil {
		return err
	}
	limit, err := httpapi.QueryLimit(c, 500, 5000)
	if err != nil {
		return err
	}
	cursor, err := httpapi.Query(c, "cursor")
	if err != nil {
		return err
	}
	out, err := h.svc().SyncHealth(c.UserContext(), httpapi.CallerOf(c), p, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// levelOf reads depth, limit and cursor: the whole answer by default, one level
// of the territory tree and a page of reps at depth=1 (docs/reports.md "Levels
// and pages").
func levelOf(c *fiber.Ctx) (reports.Level, error) {
	v, err := httpapi.Queries(c, "depth", "cursor", "territory_limit", "territory_cursor")
	if err != nil {
		return reports.Level{}, err
	}
	limit, err := httpapi.QueryLimit(c, reports.DefaultRepLimit, reports.MaxRepLimit)
	if err != nil {
		return reports.Level{}, err
	}
	lv, err := reports.ParseLevel(v[0], limit, v[1])
	if err != nil {
		return lv, err
	}
	tl := 0
	if v[2] != "" {
		if tl, err = strconv.Atoi(v[2]); err != nil || tl < 1 {
			return lv, httpapi.BadParam("territory_limit", "must be a positive integer")
		}
	}
	return lv.WithTerritoryPage(tl, v[3])
}
