package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/store"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options of a benchmark run.
type Options struct {
	PostgresURL  string // a cluster where the run may create and drop databases
	ServerBinary string // the fieldsync binary to run as `serve`
	Scope        Dataset
	OrgSizes     []int // organisation sizes (accounts outside the rep's scope) to compare pulls at
	Devices      int   // concurrent devices for empty pulls and the memory run
	PushDevices  int
	PushFor      time.Duration
	IdleFor      time.Duration // how long the devices poll with empty pulls
	Seed         uint64
	Logger       *slog.Logger
	WirePushes   int // pushes of 100 visit creates whose bytes are counted (100: 10,000 mutations)
	// Only, when "idle", runs just the idle-pull measurement (after one initial
	// sync for the cursor) on the first organisation size: the quick loop for
	// chasing the empty-pull tail.
	Only string
	// Streams and StreamRounds size the --only stream measurement.
	Streams, StreamRounds int
	// Runs: how many times each repeated measurement runs (idle pulls, push,
	// the raw read and the initial sync), after a warm-up that is not counted.
	Runs int
}

// Result holds every figure of a run.
type Result struct {
	OrgSize                int
	SeedTime               time.Duration
	RawReadRate, PullRate  float64 // rows/s
	ScopeRows, PulledRows  int
	IdleP50, IdleP99       time.Duration
	IdleMax                time.Duration
	IdleSlow               []string    // idle pulls over 500 ms: "start offset:duration"
	IdleTCP                tcpCounters // kernel TCP counters during the idle pulls
	IdlePulls              int
	MemDevices             int
	MemTime                time.Duration
	PeakRSS                int64
	RawInsert8, RawInsert1 float64 // rows/s
	PushRate               float64 // mutations/s
	HasLoadFigures         bool
	// PullRate is with gzip (as devices pull); PullRatePlain without, in the
	// same run, interleaved.
	PullRatePlain float64
	Wire          []WireFigure
	// ServerMetrics: the server's fieldsync_pull_* series after an --only idle
	// run, in the Prometheus text format.
	ServerMetrics string
	// Per run, for the spread (min / median / max): the raw read and the
	// gzipped initial sync (run i against raw run i), idle pulls, pushes
	// with the raw inserts they are compared to.
	RawReadRates, PullRates []float64
	IdleP50s, IdleP99s      []time.Duration
	PushRates, Raw8s, Raw1s []float64
	LoadStart, LoadEnd      string // /proc/loadavg
	Stream                  StreamFigures
}

// Run measures every organisation size in turn; the first one also gets the
// idle-pull, memory and push measurements.
func Run(ctx context.Context, opt Options) ([]Result, error) {
	if opt.Runs < 1 {
		opt.Runs = 3
	}
	if opt.Only == "stream" {
		r, err := streamRun(ctx, opt)
		return []Result{r}, err
	}
	var out []Result
	for i, size := range opt.OrgSizes {
		r, err := runOne(ctx, opt, size, i == 0)
		if err != nil {
			return out, err
		}
		out = append(out, r)
		if opt.Only != "" {
			break
		}
	}
	return out, nil
}

func runOne(ctx context.Context, opt Options, orgSize int, full bool) (Result, error) {
	log := opt.Logger
	res := Result{OrgSize: orgSize, HasLoadFigures: full, LoadStart: loadAvg()}
	dsn, drop, err := createDatabase(ctx, opt.PostgresURL, fmt.Sprintf("fs_bench_%d_%d", orgSize, time.Now().UnixNano()%1e6))
	if err != nil {
		return res, err
	}
	defer drop()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return res, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return res, err
	}
	ds := opt.Scope
	ds.OrgAccounts = orgSize
	start := time.Now()
	seeded, err := seed(ctx, db, ds, rand.New(rand.NewPCG(opt.Seed, 7)))
	if err != nil {
		return res, err
	}
	res.SeedTime, res.ScopeRows = time.Since(start), seeded.ScopeRows
	log.Info("seeded", "org_accounts", orgSize, "scope_rows", seeded.ScopeRows, "seconds", res.SeedTime.Seconds())
	sqlDB, err := db.SQL()
	if err != nil {
		return res, err
	}
	if _, err := sqlDB.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return res, err
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	// Warm-up, not counted: the first read loads the scope into the cache.
	if _, _, err := rawRead(ctx, pool, seeded.RepTerritory); err != nil {
		return res, err
	}
	var rates []float64
	for i := 0; i < opt.Runs; i++ {
		r, n, err := rawRead(ctx, pool, seeded.RepTerritory)
		if err != nil {
			return res, err
		}
		rates, res.PulledRows = append(rates, r), n
	}
	res.RawReadRate, res.RawReadRates = median(rates), append([]float64{}, rates...)
	if opt.Only == "idle" {
		return idleOnly(ctx, opt, dsn, seeded, res)
	}
	srv, err := startServer(ctx, opt.ServerBinary, dsn)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	if opt.Only == "push" {
		err := pushRuns(ctx, opt, srv.base, pool, seeded, &res)
		res.LoadEnd = loadAvg()
		return res, err
	}
	// Initial syncs plain and gzipped, interleaved so that both see the same
	// machine; bytes are counted on the connection.
	var plainRates []float64
	rates = rates[:0]
	var cursor string
	initial := WireFigure{Name: "initial sync of the rep's scope (pages of 1,000)"}
	for i := 0; i < opt.Runs; i++ {
		for _, compressed := range []bool{false, true} {
			rep, m, err := meteredLogin(ctx, srv.base, seeded, fmt.Sprintf("bench-device-%d-%v", i, compressed), compressed)
			if err != nil {
				return res, err
			}
			t0 := time.Now()
			n, c, err := rep.initialSync(ctx, 1000)
			if err != nil {
				return res, err
			}
			rate := float64(n) / time.Since(t0).Seconds()
			if compressed {
				rates, cursor, initial.Zipped = append(rates, rate), c, m.take()
			} else {
				plainRates, initial.Plain = append(plainRates, rate), m.take()
			}
			res.PulledRows = n
		}
	}
	res.PullRatePlain = median(plainRates)
	res.Wire = append(res.Wire, initial)
	res.PullRate, res.PullRates = median(rates), append([]float64{}, rates...)
	log.Info("initial sync", "org_accounts", orgSize, "raw_rows_per_s", int(res.RawReadRate), "pull_rows_per_s", int(res.PullRate),
		"plain_pull_rows_per_s", int(res.PullRatePlain), "plain_bytes_down", initial.Plain.Down, "gzip_bytes_down", initial.Zipped.Down)
	if !full {
		res.LoadEnd = loadAvg()
		return res, nil
	}
	if err := idleRuns(ctx, opt, srv.base, seeded, cursor, &res); err != nil {
		return res, err
	}
	if err := memoryRun(ctx, opt, srv, seeded, &res); err != nil {
		return res, err
	}
	if err := pushRuns(ctx, opt, srv.base, pool, seeded, &res); err != nil {
		return res, err
	}
	if err := wireSizes(ctx, srv.base, seeded, opt.WirePushes, &res); err != nil {
		return res, err
	}
	res.PeakRSS, err = srv.peakRSS()
	res.LoadEnd = loadAvg()
	return res, err
}

// idleOnly is runOne for --only idle: the server, one initial sync for the
// cursor, the idle pulls, and the server's own empty-pull histograms.
func idleOnly(ctx context.Context, opt Options, dsn string, seeded Seeded, res Result) (Result, error) {
	srv, err := startServer(ctx, opt.ServerBinary, dsn)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	rep, err := login(ctx, newHTTPClient(), srv.base, seeded.RepEmail, seeded.Password, "bench-device-idle-cursor")
	if err != nil {
		return res, err
	}
	_, cursor, err := rep.initialSync(ctx, 1000)
	if err != nil {
		return res, err
	}
	pool, err := scrapeMetrics(ctx, srv.base, "go_sql_open_connections", "go_sql_max_open_connections")
	if err != nil {
		return res, err
	}
	if err := idleRuns(ctx, opt, srv.base, seeded, cursor, &res); err != nil {
		return res, err
	}
	res.ServerMetrics = "# before the idle pulls:\n" + pool
	pool, err = scrapeMetrics(ctx, srv.base, "fieldsync_pull_stage_seconds", "go_sql_wait", "go_gc_duration_seconds",
		`fieldsync_http_request_duration_seconds_bucket{method="GET",route="/v1/sync/pull"`, `fieldsync_http_request_duration_seconds_count{method="GET",route="/v1/sync/pull"`,
		"go_sql_open_connections")
	res.ServerMetrics += "# after:\n" + pool
	res.LoadEnd = loadAvg()
	return res, err
}

// idleRuns: a 2 s warm-up of idle pulls (not counted), then Runs runs of
// idlePulls; res keeps the median run's figures (by p99) and every run's
// p50 and p99. The server's first polls are in no run but the warm-up: a
// tail that only a fresh server shows is measured by --only idle's single
// server start, whose first run starts cold.
//
// The devices log in once, before the first run, and keep their tokens and
// connections across runs, as phones do: logging in again before each run
// (as this did until 2026-12-02) made every run start with 200 new tokens
// and new connections, a cold start that is not the steady state a run is
// meant to measure.
func idleRuns(ctx context.Context, opt Options, base string, s Seeded, cursor string, res *Result) error {
	clients, err := loginMany(ctx, base, s, opt.Devices, "idle")
	if err != nil {
		return err
	}
	if opt.Only == "" {
		warm := opt
		warm.IdleFor = 2 * time.Second
		var r Result
		if err := idlePulls(ctx, warm, base, clients, cursor, &r); err != nil {
			return err
		}
	}
	var runs []Result
	for i := 0; i < opt.Runs; i++ {
		var r Result
		if err := idlePulls(ctx, opt, base, clients, cursor, &r); err != nil {
			return err
		}
		runs = append(runs, r)
		res.IdleP50s, res.IdleP99s = append(res.IdleP50s, r.IdleP50), append(res.IdleP99s, r.IdleP99)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].IdleP99 < runs[j].IdleP99 })
	m := runs[len(runs)/2]
	res.IdlePulls, res.IdleP50, res.IdleP99, res.IdleMax, res.IdleSlow, res.IdleTCP = m.IdlePulls, m.IdleP50, m.IdleP99, m.IdleMax, m.IdleSlow, m.IdleTCP
	if opt.Only != "" {
		// Every slow pull of every run: the cold start is in the first.
		res.IdleSlow = nil
		for _, r := range runs {
			for _, x := range r.IdleSlow {
				res.IdleSlow = append(res.IdleSlow, fmt.Sprintf("p99 %.1f ms run: %s", ms(r.IdleP99), x))
			}
		}
	}
	return nil
}

// idlePulls: Devices devices, each polling once a second (jittered) with a
// caught-up cursor, for IdleFor; the latency of each empty pull is recorded.
func idlePulls(ctx context.Context, opt Options, base string, clients []*client, cursor string, res *Result) error {
	var lat latencies
	var wg gosync.WaitGroup
	errs := make(chan error, len(clients))
	// CPU per pull, server and this client, measured after the logins (their
	// bcrypt would swamp it): unlike latency, it hardly depends on what else
	// the machine runs.
	srvCPU0, err := serverCPU(ctx, base)
	if err != nil {
		return err
	}
	cliCPU0 := selfCPU()
	tcp0 := readTCPCounters()
	begin := time.Now()
	stop := begin.Add(opt.IdleFor)
	var slowMu gosync.Mutex
	var slow []string // start offset:duration of pulls over 500 ms
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *client) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
			for time.Now().Before(stop) {
				t0 := time.Now()
				resp, err := c.pull(ctx, cursor, 500)
				if err != nil {
					errs <- err
					return
				}
				if len(resp.Changes) != 0 {
					errs <- fmt.Errorf("idle pull returned %d changes", len(resp.Changes))
					return
				}
				d := time.Since(t0)
				lat.add(d)
				if d > 500*time.Millisecond {
					slowMu.Lock()
					slow = append(slow, fmt.Sprintf("%05.2fs:%dms", t0.Sub(begin).Seconds(), d.Milliseconds()))
					slowMu.Unlock()
				}
				time.Sleep(time.Duration(900+rng.IntN(200)) * time.Millisecond)
			}
		}(i, c)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	res.IdleTCP = readTCPCounters().sub(tcp0)
	cliCPU := selfCPU() - cliCPU0
	srvCPU1, err := serverCPU(ctx, base)
	if err != nil {
		return err
	}
	sort.Strings(slow)
	res.IdleSlow = slow
	res.IdlePulls, res.IdleP50, res.IdleP99, res.IdleMax = len(lat.d), lat.quantile(0.5), lat.quantile(0.99), lat.quantile(1)
	perPull := func(d time.Duration) float64 { return ms(d) / float64(max(res.IdlePulls, 1)) }
	opt.Logger.Info("idle pulls", "devices", len(clients), "pulls", res.IdlePulls, "p50_ms", ms(res.IdleP50), "p99_ms", ms(res.IdleP99), "max_ms", ms(res.IdleMax),
		"server_cpu_ms_per_pull", perPull(srvCPU1-srvCPU0), "client_cpu_ms_per_pull", perPull(cliCPU), "load1", loadAvg(),
		"slow_over_500ms", len(res.IdleSlow), "tcp_active_opens", res.IdleTCP.ActiveOpens, "tcp_retrans_segs", res.IdleTCP.RetransSegs,
		"listen_overflows", res.IdleTCP.ListenOverflows, "listen_drops", res.IdleTCP.ListenDrops)
	return nil
}

// memoryRun: Devices devices do a whole initial sync at once.
func memoryRun(ctx context.Context, opt Options, srv *childServer, s Seeded, res *Result) error {
	clients, err := loginMany(ctx, srv.base, s, opt.Devices, "mem")
	if err != nil {
		return err
	}
	start := time.Now()
	var wg gosync.WaitGroup
	errs := make(chan error, len(clients))
	for _, c := range clients {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			if _, _, err := c.initialSync(ctx, 1000); err != nil {
				errs <- err
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	res.MemDevices, res.MemTime = len(clients), time.Since(start)
	res.PeakRSS, err = srv.peakRSS()
	opt.Logger.Info("concurrent initial syncs", "devices", len(clients), "seconds", res.MemTime.Seconds(), "peak_rss_mb", res.PeakRSS>>20)
	return err
}

func pushRun(ctx context.Context, opt Options, base string, pool *pgxpool.Pool, s Seeded, res *Result) error {
	var repID string
	if err := pool.QueryRow(ctx, "SELECT id::text FROM users WHERE email = $1", s.RepEmail).Scan(&repID); err != nil {
		return err
	}
	var err error
	if res.RawInsert1, err = rawInsert(ctx, pool, s.AccountIDs, repID, 1, opt.PushFor); err != nil {
		return err
	}
	if res.RawInsert8, err = rawInsert(ctx, pool, s.AccountIDs, repID, opt.PushDevices, opt.PushFor); err != nil {
		return err
	}
	clients, err := loginMany(ctx, base, s, opt.PushDevices, "push")
	if err != nil {
		return err
	}
	var wg gosync.WaitGroup
	var mu gosync.Mutex
	total := 0
	errs := make(chan error, len(clients))
	start := time.Now()
	stop := start.Add(opt.PushFor)
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c *client) {
			defer wg.Done()
			n, err := c.pushVisits(ctx, fmt.Sprintf("push-%d", i), s.AccountIDs, stop, rand.New(rand.NewPCG(uint64(i), 5)))
			if err != nil {
				errs <- err
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}(i, c)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	res.PushRate = float64(total) / time.Since(start).Seconds()
	opt.Logger.Info("push", "devices", len(clients), "mutations_per_s", int(res.PushRate), "raw_rows_per_s_8", int(res.RawInsert8))
	return nil
}

// pushRuns runs pushRun Runs times into res: every run's figures and their
// medians.
func pushRuns(ctx context.Context, opt Options, base string, pool *pgxpool.Pool, seeded Seeded, res *Result) error {
	for i := 0; i < opt.Runs; i++ {
		var r Result
		if err := pushRun(ctx, opt, base, pool, seeded, &r); err != nil {
			return err
		}
		res.PushRates, res.Raw8s, res.Raw1s = append(res.PushRates, r.PushRate), append(res.Raw8s, r.RawInsert8), append(res.Raw1s, r.RawInsert1)
	}
	res.PushRate, res.RawInsert8, res.RawInsert1 = median(res.PushRates), median(res.Raw8s), median(res.Raw1s)
	return nil
}

func loginMany(ctx context.Context, base string, s Seeded, n int, prefix string) ([]*client, error) {
	hc := newHTTPClient()
	out := make([]*client, n)
	for i := range out {
		c, err := login(ctx, hc, base, s.RepEmail, s.Password, fmt.Sprintf("%s-%d", prefix, i))
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func createDatabase(ctx context.Context, admin, name string) (string, func(), error) {
	db, err := store.Open(ctx, admin, store.Options{MaxOpenConns: 1})
	if err != nil {
		return "", nil, err
	}
	sqlDB, err := db.SQL()
	if err == nil {
		_, err = sqlDB.ExecContext(ctx, "CREATE DATABASE "+name)
	}
	if err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = sqlDB.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	}, nil
}

func median(xs []float64) float64 {
	s := append([]float64{}, xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadAvg is the machine's load average (1, 5, 15 min) from /proc/loadavg,
// "unknown" where it cannot be read.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return parseLoadAvg(string(b))
}

func parseLoadAvg(s string) string {
	f := strings.Fields(s)
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " / ")
}

// spread formats min / median / max of xs with format f for each.
func spread(xs []float64, f string) string {
	if len(xs) == 0 {
		return "—"
	}
	s := append([]float64{}, xs...)
	sort.Float64s(s)
	return fmt.Sprintf(f+" / "+f+" / "+f, s[0], s[len(s)/2], s[len(s)-1])
}

func msAll(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = ms(d)
	}
	return out
}

// ratios divides a[i] by b[i], in per cent: each run against its own baseline.
func ratios(a, b []float64) []float64 {
	out := make([]float64, 0, len(a))
	for i := range a {
		if i < len(b) && b[i] > 0 {
			out = append(out, 100*a[i]/b[i])
		}
	}
	return out
}

// writeSpread writes the table of repeated measurements: min / median / max
// over the runs, and each run's ratio to its own raw baseline.
func writeSpread(w io.Writer, opt Options, r Result) {
	fmt.Fprintf(w, "\nSpread over %d runs (min / median / max; ratios per run, against that run's raw baseline):\n\n", opt.Runs)
	fmt.Fprintln(w, "| measure | min / median / max | per run |")
	fmt.Fprintln(w, "|---|---|---|")
	if len(r.PullRates) > 0 {
		fmt.Fprintf(w, "| raw pgx+JSON read (rows/s) | %s | |\n", spread(r.RawReadRates, "%.0f"))
		fmt.Fprintf(w, "| initial sync via HTTP, gzip (rows/s) | %s | %s |\n", spread(r.PullRates, "%.0f"), perRun(ratios(r.PullRates, r.RawReadRates), "%.0f%%"))
	}
	if len(r.IdleP99s) > 0 {
		fmt.Fprintf(w, "| empty pull p50 (ms) | %s | %s |\n", spread(msAll(r.IdleP50s), "%.1f"), perRun(msAll(r.IdleP50s), "%.1f"))
		fmt.Fprintf(w, "| empty pull p99 (ms) | %s | %s |\n", spread(msAll(r.IdleP99s), "%.1f"), perRun(msAll(r.IdleP99s), "%.1f"))
	}
	if len(r.PushRates) > 0 {
		fmt.Fprintf(w, "| push (mutations/s) | %s | vs raw at %d conns: %s |\n", spread(r.PushRates, "%.0f"), opt.PushDevices, perRun(ratios(r.PushRates, r.Raw8s), "%.0f%%"))
		fmt.Fprintf(w, "| raw insert, %d connections (rows/s) | %s | |\n", opt.PushDevices, spread(r.Raw8s, "%.0f"))
		fmt.Fprintf(w, "| raw insert, 1 connection (rows/s) | %s | |\n", spread(r.Raw1s, "%.0f"))
	}
	fmt.Fprintf(w, "\nLoad average (1 / 5 / 15 min) at start: %s; at end: %s.\n", r.LoadStart, r.LoadEnd)
}

func perRun(xs []float64, f string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(f, x)
	}
	return strings.Join(parts, ", ")
}

// Report writes the results as the Markdown tables of docs/benchmarks.md.
func Report(w io.Writer, opt Options, rs []Result) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "Machine: %s, %d CPUs, %s/%s, %s; server and Postgres on loopback.\n\n", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(w, "Rep scope: %d accounts, %d visits, %d orders, %d notes (%d rows with the rep's user and territory).\n\n",
		opt.Scope.Accounts, opt.Scope.Visits, opt.Scope.Orders, opt.Scope.Notes, rs[0].ScopeRows)
	if opt.Only == "stream" {
		f := rs[0].Stream
		fmt.Fprintf(w, "Change stream: %d streams of one rep open; %d rounds of one visit pushed from another device of the rep. From sending the push to each stream's `changes` event (%d samples, %d missed): p50 %.1f ms, p99 %.1f ms, max %.1f ms; the push itself p50 %.1f ms; from the push's answer to the event p50 %.1f ms, p99 %.1f ms. Load average before %s, after %s.\n",
			f.Streams, f.Rounds, f.Samples, f.Missed, ms(f.P50), ms(f.P99), ms(f.Max), ms(f.PushP50), ms(f.AfterP50), ms(f.AfterP99), rs[0].LoadStart, rs[0].LoadEnd)
		return
	}
	if opt.Only == "push" {
		r := rs[0]
		fmt.Fprintf(w, "Push only: batches of 100 visit creates, %d devices, %s per run, against the raw 100-row insert at 1 and %d connections in the same run.\n",
			opt.PushDevices, opt.PushFor, opt.PushDevices)
		writeSpread(w, opt, r)
		return
	}
	if opt.Only == "idle" {
		r := rs[0]
		fmt.Fprintf(w, "Organisation of %d accounts outside the scope, seeded in %.0f s; raw pgx+JSON read %.0f rows/s.\n", r.OrgSize, r.SeedTime.Seconds(), r.RawReadRate)
		fmt.Fprintf(w, "\nEmpty incremental pull, %d devices polling ~1/s for %s, run of median p99 (%d pulls): p50 %.1f ms, p99 %.1f ms, max %.1f ms.\n",
			opt.Devices, opt.IdleFor, r.IdlePulls, ms(r.IdleP50), ms(r.IdleP99), ms(r.IdleMax))
		fmt.Fprintf(w, "\nPulls over 500 ms, all runs (start offset in the run: duration): %v. TCP during the median run (whole machine): %d connections opened, %d segments retransmitted, %d listen overflows, %d listen drops.\n",
			r.IdleSlow, r.IdleTCP.ActiveOpens, r.IdleTCP.RetransSegs, r.IdleTCP.ListenOverflows, r.IdleTCP.ListenDrops)
		writeSpread(w, opt, r)
		fmt.Fprintf(w, "\nServer histograms after the runs:\n\n```\n%s```\n", r.ServerMetrics)
		return
	}
	fmt.Fprintln(w, "| organisation (accounts outside the scope) | seed time | raw pgx+JSON read (rows/s) | initial sync via HTTP (rows/s) | ratio to raw |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %d | %.0f s | %.0f | %.0f | %.0f%% |\n", r.OrgSize, r.SeedTime.Seconds(), r.RawReadRate, r.PullRate, 100*r.PullRate/r.RawReadRate)
	}
	if len(rs) > 1 {
		first, last := rs[0], rs[len(rs)-1]
		fmt.Fprintf(w, "\nCost of a pull row, largest vs smallest organisation: %.2f× (target ≤ 1.5).\n", first.PullRate/last.PullRate)
	}
	r := rs[0]
	if !r.HasLoadFigures {
		writeSpread(w, opt, r)
		return
	}
	fmt.Fprintf(w, "\n| load | figure | target |\n|---|---|---|\n")
	fmt.Fprintf(w, "| empty incremental pull, %d devices polling ~1/s for %s (%d pulls) | p50 %.1f ms, p99 %.1f ms | p99 < 20 ms |\n",
		opt.Devices, opt.IdleFor, r.IdlePulls, ms(r.IdleP50), ms(r.IdleP99))
	fmt.Fprintf(w, "| push, batches of 100 visit creates, %d devices, %s | %.0f mutations/s | ≥ 10,000/s |\n", opt.PushDevices, opt.PushFor, r.PushRate)
	fmt.Fprintf(w, "| raw pgx insert, 100 rows per transaction, 1 / %d connections | %.0f / %.0f rows/s | — |\n", opt.PushDevices, r.RawInsert1, r.RawInsert8)
	fmt.Fprintf(w, "| push vs raw 100-row batches (same concurrency / 1 connection) | %.0f%% / %.0f%% | ≥ 20%% |\n", 100*r.PushRate/r.RawInsert8, 100*r.PushRate/r.RawInsert1)
	fmt.Fprintf(w, "| %d devices doing a whole initial sync at once | %.1f s, server peak RSS %d MB | < 300 MB |\n", r.MemDevices, r.MemTime.Seconds(), r.PeakRSS>>20)
	writeSpread(w, opt, r)
	writeWire(w, r)
}
