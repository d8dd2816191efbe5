package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/servetest"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// chromiumPath finds the browser: FIELDSYNC_CHROMIUM, else Debian's chromium.
func chromiumPath() (string, error) {
	if p := os.Getenv("FIELDSYNC_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH (apt-get install chromium, or set FIELDSYNC_CHROMIUM)")
}

// browserTest skips a browser test unless FIELDSYNC_E2E=1 (CI sets it), and
// then fails it without a Chromium to drive; it returns the Chromium.
func browserTest(t *testing.T) string {
	t.Helper()
	if os.Getenv("FIELDSYNC_E2E") != "1" {
		t.Skip("browser test: set FIELDSYNC_E2E=1 (CI does) with Debian's chromium installed")
	}
	chromium, err := chromiumPath()
	if err != nil {
		t.Fatalf("FIELDSYNC_E2E=1 but %v", err)
	}
	return chromium
}

// signIn signs l in through the dashboard's login form and waits for the
// element (a CSS selector) of the page it lands on.
func signIn(t *testing.T, ctx context.Context, base string, l fixtures.Login, landed string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), l.Email),
		chromedp.SendKeys(chromedp.ID("password"), l.Password),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.CSS(landed)),
	)
	if err != nil {
		t.Fatalf("sign in as the demo %s through the form: %v", l.Role, err)
	}
}

// startServer serves the demo organisation on a SQLite file at a random
// loopback port and returns its base URL.
// e2eZone is the organisation's time zone of the browser tests.
const e2eZone = "Europe/Berlin"

func startServer(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "e2e.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.Generate(ctx, db, fixtures.Options{Demo: true, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	// Days of a zone other than UTC, so that the page and the API are compared
	// on local days and the page names the zone (e2eZone).
	cfg := server.DefaultConfig()
	cfg.TimeZone = e2eZone
	// Attachment bytes stay in the test's directories, not the package's.
	cfg.UploadDir, cfg.BlobDir = t.TempDir(), t.TempDir()
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = db.Close() }) // after the server stops
	return servetest.Start(t, srv)
}

// browserContext starts a fresh headless Chromium with no network chatter of
// its own (no component updates, sync or QUIC probes) and a throwaway profile.
func browserContext(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// apiCoverage fetches the coverage report for the same user and period
// through the API, with a device token, one level of the tree as the
// dashboard shows it.
func apiCoverage(t *testing.T, base, email, password, from, to string) reports.Coverage {
	t.Helper()
	var cov reports.Coverage
	apiGet(t, base, email, password, "/v1/reports/coverage?depth=1&from="+from+"&to="+to, &cov)
	return cov
}

// apiGet signs in through the API with a device token and reads path into out.
func apiGet(t *testing.T, base, email, password, path string, out any) {
	t.Helper()
	body, _ := json.Marshal(wire.LoginRequest{Email: email, Password: password, DeviceID: "e2e-api"})
	client := apitest.Client(t) // every exchange checked against /openapi.json
	resp, err := client.Post(base+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login wire.LoginResponse
	err = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("API login: %d %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, out) != nil {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FIELDSYNC_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
