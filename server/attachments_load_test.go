package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/blob"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/internal/weedtest"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestAttachments_MemoryFlatUnderLoad uploads 50 files of 10 MB at once
// through the tus lane and reads the process's memory while they run: the
// bodies stream from the connection to the staging file and on to the blob
// store, so the heap must stay far below the 500 MB in flight. It also
// writes the same bytes straight to the same storage (the disk of the blob
// directory, or the S3 server's bucket) for the raw write rate. Heavy (1 GB
// of writes per store): set FIELDSYNC_ATTACH_LOAD=1 to run it
// (docs/benchmarks.md, "Attachment uploads"); the S3 half needs SeaweedFS
// (FIELDSYNC_WEED), as the other S3 tests do.
func TestAttachments_MemoryFlatUnderLoad(t *testing.T) {
	if os.Getenv("FIELDSYNC_ATTACH_LOAD") != "1" {
		t.Skip("set FIELDSYNC_ATTACH_LOAD=1 to upload 50 x 10 MB")
	}
	const files, size = 50, 10 << 20
	// Each store gets fresh databases and a fresh S3 server: the uploads
	// of one run must not find the blobs of another already stored.
	t.Run("local", func(t *testing.T) {
		testdb.Dialects(t, func(t *testing.T, db *store.DB) {
			e := newAttachEnv(t, db, nil)
			uploadLoad(t, e, files, size, func() time.Duration { return rawWrite(t, files, size) })
		})
	})
	t.Run("s3", func(t *testing.T) {
		testdb.Dialects(t, func(t *testing.T, db *store.DB) {
			s3 := weedtest.Start(t)
			e := newAttachEnv(t, db, func(c *server.Config) {
				c.BlobURL = weedtest.URL(s3, "load")
				c.BlobAccessKey, c.BlobSecretKey = s3.Credentials.AccessKey, s3.Credentials.SecretKey
			})
			uploadLoad(t, e, files, size, func() time.Duration { return rawPut(t, s3, files, size) })
		})
	})
}

// uploadLoad runs the 50 concurrent uploads against e, then raw for the
// storage's own write rate of the same bytes, and logs both with the heap.
func uploadLoad(t *testing.T, e *attachEnv, files, size int, raw func() time.Duration) {
	e.client = &http.Client{} // no body recording: the client must stream too
	visits := make([]string, files)
	ids := make([]string, files)
	sums := make([]string, files)
	var muts []map[string]any
	for i := range files {
		if i%20 == 0 {
			visits[i] = uuid.NewString()
			muts = append(muts, upsert("visits", visits[i], map[string]any{"account_id": e.acc, "planned_at": "2026-11-23T09:00:00Z"}))
		} else {
			visits[i] = visits[i-i%20]
		}
		ids[i] = uuid.NewString()
		h := sha256.New()
		io.Copy(h, fakeJPEG(t, uint64(i), size))
		sums[i] = hex.EncodeToString(h.Sum(nil))
		muts = append(muts, upsert("attachments", ids[i], map[string]any{"parent_table": "visits", "parent_id": visits[i],
			"kind": "photo", "content_type": "image/jpeg", "size": size, "sha256": sums[i], "captured_at": "2026-11-23T09:10:00Z"}))
	}
	for _, r := range e.push(e.rep1, muts...) {
		if r.Status != wire.StatusApplied {
			t.Fatalf("push: %+v", r.Error)
		}
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peakHeap.Load() {
					peakHeap.Store(m.HeapInuse)
				}
			}
		}
	}()
	upload := atOnce(t, files, func(i int) error {
		return e.streamUpload(ids[i], fakeJPEG(t, uint64(i), size), size)
	})
	close(stop)
	<-sampled
	if t.Failed() {
		t.FailNow()
	}
	rawTook := raw()
	mb := float64(files*size) / (1 << 20)
	t.Logf("%d x %d MiB: uploads %.1fs (%.0f MiB/s); raw writes of the same bytes %.1fs (%.0f MiB/s); heap in use before %.0f MiB, peak %.0f MiB; peak RSS %s",
		files, size>>20, upload.Seconds(), mb/upload.Seconds(), rawTook.Seconds(), mb/rawTook.Seconds(),
		float64(base.HeapInuse)/(1<<20), float64(peakHeap.Load())/(1<<20), peakRSS())
	if peak := peakHeap.Load(); peak > base.HeapInuse+100<<20 {
		t.Errorf("heap grew by %.0f MiB while %d MiB were uploaded", float64(peak-base.HeapInuse)/(1<<20), files*size>>20)
	}
	if n := pullAttachments(t, e, e.rep1); len(n) != files {
		t.Errorf("%d attachments pulled, want %d", len(n), files)
	}
	for id, st := range pullAttachments(t, e, e.rep1) {
		if st != "stored" {
			t.Errorf("%s is %s", id, st)
		}
	}
}

// rawPut puts files x size bytes of the same noise into the S3 server's
// bucket, files at once, through the blob store's own client, and returns
// how long it took: the raw write rate of that storage.
func rawPut(t *testing.T, cfg blob.S3Config, files, size int) time.Duration {
	ctx := context.Background()
	cfg.Prefix = "raw"
	s, err := blob.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return atOnce(t, files, func(i int) error {
		return s.Put(ctx, strconv.Itoa(i), fakeJPEG(t, uint64(i), size), int64(size), "image/jpeg")
	})
}

// streamUpload creates an upload and sends it in one streamed PATCH.
func (e *attachEnv) streamUpload(id string, body io.Reader, size int) error {
	req, _ := http.NewRequest("POST", e.base+"/v1/attachments/uploads", http.NoBody)
	req.Header.Set("Authorization", "Bearer "+e.rep1)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(size))
	req.Header.Set("Upload-Metadata", "attachment_id "+base64.StdEncoding.EncodeToString([]byte(id)))
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	req, _ = http.NewRequest("PATCH", e.base+loc[strings.Index(loc, "/v1/"):], body)
	req.ContentLength = int64(size)
	req.Header.Set("Authorization", "Bearer "+e.rep1)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	resp, err = e.client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("patch: %d %s", resp.StatusCode, b)
	}
	return nil
}

// fakeJPEG is a reader of size bytes that sniffs and strips as a JPEG: a
// real header up to the start of scan, then seeded noise as scan data.
func fakeJPEG(t *testing.T, seed uint64, size int) io.Reader {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	head := buf.Bytes()[:bytes.Index(buf.Bytes(), []byte{0xFF, 0xDA})+2]
	noise := io.LimitReader(noiseReader{rand.New(rand.NewPCG(seed, 7))}, int64(size-len(head)-2))
	return io.MultiReader(bytes.NewReader(head), noise, bytes.NewReader([]byte{0xFF, 0xD9}))
}

type noiseReader struct{ r *rand.Rand }

func (n noiseReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(n.r.UintN(255)) // never 0xFF: no marker inside the scan
	}
	return len(p), nil
}

// rawWrite writes files x size bytes of the same noise to disk, files at
// once, and returns how long it took.
func rawWrite(t *testing.T, files, size int) time.Duration {
	dir := t.TempDir()
	return atOnce(t, files, func(i int) error {
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(f, fakeJPEG(t, uint64(i), size)); err != nil {
			return err
		}
		return f.Sync()
	})
}

// atOnce runs write(0..n-1) at once, fails the test on any error, and
// returns how long they took together.
func atOnce(t *testing.T, n int, write func(i int) error) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := write(i); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "n/a"
}
