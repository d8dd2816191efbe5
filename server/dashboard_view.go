package server

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/store"
	"github.com/gofiber/fiber/v2"
)

// Limits of what one dashboard page shows; the API pages through the rest.
const (
	dashOverdueRows = 25
	dashDevices     = 50
	dashMapPoints   = 1000
	// dashRepRows and dashAccountRows page the rep and account lists: a
	// director's scope holds tens of thousands of each (docs/reports.md
	// "Levels and pages").
	dashRepRows     = 50
	dashAccountRows = 50
)

// dashPage is what the dashboard's drill-down reads from the query: the rep
// whose accounts are listed, and the cursors of the pages shown.
type dashPage struct {
	RepID                                       string
	RepCursor, KPICursor, AccCursor, TerrCursor string
}

// dashView is everything page.html shows.
type dashView struct {
	User        auth.User
	CSRF        string
	From, To    string
	Zone        string // the organisation's time zone, which the page's days are days of
	TerritoryID string
	// Crumbs lead from the top of the caller's scope to the territory shown;
	// Q is the period as a query string for the drill-down's links.
	Crumbs      []reports.TerritoryRef
	Q           template.URL
	Page        dashPage
	RepName     string
	Accounts    *reports.AccountList
	Cov         reports.Coverage
	Overdue     reports.OverduePage
	Orders      reports.OrdersReport
	OrderBar    []barSegment
	Devices     []deviceView
	VisitPhotos []store.VisitAttachmentSummary
	Map         mapView
	KPI         reports.KPIs
	// OrdersOutside are the orders of the status table the headline does not
	// count (drafts, cancelled, rejected), so the page can reconcile the two.
	OrdersDraft, OrdersCancelled, OrdersRejected int64
}

func (d *dashboard) buildView(c *fiber.Ctx, who domain.Caller, params reports.Params, pg dashPage) (dashView, error) {
	ctx := c.UserContext()
	v := dashView{From: reports.Date(params.From).String(), To: reports.Date(params.To).String(),
		Zone: d.s.Zone.String(), TerritoryID: params.TerritoryID, Page: pg}
	v.Q = template.URL(url.Values{"from": {v.From}, "to": {v.To}}.Encode()) // dates only: safe
	var err error
	if v.User, err = d.s.Auth.User(ctx, who.UserID); err != nil {
		return v, err
	}
	// One report service for the whole page: on the read replica while one
	// is usable (replica.go), so every panel reads the same database, with
	// the caller's scope and the territory tree loaded once for every panel.
	rs, err := d.reports().ForPage(ctx, who)
	if err != nil {
		return v, err
	}
	if v.Crumbs, err = rs.Breadcrumbs(ctx, who, params.TerritoryID); err != nil {
		return v, err
	}
	// The panels read independent reports: asked at once, the page takes as
	// long as the slowest instead of their sum (each reads its own snapshot,
	// as they did one after the other).
	now := d.s.DB.Now()
	err = parallel(
		func() error {
			var err error
			if v.Cov, err = rs.CoverageLevel(ctx, who, params, reports.Level{Limit: dashRepRows, Cursor: pg.RepCursor,
				TerritoryLimit: dashRepRows, TerritoryCursor: pg.TerrCursor}); err != nil {
				return err
			}
			// A rep row shows the rep's share of shared territories, so it reads like
			// its territory's row (the API carries both: docs/reports.md).
			for i := range v.Cov.Reps {
				r := &v.Cov.Reps[i]
				r.VisitsRequired, r.AttainmentPct = r.VisitsRequiredShare, r.AttainmentSharePct
			}
			// The accounts end the drill-down: a rep's, or those of a
			// territory with no sub-territories.
			if pg.RepID == "" && (params.TerritoryID == "" || len(v.Cov.Territories) > 0) {
				return nil
			}
			al, err := rs.Accounts(ctx, who, params, pg.RepID, pg.AccCursor, dashAccountRows)
			if err != nil {
				return err
			}
			v.Accounts = &al
			if pg.RepID != "" {
				if u, err := d.s.Auth.User(ctx, pg.RepID); err == nil {
					v.RepName = u.Name
				}
			}
			return nil
		},
		func() error {
			var err error
			v.Overdue, err = rs.Overdue(ctx, who, params, "", dashOverdueRows)
			return err
		},
		func() error {
			var err error
			if v.Orders, err = rs.OrdersLevel(ctx, who, params, reports.Level{TerritoryLimit: dashRepRows}); err != nil {
				return err
			}
			v.OrderBar = orderBar(v.Orders)
			for _, st := range v.Orders.ByStatus {
				switch st.Status {
				case "draft":
					v.OrdersDraft = st.Count
				case "cancelled":
					v.OrdersCancelled = st.Count
				case "rejected":
					v.OrdersRejected = st.Count
				}
			}
			return nil
		},
		func() error {
			// The sales KPIs are those of the month of `to`, read as of `to`.
			kp, err := reports.ParseKPIParams(d.s.today(), "", reports.Date(params.To).String(), params.TerritoryID)
			if err != nil {
				return err
			}
			v.KPI, err = rs.KPIsLevel(ctx, who, kp, reports.Level{Limit: dashRepRows, Cursor: pg.KPICursor,
				TerritoryLimit: dashRepRows, TerritoryCursor: pg.TerrCursor})
			return err
		},
		func() error {
			health, err := rs.SyncHealth(ctx, who, params, "", dashDevices)
			if err != nil {
				return err
			}
			v.Devices = deviceViews(health.Items, now)
			return nil
		},
		func() error {
			var err error
			v.VisitPhotos, err = d.s.Attachments.RecentVisits(ctx, who.UserID, dashVisitPhotos)
			return err
		},
		func() error {
			points, more, err := rs.AccountMap(ctx, who, params, dashMapPoints)
			if err != nil {
				return err
			}
			v.Map = project(points, more)
			return nil
		},
	)
	return v, err
}

// parallel runs fns at once and returns the first of their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- orders by status as one stacked bar

type barSegment struct {
	Status string
	X, W   float64
}

func orderBar(o reports.OrdersReport) []barSegment {
	var out []barSegment
	x := 0.0
	for _, s := range o.ByStatus {
		if s.Count == 0 || o.Totals.Count == 0 {
			continue
		}
		w := 1000 * float64(s.Count) / float64(o.Totals.Count)
		out = append(out, barSegment{Status: s.Status, X: x, W: w})
		x += w
	}
	return out
}

// ---- sync health

type deviceView struct {
	reports.DeviceHealth
	PullAge, PushAge string
	Stale            bool // no pull for a day: the phone may be off, broken or offline
}

func deviceViews(ds []reports.DeviceHealth, now time.Time) []deviceView {
	out := make([]deviceView, len(ds))
	for i, d := range ds {
		out[i] = deviceView{DeviceHealth: d, PullAge: age(d.LastPullAt, now), PushAge: age(d.LastPushAt, now),
			Stale: d.LastPullAt == nil || now.Sub(*d.LastPullAt) > 24*time.Hour}
	}
	return out
}

func age(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// ---- the accounts plotted at their coordinates

const mapW, mapH, mapPad = 640.0, 420.0, 16.0

type mapDot struct {
	X, Y  float64
	Level string // ok, overdue, late (over twice the cadence), never
	Title string
}

type mapView struct {
	Dots   []mapDot
	Labels []mapLabel
	More   bool
	Count  int
}

// mapLabel names a territory at the middle of its accounts' dots.
type mapLabel struct {
	X, Y float64
	Name string
}

// project maps lat/lng onto the SVG with an equirectangular projection scaled
// by the cosine of the middle latitude, which keeps a region's shape.
func project(points []reports.MapPoint, more bool) mapView {
	v := mapView{More: more, Count: len(points)}
	if len(points) == 0 {
		return v
	}
	minLat, maxLat, minLng, maxLng := points[0].Lat, points[0].Lat, points[0].Lng, points[0].Lng
	for _, p := range points {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLng, maxLng = math.Min(minLng, p.Lng), math.Max(maxLng, p.Lng)
	}
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	spanX, spanY := math.Max((maxLng-minLng)*k, 0.01), math.Max(maxLat-minLat, 0.01)
	scale := math.Min((mapW-2*mapPad)/spanX, (mapH-2*mapPad)/spanY)
	offX := (mapW - spanX*scale) / 2
	offY := (mapH - spanY*scale) / 2
	type sum struct {
		x, y float64
		n    int
		name string
	}
	centres := map[string]*sum{}
	var order []string
	for _, p := range points {
		d := mapDot{X: round1(offX + (p.Lng-minLng)*k*scale), Y: round1(offY + (maxLat-p.Lat)*scale),
			Level: level(p), Title: dotTitle(p)}
		v.Dots = append(v.Dots, d)
		c := centres[p.TerritoryID]
		if c == nil {
			c = &sum{name: p.TerritoryName}
			centres[p.TerritoryID] = c
			order = append(order, p.TerritoryID)
		}
		c.x, c.y, c.n = c.x+d.X, c.y+d.Y, c.n+1
	}
	for _, id := range order {
		c := centres[id]
		// Above the cloud's middle, kept inside the frame.
		x := math.Min(math.Max(c.x/float64(c.n), 60), mapW-60)
		y := math.Max(c.y/float64(c.n)-22, 14)
		v.Labels = append(v.Labels, mapLabel{X: round1(x), Y: round1(y), Name: c.name})
	}
	return v
}

func level(p reports.MapPoint) string {
	switch r := p.Overdueness(); {
	case r < 0:
		return "never"
	case r <= 1:
		return "ok"
	case r <= 2:
		return "overdue"
	}
	return "late"
}

func dotTitle(p reports.MapPoint) string {
	if p.DaysSince == nil {
		return fmt.Sprintf("%s (class %s): never visited", p.Name, p.Class)
	}
	return fmt.Sprintf("%s (class %s): last visit %d days ago, cadence %d", p.Name, p.Class, *p.DaysSince, p.CadenceDays)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// ---- template helpers

var viewFuncs = template.FuncMap{
	"money": money,
	"bar":   func(pct float64) float64 { return round1(math.Min(math.Max(pct, 0), 100) * 2) },
	"indent": func(depth int) string {
		return strings.Repeat("\u00a0\u00a0", depth)
	},
	"deref": func(p *int) int { return *p },
	"pct": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", *p)
	},
	"pctv": func(p *float64) string { // data-value: JSON, null when undefined
		if p == nil {
			return "null"
		}
		b, _ := json.Marshal(*p)
		return string(b)
	},
	"moneyp": func(p *int64) string {
		if p == nil {
			return "–"
		}
		return money(*p)
	},
	"int64v": func(p *int64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	},
	"dict": dict,
}

// dict builds a map from alternating keys and values, to pass several values to
// a nested template.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

// money formats cents as 12,345.67.
func money(cents int64) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole := fmt.Sprintf("%d", cents/100)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	s := fmt.Sprintf("%s.%02d", b.String(), cents%100)
	if neg {
		return "-" + s
	}
	return s
}
