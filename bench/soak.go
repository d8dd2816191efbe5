package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// SoakOptions describe a soak: a mixed load held for a long time, to show
// that memory, goroutines, connections and latency stay flat.
type SoakOptions struct {
	PostgresURL  string
	ServerBinary string
	Scope        Dataset
	For          time.Duration // how long the load runs
	Interval     time.Duration // one report row per interval (a minute by default)
	Pushers      int           // devices pushing batches of visit creates
	Pullers      int           // devices pulling what changed, every few seconds
	Readers      int           // managers reading reports and the dashboard
	Streamers    int           // devices holding the change stream open and pulling on each event
	Seed         uint64
	Logger       interface{ Info(string, ...any) }
}

// SoakRow is one interval of a soak.
type SoakRow struct {
	At                    time.Duration // since the load began
	RSS                   int64         // server resident memory at the end of the interval
	Goroutines, OpenConns int           // from the server's /metrics
	Requests, Errors      int
	PushP50, PushP99      time.Duration
	PullP50, PullP99      time.Duration
	ReportP50, ReportP99  time.Duration
	// StreamPullP50, StreamPullP99: the pulls streaming devices make when
	// their stream says `changes`; StreamEvents counts those events.
	StreamPullP50, StreamPullP99 time.Duration
	StreamEvents                 int
	PushedMutations              int
	PulledChanges                int
	LoadAvg                      string
	firstRequestErrorOfRow       string
}

// SoakResult is a soak's table and its verdict.
type SoakResult struct {
	Rows    []SoakRow
	Verdict []string // why the soak failed; empty when it passed
	Judged  bool     // false when the soak was too short to judge growth
}

// Soak runs the mixed load against a `fieldsync serve` child process on a
// fresh Postgres database and reports one row per interval. Pushers push
// batches of 20 visit creates every second; pullers pull their changes every
// 2 s (the rows the pushers create are in their scope, so pulls carry data);
// readers read the coverage and overdue reports and the dashboard page every
// 5 s; streamers hold GET /v1/sync/stream open and pull whenever it says
// `changes`, the way an app in the foreground does. It fails (Verdict) when memory, goroutines or latency keep growing:
// see judgeSoak.
func Soak(ctx context.Context, opt SoakOptions) (SoakResult, error) {
	var res SoakResult
	if opt.Interval <= 0 {
		opt.Interval = time.Minute
	}
	dsn, seeded, drop, err := seededDatabase(ctx, opt.PostgresURL, "fs_soak", opt.Scope, opt.Seed)
	if err != nil {
		return res, err
	}
	defer drop()
	// The manager who reads reports is made by the CLI, the way an operator
	// adds one, so the soak does not depend on store internals.
	const managerEmail = "bench-manager@fieldsync.test"
	add := exec.CommandContext(ctx, opt.ServerBinary, "user", "add", "--email", managerEmail, "--name", "Soak Manager",
		"--role", "manager", "--password", seeded.Password, "--territory", seeded.RepTerritory)
	add.Env = append(os.Environ(), "FIELDSYNC_DATABASE_URL="+dsn)
	if out, err := add.CombinedOutput(); err != nil {
		return res, fmt.Errorf("add the soak's manager: %w: %s", err, out)
	}
	// Every streamer is a device of the one seeded rep: lift the per-user
	// stream bound above their number.
	srv, err := startServer(ctx, opt.ServerBinary, dsn, fmt.Sprintf("FIELDSYNC_STREAMS_PER_USER=%d", opt.Streamers+16))
	if err != nil {
		return res, err
	}
	defer srv.stop()

	pushers, err := loginMany(ctx, srv.base, seeded, opt.Pushers, "soak-push")
	if err != nil {
		return res, err
	}
	pullers, err := loginMany(ctx, srv.base, seeded, opt.Pullers, "soak-pull")
	if err != nil {
		return res, err
	}
	cursors := make([]string, len(pullers))
	for i, c := range pullers {
		if _, cursors[i], err = c.initialSync(ctx, 1000); err != nil {
			return res, err
		}
	}
	streamers, err := loginMany(ctx, srv.base, seeded, opt.Streamers, "soak-stream")
	if err != nil {
		return res, err
	}
	streamCursors := make([]string, len(streamers))
	for i, c := range streamers {
		if _, streamCursors[i], err = c.initialSync(ctx, 1000); err != nil {
			return res, err
		}
	}
	readers := make([]*reportReader, opt.Readers)
	for i := range readers {
		if readers[i], err = newReportReader(ctx, srv.base, managerEmail, seeded.Password, fmt.Sprintf("soak-manager-%d", i)); err != nil {
			return res, err
		}
	}

	st := &soakStats{}
	loadCtx, stop := context.WithTimeout(ctx, opt.For)
	defer stop()
	var wg gosync.WaitGroup
	for i, c := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(100+i)))
			every(loadCtx, time.Second, rng, func() {
				t0 := time.Now()
				n, err := c.pushBatch(loadCtx, fmt.Sprintf("soak-push-%d", i), seeded.AccountIDs, 20, rng)
				st.record(&st.push, time.Since(t0), err)
				st.add(&st.pushed, n)
			})
		}()
	}
	for i, c := range pullers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(200+i)))
			every(loadCtx, 2*time.Second, rng, func() {
				t0 := time.Now()
				n, cur, err := c.pullFrom(loadCtx, cursors[i], 500)
				st.record(&st.pull, time.Since(t0), err)
				if err == nil {
					cursors[i] = cur
				}
				st.add(&st.pulled, n)
			})
		}()
	}
	// One connection per stream, none shared or capped.
	streamHTTP := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	for i, c := range streamers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakStream(loadCtx, streamHTTP, srv.base, c, &streamCursors[i], st)
		}()
	}
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(300+i)))
			every(loadCtx, 5*time.Second, rng, func() {
				for _, path := range r.paths() {
					t0 := time.Now()
					err := r.get(loadCtx, path)
					st.record(&st.report, time.Since(t0), err)
				}
			})
		}()
	}

	begin := time.Now()
	tick := time.NewTicker(opt.Interval)
	defer tick.Stop()
	last := begin
	for done := false; !done; {
		select {
		case <-loadCtx.Done():
			done = true
		case <-tick.C:
		}
		// The remainder after the last full interval is too short to judge;
		// it would only add a noisy row.
		if done && time.Since(last) < opt.Interval/2 {
			break
		}
		last = time.Now()
		row := st.take(time.Since(begin))
		if row.RSS, err = srv.rss(); err != nil {
			return res, err
		}
		if row.Goroutines, row.OpenConns, err = serverGauges(ctx, srv.base); err != nil {
			return res, err
		}
		row.LoadAvg = loadAvg()
		res.Rows = append(res.Rows, row)
		if opt.Logger != nil {
			opt.Logger.Info("soak", "at", row.At.Round(time.Second).String(), "rss_mb", row.RSS>>20, "goroutines", row.Goroutines,
				"open_conns", row.OpenConns, "requests", row.Requests, "errors", row.Errors,
				"push_p99_ms", ms(row.PushP99), "pull_p99_ms", ms(row.PullP99), "report_p99_ms", ms(row.ReportP99))
		}
	}
	wg.Wait()
	res.Verdict, res.Judged = judgeSoak(res.Rows)
	return res, nil
}

// seededDatabase creates a fresh database on the cluster at pgURL (named
// prefix plus a number), migrates it and seeds ds into it; drop removes it.
func seededDatabase(ctx context.Context, pgURL, prefix string, ds Dataset, seedValue uint64) (dsn string, s Seeded, drop func(), err error) {
	dsn, drop, err = createDatabase(ctx, pgURL, fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano()%1e6))
	if err != nil {
		return "", s, nil, err
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err == nil {
		if _, err = db.Migrate(ctx); err == nil {
			s, err = seed(ctx, db, ds, rand.New(rand.NewPCG(seedValue, 7)))
		}
		db.Close()
	}
	if err != nil {
		drop()
		return "", s, nil, fmt.Errorf("seed %s: %w", prefix, err)
	}
	return dsn, s, drop, nil
}

// every calls f about once per period (jittered ±10%) until ctx ends; the
// first call waits a random fraction of a period, so devices do not march in
// step.
func every(ctx context.Context, period time.Duration, rng *rand.Rand, f func()) {
	wait := time.Duration(rng.Int64N(int64(period)))
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		t0 := time.Now()
		f()
		jitter := time.Duration(rng.Int64N(int64(period)/5)) - period/10
		wait = max(0, period+jitter-time.Since(t0))
	}
}

// soakStats collects one interval's latencies and counts.
type soakStats struct {
	mu                 gosync.Mutex
	push, pull, report []time.Duration
	streamPull         []time.Duration
	pushed, pulled     int
	streamEvents       int
	requests, errors   int
	firstErr           string
}

func (s *soakStats) record(into *[]time.Duration, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if err != nil {
		// A request cut by the end of the soak is not an error of the server.
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			s.requests--
			return
		}
		s.errors++
		if s.firstErr == "" {
			s.firstErr = err.Error()
		}
		return
	}
	*into = append(*into, d)
}

func (s *soakStats) add(into *int, n int) {
	s.mu.Lock()
	*into += n
	s.mu.Unlock()
}

// take returns the interval's row and starts the next interval.
func (s *soakStats) take(at time.Duration) SoakRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
	r := SoakRow{At: at, Requests: s.requests, Errors: s.errors, PushedMutations: s.pushed, PulledChanges: s.pulled,
		PushP50: q(s.push, .5), PushP99: q(s.push, .99), PullP50: q(s.pull, .5), PullP99: q(s.pull, .99),
		ReportP50: q(s.report, .5), ReportP99: q(s.report, .99), firstRequestErrorOfRow: s.firstErr,
		StreamPullP50: q(s.streamPull, .5), StreamPullP99: q(s.streamPull, .99), StreamEvents: s.streamEvents}
	s.push, s.pull, s.report, s.streamPull = s.push[:0], s.pull[:0], s.report[:0], s.streamPull[:0]
	s.pushed, s.pulled, s.requests, s.errors, s.firstErr, s.streamEvents = 0, 0, 0, 0, "", 0
	return r
}

// judgeSoak compares the last third of the intervals with the first third
// after a warm-up (the first interval, when the pools and caches fill). It
// needs six intervals to judge; a shorter soak passes unjudged. Thresholds are
// loose on purpose: a shared 2-core machine moves p99 by tens of percent from
// minute to minute, and what the soak is for is a leak or a queue that keeps
// building, which moves them by multiples.
//   - memory: the median RSS of the last third more than 25% above the first
//     third's and still rising across the last third;
//   - goroutines: the last third's median more than 50% (and 50) above the
//     first third's;
//   - latency (push, pull, reports, pulls on a stream event): the last third's median p99 more than
//     twice the first third's and above 50 ms;
//   - any request error at all (the load never sends bad input).
func judgeSoak(rows []SoakRow) (verdict []string, judged bool) {
	for _, r := range rows {
		if r.Errors > 0 {
			verdict = append(verdict, fmt.Sprintf("%d failed requests in the interval ending at %s (first: %s)", r.Errors, r.At.Round(time.Second), r.firstRequestErrorOfRow))
		}
	}
	if len(rows) < 6 {
		return verdict, false
	}
	body := rows[1:]
	third := len(body) / 3
	first, last := body[:third], body[len(body)-third:]
	medI := func(rs []SoakRow, f func(SoakRow) int64) int64 {
		xs := make([]int64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
		return xs[len(xs)/2]
	}
	rssF, rssL := medI(first, func(r SoakRow) int64 { return r.RSS }), medI(last, func(r SoakRow) int64 { return r.RSS })
	if float64(rssL) > 1.25*float64(rssF) && last[len(last)-1].RSS > last[0].RSS {
		verdict = append(verdict, fmt.Sprintf("memory keeps growing: RSS %d MB in the first third, %d MB in the last", rssF>>20, rssL>>20))
	}
	gF, gL := medI(first, func(r SoakRow) int64 { return int64(r.Goroutines) }), medI(last, func(r SoakRow) int64 { return int64(r.Goroutines) })
	if float64(gL) > 1.5*float64(gF) && gL-gF > 50 {
		verdict = append(verdict, fmt.Sprintf("goroutines keep growing: %d in the first third, %d in the last", gF, gL))
	}
	for _, m := range []struct {
		name string
		p99  func(SoakRow) int64
	}{
		{"push", func(r SoakRow) int64 { return int64(r.PushP99) }},
		{"pull", func(r SoakRow) int64 { return int64(r.PullP99) }},
		{"reports", func(r SoakRow) int64 { return int64(r.ReportP99) }},
		{"stream-triggered pull", func(r SoakRow) int64 { return int64(r.StreamPullP99) }},
	} {
		f, l := time.Duration(medI(first, m.p99)), time.Duration(medI(last, m.p99))
		if l > 2*f && l > 50*time.Millisecond {
			verdict = append(verdict, fmt.Sprintf("%s latency keeps growing: p99 %.1f ms in the first third, %.1f ms in the last", m.name, ms(f), ms(l)))
		}
	}
	return verdict, true
}

// SoakReport prints the soak's table and verdict.
func SoakReport(w io.Writer, opt SoakOptions, res SoakResult) {
	fmt.Fprintf(w, "Soak: %s, %d pushing devices (20 visit creates/s each), %d pulling devices (every 2 s), %d streaming devices (a pull on every `changes` event), %d report readers (every 5 s).\n\n",
		opt.For, opt.Pushers, opt.Pullers, opt.Streamers, opt.Readers)
	fmt.Fprintln(w, "| at | RSS MB | goroutines | DB conns | requests | errors | mutations | changes pulled | push p50/p99 ms | pull p50/p99 ms | stream events | pull on event p50/p99 ms | reports p50/p99 ms | load avg |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %.1f / %.1f | %.1f / %.1f | %d | %.1f / %.1f | %.1f / %.1f | %s |\n",
			r.At.Round(time.Second), r.RSS>>20, r.Goroutines, r.OpenConns, r.Requests, r.Errors, r.PushedMutations, r.PulledChanges,
			ms(r.PushP50), ms(r.PushP99), ms(r.PullP50), ms(r.PullP99), r.StreamEvents, ms(r.StreamPullP50), ms(r.StreamPullP99),
			ms(r.ReportP50), ms(r.ReportP99), r.LoadAvg)
	}
	fmt.Fprintln(w)
	if n := len(res.Rows); n > 1 {
		fmt.Fprintf(w, "Load average (1, 5, 15 min) at the first row %s, at the last %s: latency is only comparable across the soak if the machine's other load stayed the same.\n\n", res.Rows[0].LoadAvg, res.Rows[n-1].LoadAvg)
	}
	switch {
	case len(res.Verdict) > 0:
		fmt.Fprintln(w, "FAIL:")
		for _, v := range res.Verdict {
			fmt.Fprintln(w, "  - "+v)
		}
	case !res.Judged:
		fmt.Fprintln(w, "PASS (too short to judge growth: fewer than 6 intervals; no request failed)")
	default:
		fmt.Fprintln(w, "PASS: memory, goroutines and p99 latency flat (last third against first third); no request failed")
	}
}

// pushBatch pushes n visit creates in one request; it returns how many were
// applied, and fails on any other result (the load sends only valid rows).
func (c *client) pushBatch(ctx context.Context, device string, accountIDs []string, n int, rng *rand.Rand) (int, error) {
	req := wire.PushRequest{DeviceID: device, Mutations: make([]wire.Mutation, n)}
	planned := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	for i := range req.Mutations {
		row, _ := json.Marshal(map[string]string{"account_id": accountIDs[rng.IntN(len(accountIDs))], "planned_at": planned})
		req.Mutations[i] = wire.Mutation{MutationID: uuid.NewString(), Table: "visits", Op: "upsert", ID: uuid.NewString(), Row: row}
	}
	var resp wire.PushResponse
	if err := c.do(ctx, http.MethodPost, "/v1/sync/push", req, &resp); err != nil {
		return 0, err
	}
	for _, r := range resp.Results {
		if r.Status != wire.StatusApplied {
			return 0, fmt.Errorf("push result %s: %+v", r.Status, r.Error)
		}
	}
	return len(resp.Results), nil
}

// reportReader is a manager reading reports by token and the dashboard page
// by its session cookie, as a browser does.
type reportReader struct {
	api  *client
	page *http.Client
	base string
}

func newReportReader(ctx context.Context, base, email, password, device string) (*reportReader, error) {
	api, err := login(ctx, newHTTPClient(), base, email, password, device)
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	r := &reportReader{api: api, page: &http.Client{Jar: jar, Timeout: time.Minute}, base: base}
	// The dashboard's sign-in: the form sets a double-submit CSRF cookie.
	form, err := r.fetch(ctx, http.MethodGet, "/dashboard", nil)
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if m == nil {
		return nil, fmt.Errorf("dashboard sign-in form has no CSRF token")
	}
	if _, err := r.fetch(ctx, http.MethodPost, "/dashboard/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}}); err != nil {
		return nil, fmt.Errorf("dashboard sign-in: %w", err)
	}
	return r, nil
}

func (r *reportReader) paths() []string {
	to := time.Now().UTC()
	q := "?from=" + to.AddDate(0, 0, -27).Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)
	return []string{"/v1/reports/coverage" + q, "/v1/reports/overdue" + q, "dashboard"}
}

func (r *reportReader) get(ctx context.Context, path string) error {
	if path == "dashboard" {
		page, err := r.fetch(ctx, http.MethodGet, "/dashboard", nil)
		if err == nil && strings.Contains(page, `name="password"`) {
			err = fmt.Errorf("dashboard: the session ended (sign-in form served)")
		}
		return err
	}
	var out json.RawMessage
	return r.api.do(ctx, http.MethodGet, path, nil, &out)
}

// fetch is a browser-like request: the page's HTML, 200 (after redirects) or an error.
func (r *reportReader) fetch(ctx context.Context, method, path string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := r.page.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %d", method, path, res.StatusCode)
	}
	return string(b), nil
}

// rss is the server's resident memory now (VmRSS) in bytes.
func (s *childServer) rss() (int64, error) {
	return procStatusBytes(s.cmd.Process.Pid, "VmRSS:")
}

func procStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// serverGauges reads go_goroutines and the database pool's open connections
// from the server's /metrics.
func serverGauges(ctx context.Context, base string) (goroutines, conns int, err error) {
	text, err := scrapeMetrics(ctx, base, "go_goroutines", "go_sql_open_connections")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		f := strings.Fields(line)
		v, perr := strconv.ParseFloat(f[len(f)-1], 64)
		if perr != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line, "go_goroutines"):
			goroutines = int(v)
		case strings.HasPrefix(line, "go_sql_open_connections"):
			conns = int(v)
		}
	}
	return goroutines, conns, nil
}

// soakStream is one streaming device of the soak: it holds the change stream
// open and, on every `changes` event, pulls from its cursor until nothing is
// left (one latency sample per event). A stream the server ends while the soak runs counts as a failed
// request (nothing in the soak revokes a token), and the device reconnects.
func soakStream(ctx context.Context, hc *http.Client, base string, c *client, cursor *string, st *soakStats) {
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/sync/stream", nil)
		if err != nil {
			st.record(nil, 0, err)
			return
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := hc.Do(req)
		if err != nil {
			st.record(nil, 0, fmt.Errorf("open the change stream: %w", err))
			continue
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			st.record(nil, 0, fmt.Errorf("open the change stream: status %d", resp.StatusCode))
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), "event: changes") {
				continue
			}
			st.add(&st.streamEvents, 1)
			t0 := time.Now()
			n, cur, err := c.pullFrom(ctx, *cursor, 500)
			st.record(&st.streamPull, time.Since(t0), err)
			if err == nil {
				*cursor = cur
				st.add(&st.pulled, n)
			}
		}
		resp.Body.Close()
		if ctx.Err() == nil {
			st.record(nil, 0, fmt.Errorf("the server ended a change stream"))
		}
	}
}
