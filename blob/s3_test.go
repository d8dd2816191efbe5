package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/fieldsync/fieldsync/blob"
	"github.com/fieldsync/fieldsync/internal/weedtest"
)

// The S3 back end is tested against a real S3-compatible server, SeaweedFS
// (internal/weedtest).
func TestS3_PutOpenRangeDelete(t *testing.T) {
	cfg := weedtest.Start(t)
	ctx := context.Background()
	s, err := blob.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
}

func TestDir_PutOpenRangeDelete(t *testing.T) {
	d, err := blob.NewDir(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, d)
}

// testStore runs the same checks on any store.
func testStore(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src, _ := os.Open(f)
	defer src.Close()
	if err := s.Put(ctx, "blobs/ab/abc", src, int64(len(data)), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Exists(ctx, "blobs/ab/abc"); !ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	r, err := s.Open(ctx, "blobs/ab/abc", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(all, data) {
		t.Fatalf("read %d bytes back, want %d equal", len(all), len(data))
	}
	r, err = s.Open(ctx, "blobs/ab/abc", 1_000_003, 17)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(part, data[1_000_003:1_000_020]) {
		t.Fatalf("range = %q", part)
	}
	if err := s.Delete(ctx, "blobs/ab/abc"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Exists(ctx, "blobs/ab/abc"); ok {
		t.Fatal("still there after delete")
	}
	if _, err := s.Open(ctx, "blobs/ab/abc", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
}
