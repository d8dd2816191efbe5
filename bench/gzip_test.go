package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/klauspost/compress/gzip"
)

// BenchmarkGzipLevel_PullPage compresses pull pages of 1,000 rows of the bench
// scope at each gzip level: how the server's level was chosen
// (docs/benchmarks.md, "Bytes on the wire"). Reports the compressed size as a
// percentage of the plain page and the plain MB/s one core compresses.
func BenchmarkGzipLevel_PullPage(b *testing.B) {
	ctx := context.Background()
	db := testdb.Open(b, store.SQLite)
	s, err := seed(ctx, db, Dataset{Accounts: 500, Visits: 10000, Orders: 3000, Notes: 5000}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	var rep struct{ ID string }
	db.Gorm.Table("users").Select("id").Where("email = ?", s.RepEmail).Take(&rep)
	eng := engine.New(db, engine.Config{}, nil, nil)
	a := domain.Caller{UserID: rep.ID, Role: domain.RoleRep, DeviceID: "bench"}
	var pages [][]byte
	plain := 0
	for cursor := ""; ; {
		resp, err := eng.Pull(ctx, a, cursor, 1000)
		if err != nil {
			b.Fatal(err)
		}
		page := resp.AppendJSON(nil)
		pages, plain, cursor = append(pages, page), plain+len(page), resp.Cursor
		if !resp.HasMore {
			break
		}
	}
	for _, level := range []int{gzip.BestSpeed, 2, 4, gzip.DefaultCompression, gzip.BestCompression} {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, level)
			zipped := 0
			b.SetBytes(int64(plain))
			for b.Loop() {
				zipped = 0
				for _, p := range pages {
					buf.Reset()
					zw.Reset(&buf)
					_, _ = zw.Write(p)
					_ = zw.Close()
					zipped += buf.Len()
				}
			}
			b.ReportMetric(100*float64(zipped)/float64(plain), "%size")
		})
	}
}
