package server

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strings"
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
	dashDevices     = 200
	dashMapPoints   = 2000
)

// dashView is everything page.html shows.
type dashView struct {
	User        auth.User
	CSRF        string
	From, To    string
	TerritoryID string
	Territories []reports.TerritoryRef
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

func (d *dashboard) buildView(c *fiber.Ctx, who domain.Caller, params reports.Params) (dashView, error) {
	ctx := c.UserContext()
	v := dashView{From: reports.Date(params.From).String(), To: reports.Date(params.To).String(), TerritoryID: params.TerritoryID}
	var err error
	if v.User, err = d.s.Auth.User(ctx, who.UserID); err != nil {
		return v, err
	}
	if v.Territories, err = d.reports.ScopeTerritories(ctx, who); err != nil {
		return v, err
	}
	if v.Cov, err = d.reports.Coverage(ctx, who, params); err != nil {
		return v, err
	}
	// A rep row shows the rep's share of shared territories, so it reads like
	// its territory's row (the API carries both: docs/reports.md).
	for i := range v.Cov.Reps {
		r := &v.Cov.Reps[i]
		r.VisitsRequired, r.AttainmentPct = r.VisitsRequiredShare, r.AttainmentSharePct
	}
	if v.Overdue, err = d.reports.Overdue(ctx, who, params, "", dashOverdueRows); err != nil {
		return v, err
	}
	if v.Orders, err = d.reports.Orders(ctx, who, params); err != nil {
		return v, err
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
	// The sales KPIs are those of the month of `to`, read as of `to`.
	kp, err := reports.ParseKPIParams(d.s.DB.Now(), "", reports.Date(params.To).String(), params.TerritoryID)
	if err != nil {
		return v, err
	}
	if v.KPI, err = d.reports.KPIs(ctx, who, kp); err != nil {
		return v, err
	}
	health, err := d.reports.SyncHealth(ctx, who, params, "", dashDevices)
	if err != nil {
		return v, err
	}
	v.Devices = deviceViews(health.Items, d.s.DB.Now())
	if v.VisitPhotos, err = d.s.Attachments.RecentVisits(ctx, who.UserID, dashVisitPhotos); err != nil {
		return v, err
	}
	points, more, err := d.reports.AccountMap(ctx, who, params, dashMapPoints)
	if err != nil {
		return v, err
	}
	v.Map = project(points, more)
	return v, nil
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
