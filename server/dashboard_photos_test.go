package server_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/reports"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestDashboard_VisitPhotos: a manager's dashboard lists the visits with
// photos, a visit's page shows its photos (thumbnails opening the full
// image), its signature and the file still on the device, and the images
// load with the session cookie, not a bearer token. Sync health counts the
// attachments still waiting on each device. A manager of another territory
// gets the visit and its images answered like unknown ones.
func TestDashboard_VisitPhotos(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAttachEnv(t, db, nil)
		visit, p1, p2, sig := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
		img1, img2, sigPNG := photo(t, 1, 200), photo(t, 2, 150), pngBytes(t)
		for _, r := range e.push(e.rep1, upsert("visits", visit, map[string]any{"account_id": e.acc, "planned_at": "2026-11-23T09:00:00Z"}),
			attachmentMut(p1, "visits", visit, "photo", "image/jpeg", img1),
			attachmentMut(p2, "visits", visit, "photo", "image/jpeg", img2),
			attachmentMut(sig, "visits", visit, "signature", "image/png", sigPNG)) {
			if r.Status != wire.StatusApplied {
				t.Fatalf("push: %+v", r)
			}
		}
		for id, data := range map[string][]byte{p1: img1, sig: sigPNG} { // p2 stays on the device
			if resp, b := e.patch(e.rep1, e.mustCreate(e.rep1, id, len(data)), 0, data); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("upload: %d %s", resp.StatusCode, b)
			}
		}
		b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
		if resp, _ := b.signIn(t, "mgr@example.com", attachPassword); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in: %d", resp.StatusCode)
		}
		_, page := b.send(t, "GET", "/dashboard", nil)
		if !strings.Contains(page, `data-visit-id="`+visit+`"`) || !strings.Contains(page, `/dashboard/attachments/`+p1+`/thumbnail`) ||
			strings.Contains(page, p2) {
			t.Errorf("the dashboard does not list the visit with its stored photo only:\n%s", section(page, "visit-photos"))
		}
		// Devices by user name: the manager's (none waiting), rep1's, then
		// rep2's (the manager's region holds T2 too; none waiting).
		waiting := regexp.MustCompile(`data-testid="device-pending-attachments" data-value="(\d+)"`).FindAllStringSubmatch(page, -1)
		if len(waiting) != 3 || waiting[0][1] != "0" || waiting[1][1] != "1" || waiting[2][1] != "0" {
			t.Errorf("files waiting per device: %v, want 0 (mgr), 1 (rep1) and 0 (rep2)", waiting)
		}

		resp, vp := b.send(t, "GET", "/dashboard/visits/"+visit, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("visit page: %d %v", resp.StatusCode, resp.Header)
		}
		for _, want := range []string{
			`data-testid="visit-photo" data-attachment-id="` + p1 + `"`,
			`href="/dashboard/attachments/` + p1 + `/content"`,
			`src="/dashboard/attachments/` + p1 + `/thumbnail"`,
			`data-attachment-id="` + sig + `" data-status="stored"`,
			`data-attachment-id="` + p2 + `" data-status="pending"`,
		} {
			if !strings.Contains(vp, want) {
				t.Errorf("visit page lacks %s", want)
			}
		}
		if strings.Contains(vp, `src="/dashboard/attachments/`+p2) {
			t.Error("the visit page shows an image whose bytes have not arrived")
		}

		// The images: with the session cookie, as the API serves them.
		resp, thumb := b.send(t, "GET", "/dashboard/attachments/"+p1+"/thumbnail", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || len(thumb) == 0 || resp.Header.Get("ETag") == "" {
			t.Fatalf("thumbnail: %d %v", resp.StatusCode, resp.Header)
		}
		resp, full := b.send(t, "GET", "/dashboard/attachments/"+p1+"/content", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("full image: %d %v", resp.StatusCode, resp.Header)
		}
		_, api := e.do("GET", "/v1/attachments/"+p1+"/content", e.mgr, nil)
		if full != string(api) {
			t.Error("the dashboard's image is not the API's")
		}
		// Without the cookie (a bearer token is not what the dashboard uses): 401.
		if resp, _ := e.do("GET", "/dashboard/attachments/"+p1+"/thumbnail", e.mgr, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("image without a session: %d", resp.StatusCode)
		}

		// Out of scope answers like unknown.
		other := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
		other.signIn(t, "mgr2@example.com", attachPassword)
		_, page3 := other.send(t, "GET", "/dashboard", nil)
		if strings.Contains(page3, visit) {
			t.Error("another territory's manager sees the visit listed")
		}
		r1, hidden := other.send(t, "GET", "/dashboard/visits/"+visit, nil)
		r2, unknown := other.send(t, "GET", "/dashboard/visits/"+uuid.NewString(), nil)
		if r1.StatusCode != http.StatusNotFound || hidden != unknown || r2.StatusCode != http.StatusNotFound {
			t.Errorf("out of scope visit: %d %s; unknown: %d %s", r1.StatusCode, hidden, r2.StatusCode, unknown)
		}
		r1, hidden = other.send(t, "GET", "/dashboard/attachments/"+p1+"/thumbnail", nil)
		_, unknown = other.send(t, "GET", "/dashboard/attachments/"+uuid.NewString()+"/thumbnail", nil)
		if r1.StatusCode != http.StatusNotFound || hidden != unknown {
			t.Errorf("out of scope image: %d %s; unknown: %s", r1.StatusCode, hidden, unknown)
		}

		// The API's sync health carries the same count.
		_, body := e.do("GET", "/v1/reports/sync-health", e.mgr, nil)
		var health reports.SyncHealthPage
		if err := json.Unmarshal(body, &health); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range health.Items {
			if d.UserID == e.rep1ID && d.DeviceID == "dev" {
				found = d.PendingAttachments == 1
			}
		}
		if !found {
			t.Errorf("sync health does not count rep1's waiting file: %s", body)
		}
	})
}

// section cuts the part of a page inside data-testid=id, for failure messages.
func section(page, id string) string {
	m := regexp.MustCompile(`(?s)data-testid="` + id + `".*?</section>`).FindString(page)
	if m == "" {
		return page
	}
	return m
}
