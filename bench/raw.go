package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// rawRead is the read baseline of docs/benchmarks.md: plain pgx paging through the rep's
// scope 1,000 rows at a time, scanning into structs and encoding each page with
// encoding/json. It returns rows per second.
func rawRead(ctx context.Context, pool *pgxpool.Pool, territory string) (float64, int, error) {
	start := time.Now()
	n := 0
	for _, q := range rawQueries {
		after := "00000000-0000-0000-0000-000000000000"
		for {
			rows, err := pool.Query(ctx, q.sql, territory, after)
			if err != nil {
				return 0, 0, fmt.Errorf("raw read: %w", err)
			}
			page, last, err := q.scan(rows)
			if err != nil {
				return 0, 0, fmt.Errorf("raw read: %w", err)
			}
			if _, err := json.Marshal(page); err != nil {
				return 0, 0, err
			}
			n += len(page)
			if len(page) < 1000 {
				break
			}
			after = last
		}
	}
	return float64(n) / time.Since(start).Seconds(), n, nil
}

type rawQuery struct {
	sql  string
	scan func(pgx.Rows) ([]any, string, error)
}

var rawQueries = []rawQuery{
	{`SELECT id::text, name, territory_id::text, owner_id::text, class, status, address, phone, email, lat, lng, version, updated_at
	  FROM accounts WHERE territory_id = $1 AND id > $2 ORDER BY id LIMIT 1000`,
		func(rows pgx.Rows) ([]any, string, error) {
			return scanAll(rows, func(r pgx.Rows) (any, string, error) {
				var a domain.Account
				err := r.Scan(&a.ID, &a.Name, &a.TerritoryID, &a.OwnerID, &a.Class, &a.Status, &a.Address, &a.Phone, &a.Email, &a.Lat, &a.Lng, &a.Version, &a.UpdatedAt)
				return a, a.ID, err
			})
		}},
	{`SELECT v.id::text, v.account_id::text, v.rep_id::text, v.status, v.planned_at, v.checked_in_at, v.checked_out_at,
	         v.check_in_lat, v.check_in_lng, v.check_in_distance_m, v.outcome, v.report, v.version, v.updated_at
	  FROM visits v JOIN accounts a ON a.id = v.account_id WHERE a.territory_id = $1 AND v.id > $2 ORDER BY v.id LIMIT 1000`,
		func(rows pgx.Rows) ([]any, string, error) {
			return scanAll(rows, func(r pgx.Rows) (any, string, error) {
				var v domain.Visit
				err := r.Scan(&v.ID, &v.AccountID, &v.RepID, &v.Status, &v.PlannedAt, &v.CheckedInAt, &v.CheckedOutAt,
					&v.CheckInLat, &v.CheckInLng, &v.CheckInDistanceM, &v.Outcome, &v.Report, &v.Version, &v.UpdatedAt)
				return v, v.ID, err
			})
		}},
	{`SELECT o.id::text, o.number, o.account_id::text, o.rep_id::text, o.visit_id::text, o.status, o.lines, o.total_cents,
	         o.currency, o.note, o.reason, o.submitted_at, o.version, o.updated_at
	  FROM orders o JOIN accounts a ON a.id = o.account_id WHERE a.territory_id = $1 AND o.id > $2 ORDER BY o.id LIMIT 1000`,
		func(rows pgx.Rows) ([]any, string, error) {
			return scanAll(rows, func(r pgx.Rows) (any, string, error) {
				var o domain.Order
				var lines string
				err := r.Scan(&o.ID, &o.Number, &o.AccountID, &o.RepID, &o.VisitID, &o.Status, &lines, &o.TotalCents,
					&o.Currency, &o.Note, &o.Reason, &o.SubmittedAt, &o.Version, &o.UpdatedAt)
				if err == nil {
					err = json.Unmarshal([]byte(lines), &o.Lines)
				}
				return o, o.ID, err
			})
		}},
	{`SELECT n.id::text, n.account_id::text, n.author_id::text, n.body, n.conflict_of::text, n.version, n.updated_at
	  FROM account_notes n JOIN accounts a ON a.id = n.account_id WHERE a.territory_id = $1 AND n.id > $2 ORDER BY n.id LIMIT 1000`,
		func(rows pgx.Rows) ([]any, string, error) {
			return scanAll(rows, func(r pgx.Rows) (any, string, error) {
				var n domain.AccountNote
				err := r.Scan(&n.ID, &n.AccountID, &n.AuthorID, &n.Body, &n.ConflictOf, &n.Version, &n.UpdatedAt)
				return n, n.ID, err
			})
		}},
}

func scanAll(rows pgx.Rows, one func(pgx.Rows) (any, string, error)) ([]any, string, error) {
	defer rows.Close()
	var page []any
	last := ""
	for rows.Next() {
		v, id, err := one(rows)
		if err != nil {
			return nil, "", err
		}
		page, last = append(page, v), id
	}
	return page, last, rows.Err()
}

// rawInsert is the push baseline: workers connections each inserting visit rows
// in transactions of 100 (a pgx batch) for d. It returns rows per second.
func rawInsert(ctx context.Context, pool *pgxpool.Pool, accountIDs []string, repID string, workers int, d time.Duration) (float64, error) {
	var (
		wg    gosync.WaitGroup
		mu    gosync.Mutex
		total int
		first error
	)
	start := time.Now()
	stop := start.Add(d)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 99))
			n := 0
			for time.Now().Before(stop) {
				if err := rawInsertBatch(ctx, pool, accountIDs, repID, rng); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				n += 100
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}(uint64(time.Now().UnixNano()) + uint64(w))
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("raw insert: %w", first)
	}
	return float64(total) / time.Since(start).Seconds(), nil
}

// rawInsertBatch inserts 100 visit rows in one transaction (a pgx batch): the
// unit of rawInsert, and of BenchmarkRawInsert_Visits.
func rawInsertBatch(ctx context.Context, pool *pgxpool.Pool, accountIDs []string, repID string, rng *rand.Rand) error {
	b := &pgx.Batch{}
	now := time.Now().UTC()
	for i := 0; i < 100; i++ {
		b.Queue(`INSERT INTO visits (id, account_id, rep_id, status, planned_at, field_versions, version, updated_at)
			VALUES ($1, $2, $3, 'planned', $4, '{}', 1, $4)`, uid(rng), accountIDs[rng.IntN(len(accountIDs))], repID, now)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
}
