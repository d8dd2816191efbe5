// Command fleet is the device side of the fleet test (scripts/fleet-test.sh):
// devices of the demo organisation push and pull through the load balancer
// while the script restarts and stops server instances, then it checks what
// the fleet promises — every write stored exactly once, every device
// converged, no request failed that the client did not retry successfully —
// and prints the figures. It exits 1 if a check fails.
//
// The script and this program meet through files: this program creates
// -ready-file once every device has logged in and synced, and stops writing
// once -stop-file exists. Nothing here passes or fails by timing: the load
// runs until told to stop, and every check compares counts and versions.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// counter counts the HTTP exchanges of every device.
type counter struct {
	base      http.RoundTripper
	requests  atomic.Int64
	failed    atomic.Int64 // transport errors and 5xx/429 answers
	byStatus  sync.Map     // status -> *atomic.Int64
	transport atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		c.failed.Add(1)
		c.transport.Add(1)
		return nil, err
	}
	if resp.StatusCode >= 500 || resp.StatusCode == 429 {
		c.failed.Add(1)
		n, _ := c.byStatus.LoadOrStore(resp.StatusCode, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
	return resp, nil
}

// dev is one device and what it recorded.
type dev struct {
	name    string
	login   fixtures.Login
	c       *device.Client
	written []string // ids of the visits it created, in order

	syncs, retries int
	recoveries     []time.Duration // from a sync's first failure to its success
}

type figures struct {
	mu         sync.Mutex
	failures   []string // checks that failed
	nonRetried []string // errors the client could not retry
}

func (f *figures) fail(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}

func run() error {
	url := flag.String("url", "", "the load balancer's base URL")
	dsn := flag.String("primary", "", "postgres:// URL of the primary, for the checks")
	dir := flag.String("dir", "", "directory of the device files")
	perUser := flag.Int("devices-per-user", 3, "devices per demo rep (two reps)")
	readyFile := flag.String("ready-file", "", "created once every device has synced")
	stopFile := flag.String("stop-file", "", "the load stops once this exists")
	finalTimeout := flag.Duration("final-timeout", 3*time.Minute, "how long the final syncs may take")
	flag.Parse()
	if *url == "" || *dsn == "" || *dir == "" || *readyFile == "" || *stopFile == "" {
		return errors.New("-url, -primary, -dir, -ready-file and -stop-file are required")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, *dsn, store.Options{MaxOpenConns: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer db.Close()

	cnt := &counter{base: http.DefaultTransport.(*http.Transport).Clone()}
	hc := &http.Client{Transport: cnt, Timeout: 30 * time.Second}
	var devs []*dev
	for _, l := range fixtures.DemoLogins() {
		if l.Role != domain.RoleRep {
			continue
		}
		for i := range *perUser {
			name := fmt.Sprintf("%s-%d", l.Email, i)
			c, err := device.Open(ctx, filepath.Join(*dir, name+".db"), device.Options{ServerURL: *url, HTTPClient: hc, DeviceName: name})
			if err != nil {
				return err
			}
			defer c.Close()
			devs = append(devs, &dev{name: name, login: l, c: c})
		}
	}
	f := &figures{}
	for _, d := range devs {
		if err := retry(ctx, d, f, func() error { _, err := d.c.Login(ctx, d.login.Email, d.login.Password); return err }); err != nil {
			return fmt.Errorf("%s: login: %w", d.name, err)
		}
		if err := d.sync(ctx, f); err != nil {
			return fmt.Errorf("%s: first sync: %w", d.name, err)
		}
	}
	// Only these devices write the reps' visits from here on.
	before, err := repVisits(db, devs)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*readyFile, nil, 0o644); err != nil {
		return err
	}
	fmt.Printf("fleet: %d devices synced; load running until %s exists\n", len(devs), *stopFile)

	stopped := func() bool { _, err := os.Stat(*stopFile); return err == nil }
	loadStart := time.Now()
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.load(ctx, f, stopped)
		}()
	}
	// A manager reads the coverage report meanwhile: the instances serve it
	// from the standby while it is caught up.
	var reportsRead atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		readReports(ctx, *url, hc, f, stopped, &reportsRead)
	}()
	wg.Wait()
	loadTime := time.Since(loadStart)
	fmt.Printf("fleet: coverage reports read by the manager during the load %d\n", reportsRead.Load())

	// Final syncs: everything written is pushed, everything pulled.
	fctx, cancel := context.WithTimeout(ctx, *finalTimeout)
	defer cancel()
	for _, d := range devs {
		if err := d.sync(fctx, f); err != nil {
			f.fail("%s: final sync: %v", d.name, err)
		}
	}
	check(fctx, db, before, devs, f, *url, hc, *dir)
	report(devs, cnt, f, loadTime)
	if len(f.failures) > 0 || len(f.nonRetried) > 0 {
		return fmt.Errorf("%d check(s) failed", len(f.failures)+len(f.nonRetried))
	}
	fmt.Println("fleet: PASS")
	return nil
}

// load plans a visit and syncs, again and again, until stopped.
func (d *dev) load(ctx context.Context, f *figures, stopped func() bool) {
	rng := rand.New(rand.NewPCG(uint64(len(d.name)), uint64(time.Now().UnixNano())))
	for !stopped() {
		accounts, err := d.c.Accounts(ctx)
		if err != nil || len(accounts) == 0 {
			f.fail("%s: no accounts in the mirror: %v", d.name, err)
			return
		}
		acc := accounts[rng.IntN(len(accounts))]
		v, err := d.c.PlanVisit(ctx, acc.ID, time.Now().Add(time.Duration(rng.IntN(72))*time.Hour))
		if err != nil {
			f.fail("%s: plan visit: %v", d.name, err)
			return
		}
		d.written = append(d.written, v.ID)
		if err := d.sync(ctx, f); err != nil {
			return
		}
	}
}

// sync syncs until it succeeds, retrying what the SDK says is retryable;
// anything else is recorded as a request the client could not retry.
func (d *dev) sync(ctx context.Context, f *figures) error {
	d.syncs++
	return retry(ctx, d, f, func() error {
		rep, err := d.c.Sync(ctx)
		if err == nil && rep.Rejected > 0 {
			failed, _ := d.c.Failed(ctx)
			f.fail("%s: %d mutation(s) rejected: %+v", d.name, rep.Rejected, failed)
		}
		return err
	})
}

func retry(ctx context.Context, d *dev, f *figures, fn func() error) error {
	var firstFail time.Time
	for {
		err := fn()
		if err == nil {
			if !firstFail.IsZero() {
				d.recoveries = append(d.recoveries, time.Since(firstFail))
			}
			return nil
		}
		if !device.IsRetryable(err) || ctx.Err() != nil {
			f.mu.Lock()
			f.nonRetried = append(f.nonRetried, fmt.Sprintf("%s: %v", d.name, err))
			f.mu.Unlock()
			return err
		}
		if firstFail.IsZero() {
			firstFail = time.Now()
		}
		d.retries++
		time.Sleep(100 * time.Millisecond) // back off; passing never depends on it
	}
}

// check compares what the devices recorded with the primary and with a fresh
// device per user.
func check(ctx context.Context, db *store.DB, before int64, devs []*dev, f *figures, url string, hc *http.Client, dir string) {
	ids := map[string]string{}
	users := map[string]fixtures.Login{}
	for _, d := range devs {
		for _, id := range d.written {
			if other, dup := ids[id]; dup {
				f.fail("visit %s recorded by %s and %s", id, other, d.name)
			}
			ids[id] = d.name
		}
		if _, seen := users[d.c.UserID()]; !seen {
			users[d.c.UserID()] = d.login
		}
	}
	written := slices.Collect(maps.Keys(ids))
	// Exactly once: every recorded visit is there, and the reps' visits
	// created since the start are exactly the recorded ones (none twice, none
	// the devices did not record).
	var stored, created int64
	if err := db.Gorm.Raw("SELECT count(*) FROM visits WHERE id::text IN ?", written).Scan(&stored).Error; err != nil {
		f.fail("count stored visits: %v", err)
	}
	after, err := repVisits(db, devs)
	if err != nil {
		f.fail("count created visits: %v", err)
	}
	created = after - before
	fmt.Printf("fleet: writes recorded by the devices %d, stored %d, visits of the reps added on the server %d\n", len(written), stored, created)
	if int(stored) != len(written) || int(created) != len(written) {
		f.fail("exactly once: %d writes recorded, %d of them stored, %d created", len(written), stored, created)
	}
	// Converged: each device's mirror equals a fresh full pull of its user.
	fresh := map[string]*device.Client{}
	for uid, l := range users {
		c, err := device.Open(ctx, filepath.Join(dir, "fresh-"+uid+".db"), device.Options{ServerURL: url, HTTPClient: hc, DeviceName: "fresh"})
		if err != nil {
			f.fail("fresh device: %v", err)
			return
		}
		defer c.Close()
		d := &dev{name: "fresh " + l.Email, login: l, c: c}
		if err := retry(ctx, d, f, func() error { _, err := c.Login(ctx, l.Email, l.Password); return err }); err != nil {
			return
		}
		if err := d.sync(ctx, f); err != nil {
			return
		}
		fresh[uid] = c
	}
	converged := 0
	for _, d := range devs {
		same := true
		for _, table := range domain.SyncedTables {
			got, err1 := d.c.RowVersions(ctx, table)
			want, err2 := fresh[d.c.UserID()].RowVersions(ctx, table)
			if err := errors.Join(err1, err2); err != nil {
				f.fail("%s: %s: %v", d.name, table, err)
				same = false
				continue
			}
			if !maps.Equal(got, want) {
				f.fail("%s: %s: %d rows on the device, %d in a fresh pull, and they differ", d.name, table, len(got), len(want))
				same = false
			}
		}
		if n, err := d.c.OutboxLen(ctx); err != nil || n != 0 {
			f.fail("%s: %d mutation(s) left in the outbox (%v)", d.name, n, err)
			same = false
		}
		if same {
			converged++
		}
	}
	fmt.Printf("fleet: devices converged %d of %d\n", converged, len(devs))
}

func report(devs []*dev, cnt *counter, f *figures, load time.Duration) {
	var syncs, retries int
	var recoveries []time.Duration
	for _, d := range devs {
		syncs += d.syncs
		retries += d.retries
		recoveries = append(recoveries, d.recoveries...)
	}
	slices.Sort(recoveries)
	fmt.Printf("fleet: load %s; syncs %d; HTTP requests %d; failed requests %d (transport errors %d",
		load.Round(time.Second), syncs, cnt.requests.Load(), cnt.failed.Load(), cnt.transport.Load())
	cnt.byStatus.Range(func(k, v any) bool {
		fmt.Printf(", HTTP %d: %d", k, v.(*atomic.Int64).Load())
		return true
	})
	fmt.Printf("); retries %d; requests the client could not retry %d\n", retries, len(f.nonRetried))
	if len(recoveries) > 0 {
		fmt.Printf("fleet: syncs that needed a retry %d; time to recover: median %s, max %s\n", len(recoveries),
			recoveries[len(recoveries)/2].Round(time.Millisecond), recoveries[len(recoveries)-1].Round(time.Millisecond))
	} else {
		fmt.Println("fleet: no sync needed a retry")
	}
	for _, s := range f.nonRetried {
		fmt.Println("fleet: NOT RETRIED:", s)
	}
	for _, s := range f.failures {
		fmt.Println("fleet: FAILED:", s)
	}
}

// repVisits counts the visits of the devices' users on the primary.
func repVisits(db *store.DB, devs []*dev) (int64, error) {
	var ids []string
	for _, d := range devs {
		ids = append(ids, d.c.UserID())
	}
	var n int64
	if err := db.Gorm.Raw("SELECT count(*) FROM visits WHERE rep_id::text IN ?", ids).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count visits: %w", err)
	}
	return n, nil
}

// readReports logs in as the demo manager and reads the coverage report until
// stopped, retrying what failed for want of an instance (5xx, no answer).
func readReports(ctx context.Context, url string, hc *http.Client, f *figures, stopped func() bool, n *atomic.Int64) {
	var mgr fixtures.Login
	for _, l := range fixtures.DemoLogins() {
		if l.Role == domain.RoleManager {
			mgr = l
		}
	}
	var token string
	for token == "" && !stopped() {
		body := fmt.Sprintf(`{"email":%q,"password":%q,"device_id":"fleet-manager","device_name":"fleet"}`, mgr.Email, mgr.Password)
		resp, err := hc.Post(url+"/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var lr struct {
			Token string `json:"token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&lr)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 200 && err == nil:
			token = lr.Token
		case resp.StatusCode < 500:
			f.fail("manager login: HTTP %d", resp.StatusCode)
			return
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}
	for !stopped() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/v1/reports/coverage", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 200:
			n.Add(1)
		case resp.StatusCode < 500:
			f.fail("coverage report: HTTP %d", resp.StatusCode)
			return
		}
		time.Sleep(200 * time.Millisecond) // a manager, not a load generator
	}
}
