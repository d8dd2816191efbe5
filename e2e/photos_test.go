package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	sdk "github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

// TestVisitPhotos_Browser: the demo rep takes two photos and a signature on a
// visit with the device SDK and uploads them; a third photo is still on the
// phone. The demo manager signs in, sees the visit among the latest visit
// photos and the waiting file in sync health, opens the visit's page (the
// thumbnails load with the session cookie under the page's CSP) and the full
// image. Screenshots at laptop and phone widths go to artifacts/.
func TestVisitPhotos_Browser(t *testing.T) {
	chromium := browserTest(t)
	base := startServer(t)
	visitID := repTakesPhotos(t, base)

	ctx := browserContext(t, chromium)
	signIn(t, ctx, base, demoLogin(t, domain.RoleManager), `[data-testid="visit-photos"]`)
	listed := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="photo-visit"][data-visit-id="`+visitID+`"] img').length`))
	if listed != 2 {
		t.Errorf("the dashboard lists the visit with %d thumbnails, want 2", listed)
	}
	shot(t, ctx, `[data-testid="visit-photos"]`, "dashboard-visit-photos.png", 1366)
	shot(t, ctx, `[data-testid="visit-photos"]`, "dashboard-visit-photos-phone.png", 390)
	shot(t, ctx, `[data-testid="sync-health"]`, "dashboard-files-waiting-phone.png", 390)
	shot(t, ctx, `[data-testid="sync-health"]`, "dashboard-files-waiting.png", 1366)
	waiting := run(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('[data-testid="device-pending-attachments"]')].reduce((n, e) => n + Number(e.dataset.value), 0)`))
	if waiting != 1 {
		t.Errorf("sync health shows %d files waiting, want 1", waiting)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard/visits/"+visitID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="visit-photo-grid"]`)),
		chromedp.Poll[chromedp.Void](`[...document.images].every(i => i.complete)`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatalf("visit page: %v", err)
	}
	loaded := run(t, ctx, chromedp.Evaluate[int](`[...document.images].filter(i => i.naturalWidth > 0).length`))
	if loaded != 3 { // two photos and the signature
		t.Errorf("%d images loaded on the visit page, want 3", loaded)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="visit-file"][data-status="pending"]').length`)); n != 1 {
		t.Errorf("%d files shown as still on the device, want 1", n)
	}
	screenshot(t, ctx, "visit-photos.png", 1366, 900)
	screenshot(t, ctx, "visit-photos-phone.png", 390, 844)
	if overflow := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); overflow > 0 {
		t.Errorf("at 390 px the visit page is %d px wider than the screen", overflow)
	}

	// Opening a photo: the full image, with the same session.
	href := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="visit-photo"] a').getAttribute('href')`))
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+href),
		chromedp.Poll[chromedp.Void](`document.images.length === 1 && document.images[0].complete`, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatalf("full image: %v", err)
	}
	if w := run(t, ctx, chromedp.Evaluate[int](`document.images[0].naturalWidth`)); w != 1200 {
		t.Errorf("full image is %d px wide, want 1200", w)
	}
}

// repTakesPhotos signs the demo rep in on a device, records a visit with two
// photos and a signature, syncs and uploads them, then takes a third photo
// that stays on the device (synced, not uploaded). It returns the visit.
func repTakesPhotos(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	c, err := sdk.Open(ctx, filepath.Join(t.TempDir(), "rep.db"), sdk.Options{ServerURL: base})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep := demoLogin(t, domain.RoleRep)
	if _, err := c.Login(ctx, rep.Email, rep.Password); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	visits, err := c.Visits(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var v domain.Visit
	for _, x := range visits {
		if x.Status == domain.VisitPlanned && x.RepID == c.UserID() {
			v = x
			break
		}
	}
	if v.ID == "" {
		t.Fatal("the demo rep has no planned visit")
	}
	acc, _ := c.Account(ctx, v.AccountID)
	lat, lng := 53.55, 9.99
	if acc.Lat != nil && acc.Lng != nil {
		lat, lng = *acc.Lat, *acc.Lng
	}
	now := time.Now()
	if _, err := c.CheckIn(ctx, v.ID, now.Add(-30*time.Minute), lat, lng); err != nil {
		t.Fatal(err)
	}
	for i, caption := range []string{"Shelf before restocking", "Shelf after restocking"} {
		if _, err := c.Attach(ctx, sdk.NewAttachment{ParentTable: domain.TableVisits, ParentID: v.ID, Kind: domain.KindPhoto,
			Data: shelfPhoto(t, 1-i), Caption: caption, Lat: &lat, Lng: &lng}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Attach(ctx, sdk.NewAttachment{ParentTable: domain.TableVisits, ParentID: v.ID, Kind: domain.KindSignature,
		Data: signature(t)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckOut(ctx, v.ID, now, sdk.OutcomeMerchandising, "Restocked the shelf and set up the winter display."); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if up, err := c.UploadAttachments(ctx, nil); err != nil || up.Uploaded != 3 {
		t.Fatalf("upload: %+v %v", up, err)
	}
	if _, err := c.Attach(ctx, sdk.NewAttachment{ParentTable: domain.TableVisits, ParentID: v.ID, Kind: domain.KindPhoto,
		Data: shelfPhoto(t, 2), Caption: "Display, taken on a bad network"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// shelfPhoto draws a 1200×900 picture of shelves with goods, so screenshots
// look like something a rep would photograph.
func shelfPhoto(t *testing.T, variant int) []byte {
	t.Helper()
	const w, h = 1200, 900
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	palette := []color.RGBA{{214, 69, 69, 255}, {59, 111, 216, 255}, {46, 157, 91, 255}, {227, 160, 8, 255}, {123, 79, 209, 255}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			shade := uint8(200 + 30*math.Sin(float64(x+y)/90))
			img.Set(x, y, color.RGBA{shade, shade - 10, shade - 25, 255})
		}
	}
	for shelf := 0; shelf < 4; shelf++ {
		top := 60 + shelf*210
		for x := 40; x < w-40; x++ { // the board
			for y := top + 170; y < top+185; y++ {
				img.Set(x, y, color.RGBA{120, 85, 50, 255})
			}
		}
		gap := 4 + variant*30*(shelf%2) // "before": gaps on every other shelf
		for x := 50; x+70 < w-40; x += 80 + gap {
			c := palette[(x/80+shelf+variant)%len(palette)]
			hgt := 110 + (x*7+shelf*13)%50
			for yy := top + 170 - hgt; yy < top+170; yy++ {
				for xx := x; xx < x+70; xx++ {
					img.Set(xx, yy, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func signature(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 480, 160))
	for x := 20; x < 460; x++ {
		y := 80 + int(40*math.Sin(float64(x)/25)*math.Cos(float64(x)/70))
		for d := -2; d <= 2; d++ {
			img.Set(x, y+d, color.NRGBA{20, 30, 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// shot saves one element of the page at a viewport width (the dashboard is
// long; its other screenshots are TestDashboard_Browser's).
func shot(t *testing.T, ctx context.Context, sel, name string, w int64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900), chromedp.ScrollIntoView(chromedp.CSS(sel))); err != nil {
		t.Fatalf("scroll to %s: %v", sel, err)
	}
	png := run(t, ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
}
