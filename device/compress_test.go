package device_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/device"
)

// TestPush_Compression: the SDK asks for gzip on every request and gzips a
// push body once it is 1 KiB or more; a push of one note goes plain.
func TestPush_Compression(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, device.Options{})
	mustSync(t, w.c)
	if _, err := w.c.AddNote(ctx, w.account, "short"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, w.c)
	for range 20 {
		if _, err := w.c.PlanVisit(ctx, w.account, time.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if rep := mustSync(t, w.c); rep.Applied != 20 {
		t.Fatalf("report %+v", rep)
	}
	pushes := w.f.pushLog()
	if len(pushes) != 2 {
		t.Fatalf("%d pushes, want 2", len(pushes))
	}
	if small, big := pushes[0], pushes[1]; small.gzipped || !big.gzipped || len(big.raw) < 1024 || !small.acceptGzip || !big.acceptGzip {
		t.Errorf("small push: gzipped %v (%d bytes); batch: gzipped %v (%d bytes); Accept-Encoding gzip: %v, %v",
			small.gzipped, len(small.raw), big.gzipped, len(big.raw), small.acceptGzip, big.acceptGzip)
	}
}
