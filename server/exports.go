package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/export"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/gofiber/fiber/v2"
)

// Exports (docs/api.md "Exports"): every report and the order list as a CSV
// file or an Excel workbook, chosen by the `format` query parameter, with the
// JSON endpoint's filters, role and scope. The API serves them under /v1 with
// a bearer token; the dashboard and the desk link to the same files under
// /dashboard/export with the session cookie.

type exportHandlers struct {
	s    *Server
	svcs *reportReaders // the replica while one is usable, else the primary
	desk *backoffice.OrderDesk
	d    *dashboard // for the session of the dashboard's links
}

// exportBuilder makes an export for a caller from the request's filters.
type exportBuilder func(c *fiber.Ctx, who domain.Caller) (name string, tables []export.Table, err error)

// svc is the report service of this request (replica.go).
func (h exportHandlers) svc() *reports.Service { return h.svcs.get() }

// registerExports adds the export routes. It runs before the reports and
// orders routes: /v1/orders/export would otherwise be read as an order id,
// and the reports group's token check would run a second time.
func (s *Server) registerExports(v1 fiber.Router) {
	svcs := s.reportReaders()
	h := exportHandlers{s: s, svcs: svcs, desk: backoffice.NewOrderDesk(s.DB), d: &dashboard{s: s, readers: svcs}}
	authn := httpapi.Authenticate(s.Auth)
	for _, r := range h.reportExports() {
		v1.Get("/reports/"+r.path+"/export", authn, httpapi.RequireAction(r.action), h.api(r.build))
	}
	v1.Get("/orders/export", authn, httpapi.RequireAction(domain.ActListOrders), h.api(h.orders))

	g := s.App.Group(dashboardPath+"/export", securityHeaders)
	g.Get("/reports/:report", h.dashboardReport)
	g.Get("/orders", func(c *fiber.Ctx) error { return h.fromDashboard(c, h.orders, true) })
}

type reportExport struct {
	path   string
	action domain.Action
	build  exportBuilder
}

func (h exportHandlers) reportExports() []reportExport {
	// fn is a method expression: the service is picked per request (svc).
	dated := func(fn func(*reports.Service, context.Context, domain.Caller, reports.Params) (reports.Export, error)) exportBuilder {
		return func(c *fiber.Ctx, who domain.Caller) (string, []export.Table, error) {
			v, err := httpapi.Queries(c, "from", "to", "territory_id")
			if err != nil {
				return "", nil, err
			}
			p, err := reports.ParseParams(h.s.today(), v[0], v[1], v[2])
			if err != nil {
				return "", nil, err
			}
			e, err := fn(h.svc(), c.UserContext(), who, p)
			return e.Name, e.Tables, err
		}
	}
	kpis := func(c *fiber.Ctx, who domain.Caller) (string, []export.Table, error) {
		v, err := httpapi.Queries(c, "period", "as_of", "territory_id")
		if err != nil {
			return "", nil, err
		}
		p, err := reports.ParseKPIParams(h.s.today(), v[0], v[1], v[2])
		if err != nil {
			return "", nil, err
		}
		e, err := h.svc().KPIsExport(c.UserContext(), who, p)
		return e.Name, e.Tables, err
	}
	return []reportExport{
		{"coverage", domain.ActReportCoverage, dated((*reports.Service).CoverageExport)},
		{"overdue", domain.ActReportOverdue, dated((*reports.Service).OverdueExport)},
		{"orders", domain.ActReportOrders, dated((*reports.Service).OrdersExport)},
		{"sync-health", domain.ActReportSyncHealth, dated((*reports.Service).SyncHealthExport)},
		{"kpis", domain.ActReportKPIs, kpis},
	}
}

// orders exports the order list with GET /v1/orders's filters and sort.
func (h exportHandlers) orders(c *fiber.Ctx, who domain.Caller) (string, []export.Table, error) {
	v, err := httpapi.Queries(c, "status", "territory_id", "number", "account_id", "rep_id",
		"submitted_from", "submitted_to", "min_total_cents", "max_total_cents", "sort")
	if err != nil {
		return "", nil, err
	}
	q := backoffice.OrderQuery{Status: v[0], TerritoryID: v[1], Number: v[2], AccountID: v[3], RepID: v[4],
		SubmittedFrom: v[5], SubmittedTo: v[6], MinTotal: v[7], MaxTotal: v[8], Sort: v[9]}
	t, err := h.desk.ExportOrders(c.UserContext(), who, q)
	if err != nil {
		return "", nil, err
	}
	return "fieldsync-orders-" + h.s.DB.Now().UTC().Format(reports.DateLayout), []export.Table{t}, nil
}

func (h exportHandlers) api(build exportBuilder) fiber.Handler {
	return func(c *fiber.Ctx) error { return h.send(c, httpapi.CallerOf(c), build) }
}

// dashboardReport serves a report's export to the dashboard's session.
func (h exportHandlers) dashboardReport(c *fiber.Ctx) error {
	name := c.Params("report")
	for _, r := range h.reportExports() {
		if r.path == name {
			return h.fromDashboard(c, r.build, false)
		}
	}
	return domain.Errorf(domain.CodeNotFound, "no such report")
}

// fromDashboard answers a link of the dashboard or of the desk (desk: the
// order list, which coordinators read from the desk): a GET that changes
// nothing, so the session cookie (SameSite=Strict) is all it needs. Without a
// session it is 401; the role and scope are the services' checks, as for the
// API.
func (h exportHandlers) fromDashboard(c *fiber.Ctx, build exportBuilder, desk bool) error {
	p, _, ok := h.d.session(c)
	if !ok {
		return domain.Errorf(domain.CodeUnauthorized, "sign in to the dashboard first")
	}
	who := p.Caller
	if desk {
		who = deskCaller(p)
	}
	return h.send(c, who, build)
}

// send checks the format and table, builds the export (the role, scope and
// filters are checked there, so refusals are the usual error bodies), then
// streams the file: a goroutine writes it into a pipe the server reads the
// body from, in chunks, as the rows come. A failure half-way closes the pipe
// with the error, so the connection is cut before the last chunk and the
// client sees a broken download rather than a short file that looks whole.
func (h exportHandlers) send(c *fiber.Ctx, who domain.Caller, build exportBuilder) error {
	v, err := httpapi.Queries(c, "format", "table")
	if err != nil {
		return err
	}
	f, ok := export.ParseFormat(v[0])
	if !ok {
		return httpapi.BadParam("format", "must be csv or xlsx")
	}
	name, tables, err := build(c, who)
	if err != nil {
		return err
	}
	table := v[1]
	if _, ok := export.Pick(tables, table); !ok {
		return httpapi.BadParam("table", "must be one of "+strings.Join(export.Names(tables), ", "))
	}
	if f == export.CSV && len(tables) > 1 {
		t, _ := export.Pick(tables, table)
		name += "-" + t.Name
	}
	c.Set(fiber.HeaderContentType, f.ContentType())
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + string(f)}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")

	ctx, log := context.WithoutCancel(c.UserContext()), h.s.Logger
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		err := export.Write(ctx, bw, f, tables, table)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			log.Error("export failed", "file", name, "err", err)
		}
		pw.CloseWithError(err)
	}()
	var body io.Reader = pr
	if conn, t := c.Context().Conn(), h.s.Cfg.WriteTimeout; conn != nil && t > 0 {
		body = &deadlineReader{r: pr, conn: conn, timeout: t, now: time.Now}
	}
	c.Response().SetBodyStream(body, -1)
	return nil
}

// deadlineReader gives each chunk of a streamed body the write timeout anew.
// The server sets one write deadline for a whole response, so without it an
// export taking longer than FIELDSYNC_WRITE_TIMEOUT (60 s by default) to
// stream would be cut however fast the client reads. The server writes what
// each Read returns before reading again, so pushing the deadline as a Read
// returns bounds the write of that chunk: a client that stops reading is
// still dropped after the timeout, while the time spent waiting on the
// database between chunks counts against nothing (docs/operations.md).
type deadlineReader struct {
	r       io.Reader
	conn    interface{ SetWriteDeadline(time.Time) error }
	timeout time.Duration
	now     func() time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if n > 0 {
		// It fails only on a closed connection, where the write fails too.
		_ = d.conn.SetWriteDeadline(d.now().Add(d.timeout))
	}
	return n, err
}

// Close closes the pipe, so the export stops when the server gives up on
// the response (it closes a body stream that is an io.Closer).
func (d *deadlineReader) Close() error {
	if c, ok := d.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
