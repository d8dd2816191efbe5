package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/reports"
)

// TestDashboard_Browser signs in through the login form as the demo manager,
// reads the figures the dashboard shows and compares them with the coverage
// API for the same user and period, then saves screenshots (laptop and tablet
// widths) to artifacts/.
func TestDashboard_Browser(t *testing.T) {
	chromium := browserTest(t)
	base := startServer(t)
	ctx := browserContext(t, chromium)
	login := demoLogin(t, domain.RoleManager)
	signIn(t, ctx, base, login, `[data-testid="totals"]`)
	if z := strings.TrimSpace(run(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid="time-zone"]`)))); z != "Days in "+e2eZone {
		t.Errorf("the page names the zone of its days as %q, want %q", z, "Days in "+e2eZone)
	}
	from := run(t, ctx, chromedp.Value(chromedp.CSS(`input[name="from"]`)))
	to := run(t, ctx, chromedp.Value(chromedp.CSS(`input[name="to"]`)))
	cov := apiCoverage(t, base, login.Email, login.Password, from, to)
	if cov.Totals.Accounts == 0 {
		t.Fatal("the demo manager's coverage is empty")
	}

	want := map[string]any{
		"total-accounts":         cov.Totals.Accounts,
		"total-accounts-visited": cov.Totals.AccountsVisited,
		"total-coverage-pct":     cov.Totals.CoveragePct,
		"total-visits-completed": cov.Totals.VisitsCompleted,
		"total-visits-required":  cov.Totals.VisitsRequired,
		"total-attainment-pct":   cov.Totals.AttainmentPct,
		"total-overdue-accounts": cov.Totals.OverdueAccounts,
		"total-orders":           cov.Totals.Orders,
		"total-revenue-cents":    cov.Totals.RevenueCents,
	}
	for id, w := range want {
		sel := chromedp.CSS(`[data-testid="` + id + `"]`)
		attr := run(t, ctx, chromedp.AttributeValue(sel, "data-value"))
		wj, _ := json.Marshal(w)
		if !attr.Exists || attr.Value != string(wj) {
			t.Errorf("%s: page says %q, API says %s", id, attr.Value, wj)
		}
		if strings.TrimSpace(run(t, ctx, chromedp.Text(sel))) == "" {
			t.Errorf("%s: shown empty", id)
		}
	}
	if got, want := run(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid="total-coverage-pct"]`))), formatPct(cov.Totals.CoveragePct); got != want {
		t.Errorf("coverage shown as %q, want %q", got, want)
	}
	territoryRows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="territory-row"]').length`))
	repRows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="rep-row"]').length`))
	if territoryRows != len(cov.Territories) || repRows != len(cov.Reps) {
		t.Errorf("bars: %d territories and %d reps shown, API has %d and %d",
			territoryRows, repRows, len(cov.Territories), len(cov.Reps))
	}
	// The sales KPIs: those of the month of `to`, as of `to`, as the API gives them.
	var kpi reports.KPIs
	apiGet(t, base, login.Email, login.Password, "/v1/reports/kpis?depth=1&as_of="+to, &kpi)
	jsonOf := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for id, w := range map[string]string{
		"kpi-revenue-cents":                  jsonOf(kpi.Totals.RevenueCents),
		"kpi-target-cents":                   jsonOf(kpi.Totals.TargetCents),
		"kpi-attainment-pct":                 jsonOf(kpi.Totals.AttainmentPct),
		"kpi-forecast-cents":                 jsonOf(kpi.Totals.ForecastCents),
		"kpi-growth-pct":                     jsonOf(kpi.Totals.GrowthPct),
		"kpi-year-over-year-pct":             jsonOf(kpi.Totals.YearOverYearPct),
		"kpi-average-order-cents":            jsonOf(kpi.Totals.AverageOrderCents),
		"kpi-revenue-per-account-cents":      jsonOf(kpi.Totals.RevenuePerAccountCents),
		"kpi-conversion-pct":                 jsonOf(kpi.Totals.ConversionPct),
		"kpi-new-accounts":                   jsonOf(kpi.Totals.NewAccounts),
		"kpi-lost-accounts":                  jsonOf(kpi.Totals.LostAccounts),
		"kpi-visits-per-rep-per-working-day": jsonOf(kpi.Totals.VisitsPerRepPerWorkingDay),
	} {
		attr := run(t, ctx, chromedp.AttributeValue(chromedp.CSS(`[data-testid="`+id+`"]`), "data-value"))
		if !attr.Exists || attr.Value != w {
			t.Errorf("%s: page says %q, API says %s", id, attr.Value, w)
		}
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="kpi-territory-row"]').length`)); n != len(kpi.Territories) {
		t.Errorf("%d KPI territory rows shown, API has %d", n, len(kpi.Territories))
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="map-label"]').length`)); n == 0 {
		t.Error("the account map has no territory labels")
	}
	screenshot(t, ctx, "dashboard.png", 1366, 900)
	screenshot(t, ctx, "dashboard-phone.png", 390, 844)
	// At phone width the page never scrolls sideways, and every cell of the
	// overdue list lies inside the viewport.
	overflow := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if overflow > 0 {
		t.Errorf("at 390 px the page is %d px wider than the screen", overflow)
	}
	outside := run(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('[data-testid="overdue-list"] td')].filter(td => { const r = td.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > document.documentElement.clientWidth + 0.5; }).length`))
	cells := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="overdue-list"] td').length`))
	if cells == 0 || outside > 0 {
		t.Errorf("at 390 px %d of %d overdue cells are cut off or hidden", outside, cells)
	}
	drillDown(t, ctx)
}

// drillDown follows the dashboard's links one level at a time (docs/reports.md
// "Levels and pages"): a territory row, then a sub-territory if it has one,
// then a rep, whose accounts are listed; a screenshot of the last page at
// laptop and phone widths, the phone one without sideways scrolling.
func drillDown(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
		t.Fatal(err)
	}
	count := func(sel string) int {
		return run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+sel+`').length`))
	}
	for depth := 0; depth < 2 && count(`[data-testid="territory-link"]`) > 0; depth++ {
		name := strings.TrimSpace(run(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid="territory-link"]`))))
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="territory-link"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="crumbs"]`))); err != nil {
			t.Fatalf("drill into %s: %v", name, err)
		}
		crumbs := run(t, ctx, chromedp.Text(chromedp.CSS(`[data-testid="crumbs"]`)))
		if !strings.Contains(crumbs, name) {
			t.Fatalf("after drilling into %s the breadcrumbs read %q", name, crumbs)
		}
	}
	if count(`[data-testid="rep-link"]`) == 0 {
		t.Fatal("the drill-down shows no rep")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="rep-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="account-list"]`))); err != nil {
		t.Fatalf("a rep's accounts: %v", err)
	}
	if n := count(`[data-testid="account-row"]`); n == 0 || n > 50 {
		t.Errorf("a rep's accounts: %d rows, want 1 to 50 (one page)", n)
	}
	screenshot(t, ctx, "dashboard-drill.png", 1366, 900)
	screenshot(t, ctx, "dashboard-drill-phone.png", 390, 844)
	if o := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); o > 0 {
		t.Errorf("drill-down at 390 px: the page is %d px wider than the screen", o)
	}
}

func formatPct(f float64) string {
	b, _ := json.Marshal(f)
	return string(b) + "%"
}

// screenshot saves the whole page at a viewport width as a test artifact.
func screenshot(t *testing.T, ctx context.Context, name string, w, h int64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatalf("viewport %dx%d: %v", w, h, err)
	}
	png := run(t, ctx, chromedp.FullScreenshot(100))
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
}

// run runs one action that returns a value, failing the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}
