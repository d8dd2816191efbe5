package server

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/gofiber/fiber/v2"
)

// The order desk page (docs/api.md, "Order desk page"): the coordinators'
// working page beside the dashboard, on the same session, CSRF and CSP rules.
// Every action goes through the same services as the API (backoffice.OrderDesk,
// backoffice.Conflicts), so the same rules and version checks apply; the page
// only turns their answers into words.

const (
	deskPath = dashboardPath + "/desk"
	// deskFormLimit allows a bulk confirmation of a full queue page
	// (deskQueueRows ids with versions).
	deskFormLimit = 64 << 10
	deskQueueRows = 50
)

// deskRole: the desk shows the order queue, so it is for the roles that read it.
func deskRole(r domain.Role) bool { return domain.Authorize(r, domain.ActListOrders) == nil }

// signInRole: who may sign in to the dashboard pages: either page.
func signInRole(r domain.Role) bool { return dashboardRole(r) || deskRole(r) }

type desk struct {
	d         *dashboard
	orders    *backoffice.OrderDesk
	conflicts *backoffice.Conflicts
	tmpl      *template.Template
}

var deskFuncs = template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04")
	},
	"at":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"str": func(p *string) string { return deref(p) },
	"verb": func(to string) string {
		return map[string]string{domain.OrderConfirmed: "Confirm", domain.OrderRejected: "Reject", domain.OrderCancelled: "Cancel",
			domain.OrderShipped: "Mark shipped", domain.OrderDelivered: "Mark delivered", domain.OrderSubmitted: "Submit"}[to]
	},
	"join": strings.Join,
	// label names a status for people; the ERP's moves say where they came from.
	"label": func(status string) string {
		return map[string]string{domain.OrderDraft: "Draft", domain.OrderSubmitted: "Submitted", domain.OrderConfirmed: "Confirmed",
			domain.OrderShipped: "Shipped", domain.OrderDelivered: "Delivered", domain.OrderCancelled: "Cancelled",
			domain.OrderRejected: "Rejected"}[status]
	},
	"via": func(via string) string {
		if via == domain.ViaERP {
			return "the ERP"
		}
		return via
	},
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (d *dashboard) registerDesk(g fiber.Router) {
	k := &desk{d: d, orders: backoffice.NewOrderDesk(d.s.DB), conflicts: backoffice.NewConflicts(d.s.DB, d.s.Cfg.Currency),
		tmpl: template.Must(template.New("").Funcs(viewFuncs).Funcs(deskFuncs).ParseFS(dashboardFS, "dashboard/desk/*.html"))}
	g.Get("/desk", k.page)
	form := []fiber.Handler{httpapi.BodyLimit(deskFormLimit), readForm}
	g.Post("/desk/orders/:id/transition", append(form, k.transition)...)
	g.Post("/desk/confirm", append(form, k.confirmMany)...)
	g.Post("/desk/conflicts/:id/resolve", append(form, k.resolve)...)
}

// deskView is everything desk.html shows.
type deskView struct {
	User      auth.User
	CSRF      string
	CanMove   bool
	Notice    string
	Error     string
	Results   []bulkLine
	Status    string
	Number    string
	Statuses  []string
	Queue     []backoffice.QueueItem
	More      bool
	Order     *backoffice.OrderDetail
	Next      []string
	Conflicts []deskConflict
	// OrderID is the order to show when the request does not name one (a
	// refused transition shows its order again).
	OrderID string
}

type bulkLine struct {
	Label, Message string
	OK             bool
}

type deskConflict struct {
	backoffice.Conflict
	Label string
	// Submitted: the order has a number, so the desk can open it (a draft is
	// still the rep's).
	Submitted bool
}

// caller is the signed-in user as the services see them, working from the desk.
func deskCaller(p auth.Principal) domain.Caller {
	c := p.Caller
	c.Via = domain.ViaDesk
	return c
}

// signedIn returns the session of a desk user, or answers the login form (a
// GET) or 403 (a form post without a valid session or CSRF token).
func (k *desk) signedIn(c *fiber.Ctx, post bool) (auth.Principal, string, bool, error) {
	p, csrf, ok := k.d.session(c)
	switch {
	case ok && post && !auth.CSRFEqual(c.FormValue("csrf"), csrf):
		return p, csrf, false, domain.Errorf(domain.CodeForbidden, "invalid or missing CSRF token")
	case ok && deskRole(p.Role):
		return p, csrf, true, nil
	case post:
		return p, csrf, false, domain.Errorf(domain.CodeForbidden, "invalid or missing CSRF token")
	case ok:
		return p, csrf, false, c.Redirect(dashboardPath, fiber.StatusSeeOther)
	}
	return p, csrf, false, k.d.loginForm(c, fiber.StatusOK, "")
}

func (k *desk) page(c *fiber.Ctx) error {
	p, csrf, ok, err := k.signedIn(c, false)
	if !ok {
		return err
	}
	v := deskView{Notice: deskNotices[c.Query("done")]}
	return k.show(c, p, csrf, fiber.StatusOK, &v)
}

// show fills the queue, the chosen order and the open conflicts into v and
// renders the page with status.
func (k *desk) show(c *fiber.Ctx, p auth.Principal, csrf string, status int, v *deskView) error {
	ctx, who := c.UserContext(), deskCaller(p)
	var err error
	if v.User, err = k.d.s.Auth.User(ctx, p.UserID); err != nil {
		return err
	}
	v.CSRF, v.CanMove = csrf, domain.Authorize(p.Role, domain.ActTransitionOrder) == nil
	v.Statuses = domain.OrderStatuses()[1:] // drafts are never on the desk
	v.Status, v.Number = strings.Clone(c.Query("status", domain.OrderSubmitted)), strings.Clone(strings.TrimSpace(c.Query("number")))
	if v.Status == "all" {
		v.Status = ""
	}
	q := backoffice.OrderQuery{Status: v.Status, Number: v.Number, Limit: deskQueueRows}
	var next *string
	v.Queue, next, err = k.orders.Queue(ctx, who, q)
	if domain.ErrorCode(err) == domain.CodeBadRequest {
		v.Error, v.Status, v.Number = "That filter is not valid; showing the submitted orders.", domain.OrderSubmitted, ""
		v.Queue, next, err = k.orders.Queue(ctx, who, backoffice.OrderQuery{Status: domain.OrderSubmitted, Limit: deskQueueRows})
	}
	if err != nil {
		return err
	}
	v.More = next != nil
	id := v.OrderID
	if id == "" {
		id = strings.Clone(c.Query("order"))
	}
	if id != "" {
		det, err := k.orders.Get(ctx, who, id)
		switch {
		case err == nil:
			v.Order = &det
			if v.CanMove {
				v.Next = domain.OrderNextStatuses(p.Role, det.Order.Status)
			}
		case domain.ErrorCode(err) == domain.CodeNotFound:
			v.Error = "That order does not exist or is not on your desk."
		default:
			return err
		}
	}
	if domain.Authorize(p.Role, domain.ActResolveConflict) == nil {
		list, err := k.conflicts.List(ctx, who, backoffice.ConflictQuery{Status: "open", Table: domain.TableOrders, Limit: deskQueueRows})
		if err != nil {
			return err
		}
		for _, cf := range list.Items {
			label, numbered := conflictLabel(cf)
			v.Conflicts = append(v.Conflicts, deskConflict{Conflict: cf, Label: label, Submitted: numbered})
		}
	}
	c.Status(status)
	var b strings.Builder
	if err := k.tmpl.ExecuteTemplate(&b, "desk.html", v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(b.String())
}

// conflictLabel names the order a conflict is on by its number when the
// recorded rows carry one.
func conflictLabel(cf backoffice.Conflict) (string, bool) {
	for _, raw := range [][]byte{cf.ServerRow, cf.DeviceRow} {
		var row struct {
			Number *string `json:"number"`
		}
		if len(raw) > 0 && json.Unmarshal(raw, &row) == nil && row.Number != nil {
			return "Order " + *row.Number, true
		}
	}
	return "Draft order " + cf.RowID[:8], false
}

// deskNotices are the messages a successful action redirects to (by code,
// so nothing the request says is echoed back).
var deskNotices = map[string]string{
	"confirmed": "Order confirmed.", "rejected": "Order rejected.", "cancelled": "Order cancelled.",
	"shipped": "Order marked shipped.", "delivered": "Order marked delivered.",
	"resolved": "Conflict resolved; the rep's device gets the outcome at its next sync.",
}

// deskMessage says what went wrong with an action in the coordinator's words.
func deskMessage(label string, err *domain.Error) string {
	switch err.Code {
	case domain.CodeVersionConflict:
		return label + " changed since you opened it (" + err.Message + "). Nothing was changed: look at it again and retry."
	case domain.CodeAlreadyResolved:
		return "That conflict was already resolved by someone else."
	case domain.CodeValidation:
		var parts []string
		for _, f := range err.Fields {
			parts = append(parts, f.Field+" "+f.Message)
		}
		if len(parts) > 0 {
			return label + ": " + strings.Join(parts, "; ") + "."
		}
	}
	return label + ": " + err.Message + "."
}

// fail re-renders the page with the error of an action, or returns an error
// that is not the action's (the server's).
func (k *desk) fail(c *fiber.Ctx, p auth.Principal, csrf, label string, err error, orderID string) error {
	derr := domain.AsError(err)
	if derr == nil || derr.Code == domain.CodeInternal || derr.Code == domain.CodeUnavailable {
		return err
	}
	return k.show(c, p, csrf, httpapi.Status(derr.Code), &deskView{Error: deskMessage(label, derr), OrderID: orderID})
}

func (k *desk) transition(c *fiber.Ctx) error {
	p, csrf, ok, err := k.signedIn(c, true)
	if !ok {
		return err
	}
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	to := strings.Clone(c.FormValue("to"))
	label := "Order " + strings.Clone(c.FormValue("number"))
	in := backoffice.TransitionInput{To: to}
	if v, perr := strconv.ParseInt(c.FormValue("expected_version"), 10, 64); perr == nil {
		in.ExpectedVersion = &v
	}
	if r := strings.TrimSpace(c.FormValue("reason")); r != "" {
		r = strings.Clone(r)
		in.Reason = &r
	}
	if _, err := k.orders.Transition(c.UserContext(), deskCaller(p), id, in); err != nil {
		return k.fail(c, p, csrf, label, err, id)
	}
	return c.Redirect(deskPath+"?order="+id+"&done="+url.QueryEscape(to), fiber.StatusSeeOther)
}

// confirmMany confirms every ticked order of the queue ("id:version" each).
func (k *desk) confirmMany(c *fiber.Ctx) error {
	p, csrf, ok, err := k.signedIn(c, true)
	if !ok {
		return err
	}
	var picked []string
	for _, v := range c.Request().PostArgs().PeekMulti("order") {
		picked = append(picked, string(v))
	}
	if len(picked) == 0 {
		return k.show(c, p, csrf, fiber.StatusUnprocessableEntity, &deskView{Error: "Tick the orders to confirm first."})
	}
	ids := make([]backoffice.VersionedID, 0, len(picked))
	for _, s := range picked {
		id, ver, _ := strings.Cut(s, ":")
		n, perr := strconv.ParseInt(ver, 10, 64)
		if _, ok := httpapi.CanonicalUUID(id); !ok || perr != nil {
			return k.show(c, p, csrf, fiber.StatusBadRequest, &deskView{Error: "The selection was not understood; nothing was confirmed."})
		}
		ids = append(ids, backoffice.VersionedID{ID: id, Version: n})
	}
	results, err := k.orders.TransitionMany(c.UserContext(), deskCaller(p), domain.OrderConfirmed, nil, ids)
	if err != nil {
		return k.fail(c, p, csrf, "Orders", err, "")
	}
	v := deskView{}
	okN := 0
	for _, r := range results {
		if r.Err == nil {
			okN++
			v.Results = append(v.Results, bulkLine{Label: "Order " + deref(r.Order.Number), Message: "confirmed", OK: true})
			continue
		}
		v.Results = append(v.Results, bulkLine{Label: "Order " + r.ID[:8], Message: deskMessage("not confirmed", r.Err)})
	}
	v.Notice = fmt.Sprintf("%d of %d orders confirmed.", okN, len(results))
	return k.show(c, p, csrf, fiber.StatusOK, &v)
}

func (k *desk) resolve(c *fiber.Ctx) error {
	p, csrf, ok, err := k.signedIn(c, true)
	if !ok {
		return err
	}
	id, err := httpapi.ParamUUID(c, "id")
	if err != nil {
		return err
	}
	in := backoffice.ResolveInput{Resolution: strings.Clone(c.FormValue("resolution"))}
	res, err := k.conflicts.Resolve(c.UserContext(), deskCaller(p), id, in)
	if err != nil {
		return k.fail(c, p, csrf, "The conflict", err, "")
	}
	return c.Redirect(deskPath+"?order="+res.Conflict.RowID+"&done=resolved", fiber.StatusSeeOther)
}
