package device_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

// TestUploads_SchemaUpgradeAddsQueue: a device file of schema 3 (before the
// upload queue) opens with its mirror intact and can queue attachments.
func TestUploads_SchemaUpgradeAddsQueue(t *testing.T) {
	w := newWorld(t, device.Options{})
	mustSync(t, w.c)
	if err := w.c.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", w.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`DROP TABLE uploads`, `PRAGMA user_version = 3`} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	c := w.open(t, device.Options{})
	if accs, err := c.Accounts(context.Background()); err != nil || len(accs) != 1 {
		t.Fatalf("mirror after the upgrade: %d accounts, %v", len(accs), err)
	}
	if q, err := c.Uploads(context.Background()); err != nil || len(q) != 0 {
		t.Fatalf("upload queue after the upgrade: %v %v", q, err)
	}
	var v int
	raw, _ = sql.Open("sqlite3", w.path)
	defer raw.Close()
	if err := raw.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 4 {
		t.Fatalf("schema %d %v, want 4", v, err)
	}
}

// TestUploads_DamagedLocalFileFails: a queued file that no longer hashes to
// its row's sha256 is not sent (the server would refuse it every time): the
// upload is failed, listed with checksum_mismatch, and kept until the app
// discards it.
func TestUploads_DamagedLocalFileFails(t *testing.T) {
	ctx := context.Background()
	base, stop := startDemoServer(ctx)
	defer stop()
	dir := t.TempDir()
	path := filepath.Join(dir, "rep.db")
	c, err := device.Open(ctx, path, device.Options{ServerURL: base, Clock: func() time.Time { return demoDay }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Login(ctx, "rep@demo.fieldsync.dev", "demo-rep-pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	visits, _ := c.TodaysVisits(ctx)
	a, err := c.Attach(ctx, device.NewAttachment{ParentTable: domain.TableVisits, ParentID: visits[0].ID,
		Kind: domain.KindSignature, Data: exampleSignature()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(path+".files", a.ID)
	if err := os.WriteFile(f, []byte("not the signature"), 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadAttachments(ctx, nil)
	if err != nil || up.Failed != 1 || up.Uploaded != 0 {
		t.Fatalf("upload of a damaged file: %+v %v", up, err)
	}
	q, _ := c.Uploads(ctx)
	if len(q) != 1 || !q[0].Failed || q[0].Started || domain.ErrorCode(q[0].Err) != "checksum_mismatch" {
		t.Fatalf("queue: %+v", q)
	}
	if up, _ := c.UploadAttachments(ctx, nil); up.Failed != 0 || up.Uploaded != 0 {
		t.Errorf("a failed upload was tried again: %+v", up)
	}
	if err := c.DiscardUpload(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f); !os.IsNotExist(err) {
		t.Errorf("discarded file still there: %v", err)
	}
}
