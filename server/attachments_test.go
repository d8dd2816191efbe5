package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/servetest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// attachEnv is the "two-regions" named fixture (fixtures.TwoRegions) served:
// rep1 works T1 (account acc), which its manager sees; rep2 works T2 and
// cannot see acc, nor can mgr2, the manager of the other region.
type attachEnv struct {
	t                *testing.T
	db               *store.DB
	base             string
	client           *http.Client
	acc              string
	rep1, rep2, mgr  string // tokens
	rep1ID, blobsDir string
	srv              *server.Server
}

const attachPassword = "attach password"

func newAttachEnv(t *testing.T, db *store.DB, mutate func(*server.Config)) *attachEnv {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	cfg.UploadDir, cfg.BlobDir = t.TempDir(), t.TempDir()
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f, err := fixtures.NewTwoRegions(context.Background(), db, fixtures.NamedOptions{Password: attachPassword})
	if err != nil {
		t.Fatal(err)
	}
	e := &attachEnv{t: t, db: db, client: apitest.Client(t), acc: f.A1, rep1ID: f.Rep1, blobsDir: cfg.BlobDir, srv: srv}
	e.base = servetest.Start(t, srv)
	e.rep1, e.rep2, e.mgr = e.login("rep1@example.com"), e.login("rep2@example.com"), e.login("mgr@example.com")
	return e
}

func (e *attachEnv) do(method, path, token string, body []byte, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *attachEnv) login(email string) string {
	e.t.Helper()
	body, _ := json.Marshal(wire.LoginRequest{Email: email, Password: attachPassword, DeviceID: "dev"})
	resp, b := e.do("POST", "/v1/auth/login", "", body, "Content-Type", "application/json")
	if resp.StatusCode != 200 {
		e.t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	var lr wire.LoginResponse
	_ = json.Unmarshal(b, &lr)
	return lr.Token
}

func (e *attachEnv) push(token string, muts ...map[string]any) []wire.MutationResult {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"device_id": "dev", "mutations": muts})
	resp, b := e.do("POST", "/v1/sync/push", token, body, "Content-Type", "application/json")
	if resp.StatusCode != 200 {
		e.t.Fatalf("push: %d %s", resp.StatusCode, b)
	}
	var pr wire.PushResponse
	if err := json.Unmarshal(b, &pr); err != nil {
		e.t.Fatal(err)
	}
	return pr.Results
}

func upsert(table, id string, row map[string]any) map[string]any {
	return map[string]any{"mutation_id": uuid.NewString(), "table": table, "op": "upsert", "id": id, "base_version": 0, "row": row}
}

func attachmentMut(id, parentTable, parent, kind, contentType string, data []byte) map[string]any {
	sum := sha256.Sum256(data)
	return upsert("attachments", id, map[string]any{"parent_table": parentTable, "parent_id": parent, "kind": kind,
		"content_type": contentType, "size": len(data), "sha256": hex.EncodeToString(sum[:]),
		"captured_at": "2026-11-23T09:10:00Z", "captured_lat": 52.5, "captured_lng": 13.4})
}

// create starts a tus upload for attachment id and returns its path.
func (e *attachEnv) create(token, id string, size int) (*http.Response, []byte) {
	e.t.Helper()
	return e.do("POST", "/v1/attachments/uploads", token, nil, "Tus-Resumable", "1.0.0",
		"Upload-Length", strconv.Itoa(size), "Upload-Metadata", "attachment_id "+base64.StdEncoding.EncodeToString([]byte(id)))
}

func (e *attachEnv) mustCreate(token, id string, size int) string {
	e.t.Helper()
	resp, b := e.create(token, id, size)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create upload: %d %s", resp.StatusCode, b)
	}
	loc := resp.Header.Get("Location")
	return loc[strings.Index(loc, "/v1/"):]
}

func (e *attachEnv) offset(token, path string) int {
	e.t.Helper()
	resp, _ := e.do("HEAD", path, token, nil, "Tus-Resumable", "1.0.0")
	if resp.StatusCode != 200 {
		e.t.Fatalf("HEAD %s: %d", path, resp.StatusCode)
	}
	n, err := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	if err != nil {
		e.t.Fatalf("Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return n
}

func (e *attachEnv) patch(token, path string, off int, chunk []byte) (*http.Response, []byte) {
	e.t.Helper()
	return e.do("PATCH", path, token, chunk, "Tus-Resumable", "1.0.0", "Upload-Offset", strconv.Itoa(off),
		"Content-Type", "application/offset+octet-stream")
}

// cutPatch sends a PATCH declaring the whole rest of the file, writes only
// chunk, and drops the connection: a phone losing its network mid-upload.
func (e *attachEnv) cutPatch(token, path string, off, rest int, chunk []byte) {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PATCH %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Upload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n", path, token, off, rest)
	w.Write(chunk)
	if err := w.Flush(); err != nil {
		e.t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite() // the server reads chunk, then the end of the stream
	io.Copy(io.Discard, conn)        // whatever the server answers to a cut body
	conn.Close()
}

// photo is a JPEG of noise (so it does not compress to nothing) with an EXIF
// block holding an orientation and a description that must not be stored.
func photo(t *testing.T, seed uint64, side int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	desc := "SECRET-HOME-ADDRESS\x00"
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 2,
		0x01, 0x0E, 0, 2, 0, 0, 0, byte(len(desc)), 0, 0, 0, 38, // ImageDescription at 38
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation 6
		0, 0, 0, 0}
	tiff = append(tiff, desc...)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	app1 := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	out := append([]byte{0xFF, 0xD8}, app1...)
	return append(out, b[2:]...)
}

func TestAttachments_UploadCutTwiceResumesAndDownloads(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAttachEnv(t, db, nil)
		visit, p1, p2, sig := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
		img1, img2 := photo(t, 1, 400), photo(t, 2, 300)
		sigPNG := pngBytes(t)
		res := e.push(e.rep1, upsert("visits", visit, map[string]any{"account_id": e.acc, "planned_at": "2026-11-23T09:00:00Z"}),
			attachmentMut(p1, "visits", visit, "photo", "image/jpeg", img1),
			attachmentMut(p2, "visits", visit, "photo", "image/jpeg", img2),
			attachmentMut(sig, "visits", visit, "signature", "image/png", sigPNG))
		for _, r := range res {
			if r.Status != wire.StatusApplied {
				t.Fatalf("push: %+v %+v", r, r.Error)
			}
		}

		// Photo 1: the connection is cut twice; each time the upload goes on
		// from the offset the server reports.
		path := e.mustCreate(e.rep1, p1, len(img1))
		third := len(img1) / 3
		if o := e.offset(e.rep1, path); o != 0 {
			t.Fatalf("fresh upload offset %d", o)
		}
		e.cutPatch(e.rep1, path, 0, len(img1), img1[:third])
		off1 := e.offset(e.rep1, path)
		if off1 != third {
			t.Fatalf("after the first cut the server has %d bytes, want %d", off1, third)
		}
		e.cutPatch(e.rep1, path, off1, len(img1)-off1, img1[off1:off1+third])
		off2 := e.offset(e.rep1, path)
		if off2 != 2*third {
			t.Fatalf("after the second cut the server has %d bytes, want %d", off2, 2*third)
		}
		if resp, b := e.patch(e.rep1, path, off2, img1[off2:]); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("last PATCH: %d %s", resp.StatusCode, b)
		}
		if got := e.offset(e.rep1, path); got != len(img1) {
			t.Errorf("finished upload reports offset %d, want %d", got, len(img1))
		}

		// A corrupted upload of photo 2 is refused and discarded; the row stays pending.
		bad := append([]byte(nil), img2...)
		bad[len(bad)/2] ^= 0xFF
		path2 := e.mustCreate(e.rep1, p2, len(img2))
		resp, b := e.patch(e.rep1, path2, 0, bad)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"checksum_mismatch"`) {
			t.Fatalf("corrupted upload: %d %s", resp.StatusCode, b)
		}
		if resp, _ := e.do("HEAD", path2, e.rep1, nil, "Tus-Resumable", "1.0.0"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a refused upload is still there: HEAD %d", resp.StatusCode)
		}
		if resp, _ := e.do("GET", "/v1/attachments/"+p2+"/content", e.mgr, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("pending attachment downloadable: %d", resp.StatusCode)
		}
		path2 = e.mustCreate(e.rep1, p2, len(img2))
		if resp, b := e.patch(e.rep1, path2, 0, img2); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("photo 2: %d %s", resp.StatusCode, b)
		}
		path3 := e.mustCreate(e.rep1, sig, len(sigPNG))
		if resp, b := e.patch(e.rep1, path3, 0, sigPNG); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("signature: %d %s", resp.StatusCode, b)
		}

		// A replayed upload changes nothing.
		logBefore := countRows(t, db, "change_log")
		if resp, b := e.create(e.rep1, p1, len(img1)); resp.StatusCode != http.StatusConflict || !strings.Contains(string(b), "attachment_stored") {
			t.Errorf("replayed upload: %d %s", resp.StatusCode, b)
		}
		if countRows(t, db, "change_log") != logBefore {
			t.Error("a replayed upload wrote to the change log")
		}

		// The manager sees the three rows stored, and downloads them.
		stored := pullAttachments(t, e, e.mgr)
		for _, id := range []string{p1, p2, sig} {
			if stored[id] != "stored" {
				t.Errorf("attachment %s is %q for the manager, want stored", id, stored[id])
			}
		}
		resp, full := e.do("GET", "/v1/attachments/"+p1+"/content", e.mgr, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("ETag") == "" ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
			t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
		}
		if bytes.Contains(full, []byte("SECRET-HOME-ADDRESS")) || len(full) >= len(img1) {
			t.Error("the stored photo still carries its EXIF description")
		}
		if _, err := jpeg.Decode(bytes.NewReader(full)); err != nil {
			t.Errorf("stored photo does not decode: %v", err)
		}
		if !bytes.Contains(full, []byte("Exif\x00\x00MM")) {
			t.Error("the orientation was not kept")
		}
		resp, part := e.do("GET", "/v1/attachments/"+p1+"/content", e.mgr, nil, "Range", "bytes=100-199")
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, full[100:200]) ||
			resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(full)) {
			t.Errorf("range: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(part))
		}
		if resp, _ := e.do("GET", "/v1/attachments/"+p1+"/content", e.mgr, nil, "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", resp.StatusCode)
		}
		resp, thumb := e.do("GET", "/v1/attachments/"+p1+"/thumbnail", e.mgr, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("thumbnail: %d %s", resp.StatusCode, thumb)
		}
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err != nil || cfg.Width > 320 || cfg.Height > 320 {
			t.Errorf("thumbnail %v: %+v", err, cfg)
		}

		// Out of scope answers like unknown.
		_, unknown := e.do("GET", "/v1/attachments/"+uuid.NewString()+"/content", e.rep2, nil)
		resp, hidden := e.do("GET", "/v1/attachments/"+p1+"/content", e.rep2, nil)
		if resp.StatusCode != http.StatusNotFound || string(hidden) != string(unknown) {
			t.Errorf("out of scope: %d %s, unknown: %s", resp.StatusCode, hidden, unknown)
		}
		if resp, _ := e.do("HEAD", path, e.rep2, nil, "Tus-Resumable", "1.0.0"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another user's upload: HEAD %d", resp.StatusCode)
		}

		// The same bytes again, on another attachment: stored at once, once.
		again := uuid.NewString()
		r := e.push(e.rep1, attachmentMut(again, "visits", visit, "photo", "image/jpeg", img1))[0]
		if r.Status != wire.StatusApplied || !strings.Contains(string(r.Row)+string(r.Fields), `"status":"stored"`) {
			t.Errorf("same bytes again: %+v %s", r, r.Row)
		}
		e.checkCompaction(visit, p2, img1, img2)
	})
}

// checkCompaction: the blob of a deleted attachment goes after the
// retention, a blob still named stays, an abandoned upload expires.
func (e *attachEnv) checkCompaction(visit, p2 string, kept, dropped []byte) {
	t := e.t
	del := map[string]any{"mutation_id": uuid.NewString(), "table": "attachments", "op": "delete", "id": p2, "base_version": 2}
	if r := e.push(e.rep1, del)[0]; r.Status != wire.StatusApplied {
		t.Fatalf("delete: %+v", r.Error)
	}
	ctx := context.Background()
	if n, err := e.srv.Attachments.CompactBlobs(ctx, e.db.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("compaction within the retention removed %d (%v)", n, err)
	}
	if n, err := e.srv.Attachments.CompactBlobs(ctx, e.db.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("compaction past the retention removed %d (%v), want 1", n, err)
	}
	if blobFile(e.blobsDir, dropped) {
		t.Error("the deleted attachment's blob is still stored")
	}
	if !blobFile(e.blobsDir, kept) {
		t.Error("a blob still named by attachments was removed")
	}
	half := uuid.NewString()
	e.push(e.rep1, attachmentMut(half, "visits", visit, "photo", "image/jpeg", dropped))
	path := e.mustCreate(e.rep1, half, len(dropped))
	e.patch(e.rep1, path, 0, nil)
	if n, err := e.srv.Attachments.ExpireUploads(ctx, e.db.Now().Add(time.Hour)); err != nil || n < 1 {
		t.Errorf("expired %d uploads (%v)", n, err)
	}
	if resp, _ := e.do("HEAD", path, e.rep1, nil, "Tus-Resumable", "1.0.0"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an expired upload answers HEAD %d", resp.StatusCode)
	}
}

func blobFile(dir string, data []byte) bool {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	_, err := os.Stat(filepath.Join(dir, "blobs", h[:2], h))
	return err == nil
}

func pullAttachments(t *testing.T, e *attachEnv, token string) map[string]string {
	t.Helper()
	out := map[string]string{}
	cursor := ""
	for range 100 {
		_, b := e.do("GET", "/v1/sync/pull?limit=500&cursor="+cursor, token, nil)
		var pr wire.PullResponse
		if err := json.Unmarshal(b, &pr); err != nil {
			t.Fatal(err)
		}
		for _, c := range pr.Changes {
			if c.Table != "attachments" || c.Op != "upsert" {
				continue
			}
			var row struct{ Status string }
			_ = json.Unmarshal(c.Row, &row)
			out[c.ID] = row.Status
		}
		cursor = pr.Cursor
		if !pr.HasMore {
			return out
		}
	}
	t.Fatal("pull never finished")
	return nil
}

func countRows(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 120, 40))
	for x := range 120 {
		img.SetGray(x, 20+x%10, color.Gray{Y: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAttachments_UploaderSendsAfterScopeLoss: a rep pushes a photo's row,
// then the account moves to another territory before the bytes go up. The
// bytes are still the uploader's to send (docs/protocol.md §11), so the photo
// is not lost; reading it then follows the scope: the rep who lost the account
// gets 404, the rep who gained it gets the bytes.
func TestAttachments_UploaderSendsAfterScopeLoss(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAttachEnv(t, db, nil)
		img := pngBytes(t)
		visit, att := uuid.NewString(), uuid.NewString()
		for _, r := range e.push(e.rep1,
			upsert("visits", visit, map[string]any{"account_id": e.acc, "planned_at": "2026-11-23T09:00:00Z"}),
			attachmentMut(att, "visits", visit, "photo", "image/png", img)) {
			if r.Status != wire.StatusApplied {
				t.Fatalf("push: %+v", r.Error)
			}
		}
		var ids []string
		if err := db.Gorm.Table("territories").Where("name = ?", "T2").Pluck("id", &ids).Error; err != nil || len(ids) != 1 {
			t.Fatalf("territory T2: %q %v", ids, err)
		}
		t2 := ids[0]
		ops := e.login("ops@example.com")
		if resp, b := e.do("PATCH", "/v1/admin/accounts/"+e.acc, ops, []byte(`{"territory_id":"`+t2+`","owner_id":null}`),
			"Content-Type", "application/json"); resp.StatusCode != 200 {
			t.Fatalf("move the account: %d %s", resp.StatusCode, b)
		}

		path := e.mustCreate(e.rep1, att, len(img))
		if resp, b := e.patch(e.rep1, path, 0, img); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("upload after the move: %d %s", resp.StatusCode, b)
		}
		if resp, _ := e.do("GET", "/v1/attachments/"+att+"/content", e.rep1, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the rep who lost the account downloads: %d, want 404", resp.StatusCode)
		}
		resp, b := e.do("GET", "/v1/attachments/"+att+"/content", e.rep2, nil)
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Errorf("the rep who gained the account downloads: %d, %d bytes", resp.StatusCode, len(b))
		}
	})
}
