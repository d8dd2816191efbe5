package device_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fieldsync/fieldsync/blob"
	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/servetest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/internal/weedtest"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
)

// photoJPEG is a JPEG of noise (it does not compress to nothing), about
// side² bytes.
func photoJPEG(t *testing.T, seed uint64, side int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func signaturePNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 240, 80))
	for x := range 240 {
		img.SetGray(x, 30+x%20, color.Gray{Y: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// attachServer serves the demo organisation on a fresh database of dialect d
// with blobs in a local directory (s3 nil) or in SeaweedFS, behind a cutProxy.
type attachServer struct {
	db    *store.DB
	proxy *cutProxy
}

func startAttachServer(t *testing.T, d store.Dialect, s3 *blob.S3Config) attachServer {
	t.Helper()
	ctx := context.Background()
	db := testdb.Open(t, d)
	if _, err := fixtures.Generate(ctx, db, fixtures.Options{Scale: 1, Seed: 1, Demo: true, Months: 1,
		Now: demoDay, HashCost: bcrypt.MinCost}); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	cfg.UploadDir, cfg.BlobDir = t.TempDir(), t.TempDir()
	if s3 != nil {
		cfg.BlobURL = weedtest.URL(*s3, "fieldsync")
		cfg.BlobAccessKey, cfg.BlobSecretKey = s3.Credentials.AccessKey, s3.Credentials.SecretKey
	}
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := servetest.Start(t, srv)
	return attachServer{db: db, proxy: newCutProxy(t, strings.TrimPrefix(base, "http://"))}
}

// progressLog records UploadProgress calls.
type progressLog struct {
	mu     sync.Mutex
	events map[string][]device.UploadProgress
}

func (p *progressLog) record(u device.UploadProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.events == nil {
		p.events = map[string][]device.UploadProgress{}
	}
	p.events[u.AttachmentID] = append(p.events[u.AttachmentID], u)
}

func changeLogSize(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table("change_log").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAttachments_OfflineVisitPhotosOverCutConnection is issue 16's "done
// when", black box, on both databases and both blob stores: a rep records a
// visit with two photos and a signature offline; the uploads go through a
// connection cut twice mid-upload (the app restarting in between) and once
// corrupted in transit; the manager then sees the three attachments stored
// and downloads them. A corrupted upload and a replayed one change nothing.
func TestAttachments_OfflineVisitPhotosOverCutConnection(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		for _, backend := range []string{"dir", "s3"} {
			t.Run(string(d)+"/"+backend, func(t *testing.T) {
				var s3 *blob.S3Config
				if backend == "s3" {
					cfg := weedtest.Start(t) // a real S3-compatible server (SeaweedFS)
					s3 = &cfg
				}
				offlineVisitPhotos(t, startAttachServer(t, d, s3))
			})
		}
	}
}

func offlineVisitPhotos(t *testing.T, as attachServer) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "rep.db")
	open := func() *device.Client {
		c, err := device.Open(ctx, path, device.Options{ServerURL: as.proxy.url(), UploadChunk: 64 << 10,
			Clock: func() time.Time { return demoDay }})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	rep := open()
	defer func() { rep.Close() }()
	if _, err := rep.Login(ctx, "rep@demo.fieldsync.dev", "demo-rep-pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// Offline: a visit with two photos and a signature.
	today, err := rep.TodaysVisits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var visit domain.Visit
	for _, v := range today {
		if v.Status == domain.VisitPlanned {
			visit = v
			break
		}
	}
	if visit.ID == "" {
		t.Fatal("the demo rep has no planned visit today")
	}
	if _, err := rep.CheckIn(ctx, visit.ID, demoDay.Add(time.Minute), 53.55, 9.99); err != nil {
		t.Fatal(err)
	}
	img1, img2, sig := photoJPEG(t, 1, 500), photoJPEG(t, 2, 300), signaturePNG(t)
	src := filepath.Join(dir, "IMG_0001.jpg")
	if err := os.WriteFile(src, img1, 0o600); err != nil {
		t.Fatal(err)
	}
	lat, lng := 53.5501, 9.9901
	p1, err := rep.Attach(ctx, device.NewAttachment{ParentTable: domain.TableVisits, ParentID: visit.ID,
		Kind: domain.KindPhoto, Path: src, Lat: &lat, Lng: &lng, Caption: "shelf before"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(src); err != nil { // the app's own file may go: the SDK keeps a copy
		t.Fatal(err)
	}
	p2, err := rep.Attach(ctx, device.NewAttachment{ParentTable: domain.TableVisits, ParentID: visit.ID,
		Kind: domain.KindPhoto, ContentType: domain.TypeJPEG, Data: img2, Caption: "shelf after"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rep.Attach(ctx, device.NewAttachment{ParentTable: domain.TableVisits, ParentID: visit.ID,
		Kind: domain.KindSignature, Data: sig})
	if err != nil {
		t.Fatal(err)
	}
	if p1.Status != domain.AttachmentPending || p1.ContentType != domain.TypeJPEG || s.ContentType != domain.TypePNG || p1.Size != int64(len(img1)) {
		t.Fatalf("local rows: %+v %+v", p1, s)
	}
	if _, err := rep.CheckOut(ctx, visit.ID, demoDay.Add(30*time.Minute), device.OutcomeMerchandising, "new display"); err != nil {
		t.Fatal(err)
	}
	ids := []string{p1.ID, p2.ID, s.ID}
	sizes := map[string]int64{p1.ID: int64(len(img1)), p2.ID: int64(len(img2)), s.ID: int64(len(sig))}

	// Before the rows are pushed, no byte goes up: their parents are not on the server.
	var prog progressLog
	up, err := rep.UploadAttachments(ctx, prog.record)
	if err != nil || up.Waiting != 3 || up.Uploaded != 0 {
		t.Fatalf("upload before sync: %+v %v", up, err)
	}
	if _, _, fwd := as.proxy.counts(); fwd == 0 {
		t.Fatal("the proxy saw nothing: the device is not behind it")
	}
	if r, err := rep.Sync(ctx); err != nil || r.Rejected != 0 {
		t.Fatalf("sync: %+v %v", r, err)
	}

	// Cut 1, mid photo 1; the app then restarts (a crash) and resumes.
	total := device.UploadReport{}
	add := func(r device.UploadReport) {
		total.Uploaded += r.Uploaded
		total.Stored += r.Stored
		total.Resumed += r.Resumed
		total.Failed += r.Failed
	}
	as.proxy.armCut(100_000)
	up, err = rep.UploadAttachments(ctx, prog.record)
	add(up)
	t.Logf("cut 1: %+v %v", up, err)
	if !device.IsNetworkError(err) || !device.IsRetryable(err) {
		t.Fatalf("first cut: %v (%+v)", err, up)
	}
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	rep = open()
	queued, err := rep.Uploads(ctx)
	if err != nil || len(queued) != 3 || !queued[0].Started || queued[0].AttachmentID != p1.ID {
		t.Fatalf("queue after the crash: %+v %v", queued, err)
	}

	// Cut 2, after the resumed upload has gone on.
	as.proxy.armCut(60_000)
	up, err = rep.UploadAttachments(ctx, prog.record)
	add(up)
	t.Logf("cut 2: %+v %v", up, err)
	if !device.IsNetworkError(err) || up.Resumed != 1 {
		t.Fatalf("second cut: %v (%+v)", err, up)
	}

	// Bytes damaged in transit (a non-ASCII byte, so never a header, of
	// every read from the device): the server refuses the finished upload
	// (sha256 mismatch) and nothing changes on it.
	logBefore := changeLogSize(t, as.db)
	as.proxy.armFlipEach()
	up, err = rep.UploadAttachments(ctx, prog.record)
	as.proxy.disarmFlip()
	add(up)
	t.Logf("flip: %+v %v", up, err)
	if domain.ErrorCode(err) != "checksum_mismatch" {
		t.Fatalf("corrupted upload: %v (%+v)", err, up)
	}
	if got := changeLogSize(t, as.db); got != logBefore {
		t.Fatalf("a corrupted upload wrote %d changes", got-logBefore)
	}

	// The network is good again.
	up, err = rep.UploadAttachments(ctx, prog.record)
	add(up)
	if err != nil || up.Uploaded != 3 {
		t.Fatalf("final upload: %+v %v", up, err)
	}
	if cuts, flips, _ := as.proxy.counts(); cuts != 2 || flips < 1 || total.Resumed < 2 {
		t.Fatalf("cuts %d, flips %d, resumed %d: want 2, at least 1, at least 2", cuts, flips, total.Resumed)
	}
	if queued, _ := rep.Uploads(ctx); len(queued) != 0 {
		t.Fatalf("uploads still queued: %+v", queued)
	}
	if left, _ := os.ReadDir(path + ".files"); len(left) != 0 {
		t.Fatalf("files kept after the server confirmed them: %d", len(left))
	}
	for _, id := range ids {
		ev := prog.events[id]
		last := ev[len(ev)-1]
		if !last.Done || last.Sent != sizes[id] || last.Size != sizes[id] {
			t.Errorf("progress of %s ends with %+v", id, last)
		}
		for _, e := range ev[:len(ev)-1] {
			if e.Done || e.Sent > e.Size {
				t.Errorf("progress of %s: %+v before the end", id, e)
			}
		}
	}

	// A replayed upload: the server has the bytes, nothing changes.
	token, err := device.FileTokenStore{Path: path + ".token"}.Load()
	if err != nil {
		t.Fatal(err)
	}
	logBefore = changeLogSize(t, as.db)
	req, _ := http.NewRequest(http.MethodPost, as.proxy.url()+"/v1/attachments/uploads", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(len(img1)))
	req.Header.Set("Upload-Metadata", "attachment_id "+base64.StdEncoding.EncodeToString([]byte(p1.ID)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "attachment_stored") {
		t.Fatalf("replayed upload: %d %s", resp.StatusCode, b)
	}
	if got := changeLogSize(t, as.db); got != logBefore {
		t.Fatalf("a replayed upload wrote %d changes", got-logBefore)
	}

	// The manager sees the visit's three attachments, stored, and opens them.
	mgr, err := device.Open(ctx, filepath.Join(dir, "manager.db"), device.Options{ServerURL: as.proxy.url()})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	if _, err := mgr.Login(ctx, "manager@demo.fieldsync.dev", "demo-manager-pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	seen, err := mgr.Attachments(ctx, domain.TableVisits, visit.ID)
	if err != nil || len(seen) != 3 {
		t.Fatalf("manager sees %d attachments (%v)", len(seen), err)
	}
	for _, a := range seen {
		if a.Status != domain.AttachmentStored || a.Size != sizes[a.ID] {
			t.Errorf("manager's row %+v", a)
		}
		r, err := mgr.OpenAttachment(ctx, a.ID, false)
		if err != nil {
			t.Fatalf("open %s: %v", a.ID, err)
		}
		full, _ := io.ReadAll(r)
		r.Close()
		if _, _, err := image.Decode(bytes.NewReader(full)); err != nil {
			t.Errorf("%s does not decode: %v", a.ID, err)
		}
		r, err = mgr.OpenAttachment(ctx, a.ID, true)
		if err != nil {
			t.Fatalf("thumbnail %s: %v", a.ID, err)
		}
		thumb, _ := io.ReadAll(r)
		r.Close()
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err != nil || cfg.Width > 320 || cfg.Height > 320 {
			t.Errorf("thumbnail of %s: %v %+v", a.ID, err, cfg)
		}
	}
}
