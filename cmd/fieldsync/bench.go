package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/bench"
)

// runBench is the load command behind docs/benchmarks.md: it needs a Postgres
// cluster where it may create and drop databases.
func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	pg := fs.String("postgres", os.Getenv("FIELDSYNC_BENCH_POSTGRES_URL"), "Postgres URL of a cluster the run may create databases on (env FIELDSYNC_BENCH_POSTGRES_URL)")
	orgs := fs.String("org-accounts", "10000,100000", "comma-separated organisation sizes (accounts outside the rep's scope) to compare pulls at")
	accounts := fs.Int("accounts", 500, "accounts in the rep's scope")
	visits := fs.Int("visits", 10000, "visits in the rep's scope")
	orders := fs.Int("orders", 3000, "orders in the rep's scope")
	notes := fs.Int("notes", 5000, "notes in the rep's scope")
	orgVisits := fs.Int("org-visits-per-account", 10, "visits per account outside the scope")
	devices := fs.Int("devices", 200, "devices for the idle-pull and memory runs")
	pushDevices := fs.Int("push-devices", 8, "devices pushing at once")
	pushFor := fs.Duration("push-for", 10*time.Second, "how long to push")
	idleFor := fs.Duration("idle-for", 10*time.Second, "how long devices poll with empty pulls")
	wirePushes := fs.Int("wire-pushes", 100, "pushes of 100 visit creates whose bytes on the wire are counted, per shape")
	runs := fs.Int("runs", 3, "runs of each repeated measurement (raw read, initial sync, idle pulls, push), after an uncounted warm-up")
	only := fs.String("only", "", `"idle": run only the idle-pull measurement (on the first --org-accounts size) and print the server's fieldsync_pull_* histograms; "stream": run only the change-stream measurement (--streams, --stream-rounds); "push": run only the push against the raw insert (--push-devices, --push-for, --runs)`)
	streams := fs.Int("streams", 1000, "change streams held open for --only stream")
	streamRounds := fs.Int("stream-rounds", 20, "writes whose notification latency --only stream measures")
	soak := fs.Duration("soak", 0, "instead of the measurements: hold a mixed load (pushers, pullers, streaming devices, report and dashboard readers) this long, print RSS, goroutines, connections and p50/p99 per interval, and fail if they keep growing")
	soakInterval := fs.Duration("soak-interval", time.Minute, "soak: one report row per interval")
	soakPushers := fs.Int("soak-pushers", 8, "soak: devices pushing 20 visit creates a second each")
	soakPullers := fs.Int("soak-pullers", 100, "soak: devices pulling every 2 s")
	soakReaders := fs.Int("soak-readers", 2, "soak: managers reading two reports and the dashboard every 5 s")
	soakStreamers := fs.Int("soak-streamers", 50, "soak: devices holding the change stream open and pulling on every event")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *pg == "" {
		return fmt.Errorf("%w: fieldsync bench needs --postgres", errUsage)
	}
	if *only != "" && *only != "idle" && *only != "stream" && *only != "push" {
		return fmt.Errorf("%w: --only %q (known: idle, stream, push)", errUsage, *only)
	}
	if *streams < 1 || *streamRounds < 1 {
		return fmt.Errorf("%w: --streams and --stream-rounds must be at least 1", errUsage)
	}
	var sizes []int
	for _, s := range strings.Split(*orgs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return fmt.Errorf("%w: --org-accounts %q", errUsage, *orgs)
		}
		sizes = append(sizes, n)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	scope := bench.Dataset{Accounts: *accounts, Visits: *visits, Orders: *orders, Notes: *notes, VisitsPerOrgAccount: *orgVisits}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *soak > 0 {
		scope.OrgAccounts = sizes[0]
		sopt := bench.SoakOptions{PostgresURL: *pg, ServerBinary: self, Scope: scope, For: *soak, Interval: *soakInterval,
			Pushers: *soakPushers, Pullers: *soakPullers, Readers: *soakReaders, Streamers: *soakStreamers, Seed: 1, Logger: logger}
		res, err := bench.Soak(ctx, sopt)
		if err != nil {
			return fmt.Errorf("soak: %w", err)
		}
		bench.SoakReport(stdout, sopt, res)
		if len(res.Verdict) > 0 {
			return fmt.Errorf("soak failed: %s", strings.Join(res.Verdict, "; "))
		}
		return nil
	}
	opt := bench.Options{PostgresURL: *pg, ServerBinary: self, OrgSizes: sizes,
		Scope:   scope,
		Devices: *devices, PushDevices: *pushDevices, PushFor: *pushFor, IdleFor: *idleFor, Seed: 1, WirePushes: *wirePushes, Only: *only, Runs: *runs, Streams: *streams, StreamRounds: *streamRounds,
		Logger: logger}
	results, err := bench.Run(ctx, opt)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	bench.Report(stdout, opt, results)
	return nil
}
