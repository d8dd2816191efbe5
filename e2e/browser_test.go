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
	"github.com/fieldsync/fieldsync/fixtures"
)

func demoManager(t *testing.T) fixtures.Login {
	t.Helper()
	for _, l := range fixtures.DemoLogins() {
		if l.Role == domain.RoleManager {
			return l
		}
	}
	t.Fatal("no demo manager login")
	return fixtures.Login{}
}

// TestDashboard_Browser signs in through the login form as the demo manager,
// reads the figures the dashboard shows and compares them with the coverage
// API for the same user and period, then saves screenshots (laptop and tablet
// widths) to artifacts/.
func TestDashboard_Browser(t *testing.T) {
	if os.Getenv("FIELDSYNC_E2E") != "1" {
		t.Skip("browser test: set FIELDSYNC_E2E=1 (CI does) with Debian's chromium installed")
	}
	chromium, err := chromiumPath()
	if err != nil {
		t.Fatalf("FIELDSYNC_E2E=1 but %v", err)
	}
	base := startServer(t)
	ctx := browserContext(t, chromium)
	login := demoManager(t)

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), login.Email),
		chromedp.SendKeys(chromedp.ID("password"), login.Password),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="totals"]`)),
	)
	if err != nil {
		t.Fatalf("sign in through the form: %v", err)
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
	screenshot(t, ctx, "dashboard.png", 1280, 900)
	screenshot(t, ctx, "dashboard-tablet.png", 768, 1024)
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
