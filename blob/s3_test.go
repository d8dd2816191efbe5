package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/blob"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The S3 back end is tested against a real S3-compatible server, SeaweedFS,
// built from its pinned Go module by .ci/run into FIELDSYNC_WEED (or found
// on PATH as weed). Without it the test skips loudly, and fails under CI.
func weedBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("FIELDSYNC_WEED")
	if p == "" {
		p, _ = exec.LookPath("weed")
	}
	if p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "SEAWEEDFS (weed) NOT FOUND: the S3 blob store test did not run; .ci/run builds it (set FIELDSYNC_WEED)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("\n\n#### " + msg + " ####\n")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSeaweed runs `weed server -s3` on loopback ports with a bucket and
// returns the store's URL parameters.
func startSeaweed(t *testing.T) blob.S3Config {
	t.Helper()
	bin := weedBinary(t)
	dir := t.TempDir()
	s3Port, masterPort, volPort, filerPort := freePort(t), freePort(t), freePort(t), freePort(t)
	cfg := filepath.Join(dir, "s3.json")
	const ak, sk = "fieldsync", "fieldsync-secret"
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`{"identities":[{"name":"fs","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, ak, sk)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "server", "-dir="+dir, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		fmt.Sprintf("-master.port=%d", masterPort), fmt.Sprintf("-volume.port=%d", volPort),
		fmt.Sprintf("-filer.port=%d", filerPort), "-s3", fmt.Sprintf("-s3.port=%d", s3Port), "-s3.config="+cfg,
		"-master.volumeSizeLimitMB=64", "-volume.max=4")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", s3Port)
	// Wait for the S3 gateway to answer, then create the bucket (PUT /bucket).
	deadline := time.Now().Add(90 * time.Second)
	mc, err := minio.New(fmt.Sprintf("127.0.0.1:%d", s3Port), &minio.Options{
		Creds: credentials.NewStaticV4(ak, sk, ""), BucketLookup: minio.BucketLookupPath, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		err := mc.MakeBucket(ctx, "attachments", minio.MakeBucketOptions{Region: "us-east-1"})
		if err == nil || minio.ToErrorResponse(err).Code == "BucketAlreadyOwnedByYou" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("seaweedfs did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(300 * time.Millisecond) // polling a child process's start-up, not a test outcome
	}
	return blob.S3Config{Bucket: "attachments", Prefix: "fs", Endpoint: endpoint, Region: "us-east-1",
		Credentials: blob.S3Credentials{AccessKey: ak, SecretKey: sk}}
}

func TestS3_PutOpenRangeDelete(t *testing.T) {
	cfg := startSeaweed(t)
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
