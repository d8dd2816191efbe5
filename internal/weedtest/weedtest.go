// Package weedtest starts a real S3-compatible server, SeaweedFS, for the
// tests of the S3 blob store: the binary is built from its pinned Go module by
// .ci/run into FIELDSYNC_WEED (or found on PATH as weed). Without it a test
// skips loudly, and fails under CI.
package weedtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fieldsync/fieldsync/blob"
)

// Binary returns the weed binary, or skips (fails under CI) without one.
func Binary(t testing.TB) string {
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

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs `weed server -s3` on loopback ports with a bucket until the test
// ends and returns the store's parameters.
func Start(t testing.TB) blob.S3Config {
	t.Helper()
	bin := Binary(t)
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
		"-master.volumeSizeLimitMB=64", "-volume.max=40") // volumes of 64 MB, made as they fill: room for the 1 GB of the upload load test
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

// URL is cfg as the server's FIELDSYNC_BLOB_URL, under prefix (the
// credentials travel apart, as in production).
func URL(cfg blob.S3Config, prefix string) string {
	return "s3://" + cfg.Bucket + "/" + prefix + "?endpoint=" + url.QueryEscape(cfg.Endpoint) + "&region=" + cfg.Region
}
