package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	gosync "sync"
	"sync/atomic"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"
)

// pullAll is one initial sync of the caller through the engine in pages of
// 1,000; it returns the rows pulled.
func pullAll(b *testing.B, ctx context.Context, eng *engine.Engine, a domain.Caller) int {
	b.Helper()
	rows, cursor := 0, ""
	for {
		resp, err := eng.Pull(ctx, a, cursor, 1000)
		if err != nil {
			b.Fatal(err)
		}
		rows += len(resp.Changes)
		if !resp.HasMore {
			return rows
		}
		cursor = resp.Cursor
	}
}

// BenchmarkPull_InitialSync measures the engine (no HTTP) paging through the
// benchmark rep scope (docs/benchmarks.md) in pages of 1,000, against the raw pgx+JSON read of the
// same rows. Reported as rows/s.
func BenchmarkPull_InitialSync(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := testdb.Open(b, d)
			s, err := seed(ctx, db, Dataset{Accounts: 500, Visits: 10000, Orders: 3000, Notes: 5000}, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				b.Fatal(err)
			}
			if err := db.Gorm.Exec("ANALYZE").Error; err != nil { // as autovacuum would have by now
				b.Fatal(err)
			}
			var rep struct{ ID string }
			db.Gorm.Table("users").Select("id").Where("email = ?", s.RepEmail).Take(&rep)
			eng := engine.New(db, engine.Config{}, nil, nil)
			a := domain.Caller{UserID: rep.ID, Role: domain.RoleRep, DeviceID: "bench"}
			b.ResetTimer()
			rows := 0
			for i := 0; i < b.N; i++ {
				rows += pullAll(b, ctx, eng, a)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkPull_InitialSyncHTTP is the same through the real server and an HTTP
// client on loopback, as a device would pull.
func BenchmarkPull_InitialSyncHTTP(b *testing.B) {
	ctx := context.Background()
	db := testdb.Open(b, store.Postgres)
	s, err := seed(ctx, db, Dataset{Accounts: 500, Visits: 10000, Orders: 3000, Notes: 5000}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Gorm.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	base := startInProcess(b, db)
	c, err := login(ctx, newHTTPClient(), base, s.RepEmail, s.Password, "bench-http")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		n, _, err := c.initialSync(ctx, 1000)
		if err != nil {
			b.Fatal(err)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPush_VisitCreates: 8 devices pushing batches of 100 visit creates at
// once through the engine (no HTTP). Reported as mutations/s.
func BenchmarkPush_VisitCreates(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := testdb.Open(b, d)
			s, err := seed(ctx, db, Dataset{Accounts: 500}, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				b.Fatal(err)
			}
			var rep struct{ ID string }
			db.Gorm.Table("users").Select("id").Where("email = ?", s.RepEmail).Take(&rep)
			eng := engine.New(db, engine.Config{}, nil, nil)
			// Statements per push do not depend on the machine's other load,
			// unlike mutations/s (docs/benchmarks.md).
			var stmts atomic.Int64
			countStatements(b, db.Gorm, &stmts)
			b.ResetTimer()
			stmts.Store(0)
			var wg gosync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					a := domain.Caller{UserID: rep.ID, Role: domain.RoleRep, DeviceID: fmt.Sprintf("push-%d", w)}
					rng := rand.New(rand.NewPCG(uint64(w), 9))
					for i := w; i < b.N; i += 8 {
						req := wire.PushRequest{Mutations: make([]wire.Mutation, 100)}
						for j := range req.Mutations {
							row, _ := json.Marshal(map[string]string{"account_id": s.AccountIDs[rng.IntN(len(s.AccountIDs))], "planned_at": "2026-11-24T09:00:00Z"})
							req.Mutations[j] = wire.Mutation{MutationID: uid(rng), Table: "visits", Op: "upsert", ID: uid(rng), Row: row}
						}
						if _, err := eng.Push(ctx, a, req); err != nil {
							b.Error(err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "mutations/s")
			b.ReportMetric(float64(stmts.Load())/float64(b.N), "statements/push")
		})
	}
}

// countStatements counts every SQL statement GORM sends on g (queries, raw
// statements and writes; transaction control excluded) into n.
func countStatements(b *testing.B, g *gorm.DB, n *atomic.Int64) {
	count := func(*gorm.DB) { n.Add(1) }
	cb := g.Callback()
	for name, err := range map[string]error{
		"query":  cb.Query().After("gorm:query").Register("bench:count", count),
		"raw":    cb.Raw().After("gorm:raw").Register("bench:count", count),
		"row":    cb.Row().After("gorm:row").Register("bench:count", count),
		"create": cb.Create().After("gorm:create").Register("bench:count", count),
		"update": cb.Update().After("gorm:update").Register("bench:count", count),
		"delete": cb.Delete().After("gorm:delete").Register("bench:count", count),
	} {
		if err != nil {
			b.Fatalf("count %s statements: %v", name, err)
		}
	}
}

// BenchmarkPush_VisitCreatesHTTP is BenchmarkPush_VisitCreates through the real
// server and 8 HTTP clients on loopback (Postgres only), next to the raw
// 100-row batch insert at the same concurrency on the same database: the
// ratio of their ns/op in one run is the push's cost relative to the bare
// insert, whatever else loads the machine (docs/benchmarks.md, issue 17). One
// op is one batch of 100 in both; allocs/op of push include the client's.
func BenchmarkPush_VisitCreatesHTTP(b *testing.B) {
	ctx := context.Background()
	dsn := testdb.DSN(b, store.Postgres)
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s, err := seed(ctx, db, Dataset{Accounts: 500}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	var repID string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM users WHERE email = $1", s.RepEmail).Scan(&repID); err != nil {
		b.Fatal(err)
	}
	base := startInProcess(b, db)
	clients, err := loginMany(ctx, base, s, 8, "push")
	if err != nil {
		b.Fatal(err)
	}
	var stmts atomic.Int64
	countStatements(b, db.Gorm, &stmts)
	// Both run b.N batches spread over 8 workers.
	var seeds atomic.Uint64 // fresh row ids on every run of a sub-benchmark
	spread := func(b *testing.B, batch func(w int, rng *rand.Rand) error) {
		var wg gosync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seeds.Add(1), 7))
				for i := w; i < b.N; i += 8 {
					if err := batch(w, rng); err != nil {
						b.Error(err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "rows/s")
	}
	b.Run("push", func(b *testing.B) {
		stmts.Store(0)
		spread(b, func(w int, rng *rand.Rand) error {
			_, err := clients[w].pushBatch(ctx, fmt.Sprintf("push-%d", w), s.AccountIDs, 100, rng)
			return err
		})
		b.ReportMetric(float64(stmts.Load())/float64(b.N), "statements/push")
	})
	b.Run("raw8", func(b *testing.B) {
		spread(b, func(_ int, rng *rand.Rand) error {
			return rawInsertBatch(ctx, pool, s.AccountIDs, repID, rng)
		})
	})
}
