// Command fieldsync runs the Fieldsync server and its maintenance tasks:
// serve, migrate, seed, user add, compact, aggregates and bench. Configuration
// comes from FIELDSYNC_* environment variables, overridden by each subcommand's
// flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/fieldsync/fieldsync/domain"
)

const usage = `usage: fieldsync <command> [flags]

commands:
  serve      apply pending migrations and serve the API (SIGTERM drains in-flight requests;
             a SQLite file is served by one process only)
  migrate    apply pending migrations and print how many ran (creates a missing SQLite file)
  seed       generate a deterministic sales organisation (--demo prints demo logins)
  user add   create a user: --email E --name N --role R --password P [--territory ID]...
  apikey create|list|revoke
             integrations' API keys (the ERP): create --name N, list, revoke --id ID
  compact    drop change-log tombstones older than --retain (default 90 days)
  aggregates check|rebuild
             compare the report tables with the base tables, or recompute them
  bench      load-test a server against a raw pgx baseline on a Postgres cluster (docs/benchmarks.md)

Run "fieldsync <command> -h" for the flags of a command; a flag overrides its
environment variable.

environment:
  FIELDSYNC_DATABASE_URL   postgres://user:pass@host/db URL, or a SQLite file path (default fieldsync.db);
                           serve creates a missing SQLite file and warns that it is empty
  FIELDSYNC_CREATE_DB      false: serve refuses a missing SQLite file instead (default true)
  FIELDSYNC_ADDR           listen address (default :8080; make run uses 127.0.0.1:8080)
  FIELDSYNC_LOG_LEVEL      debug, info, warn or error (JSON logs on stderr)
  FIELDSYNC_CURRENCY       default currency of new orders (EUR)
  FIELDSYNC_CADENCE_A, FIELDSYNC_CADENCE_B, FIELDSYNC_CADENCE_C
                           days between required visits per account class (7, 14, 30)
  FIELDSYNC_DB_MAX_CONNS   connection pool size (20)
  FIELDSYNC_BODY_LIMIT     largest request body in bytes
  FIELDSYNC_READ_TIMEOUT, FIELDSYNC_WRITE_TIMEOUT, FIELDSYNC_IDLE_TIMEOUT, FIELDSYNC_SHUTDOWN_TIMEOUT
                           HTTP timeouts (durations like 30s; defaults in "fieldsync serve -h")
  FIELDSYNC_PROXY_HEADER   header holding the client address behind a trusted proxy
  FIELDSYNC_TOKEN_TTL      lifetime of device tokens (720h)
  FIELDSYNC_TIMEZONE       IANA time zone of the organisation's days in reports, overdue, the
                           dashboard, target periods and order date filters (UTC)
  FIELDSYNC_STREAMS_PER_USER
                           change streams one user may hold open per server (16)
  FIELDSYNC_BLOB_URL       attachment store: empty for FIELDSYNC_BLOB_DIR, or s3://bucket?endpoint=URL
  FIELDSYNC_BLOB_DIR       directory of attachment blobs (fieldsync-blobs)
  FIELDSYNC_UPLOAD_DIR     directory staging attachment uploads in progress (fieldsync-uploads)
  FIELDSYNC_BLOB_ACCESS_KEY, FIELDSYNC_BLOB_SECRET_KEY (else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
                           S3 credentials
  FIELDSYNC_BCRYPT_COST    password hashing cost
  FIELDSYNC_LOGIN_FAILURES_PER_EMAIL, FIELDSYNC_LOGIN_FAILURES_PER_ADDR, FIELDSYNC_LOGIN_FAILURE_WINDOW
                           failed-login rate limits (5, 20, 15m)
  FIELDSYNC_REPORT_FOLD_INTERVAL
                           how often report deltas are folded (5s; 0: never); one instance folds at a time
  FIELDSYNC_REPORT_SNAPSHOT_MAX_AGE
                           how old a large scope's coverage and orders figures may be (30s; 0: always read afresh)
  FIELDSYNC_REPORT_SNAPSHOT_TERRITORIES
                           scopes of at least this many territories read those snapshots (1000)
  FIELDSYNC_REPORT_KPI_SNAPSHOT_MAX_AGE
                           how old a large scope's KPI figures may be (2m; 0: always read afresh)
  FIELDSYNC_REPLICA_URL    postgres:// URL of a hot standby that reports, the dashboard and exports read from
  FIELDSYNC_REPLICA_MAX_LAG
                           a replica further behind is skipped until it catches up (10s)
  FIELDSYNC_DRAIN_DELAY    on SIGTERM, answer /readyz 503 this long before closing the listener (0s;
                           behind a load balancer: longer than its health-check interval)
  FIELDSYNC_WEBHOOK_TIMEOUT
                           longest wait for a webhook receiver's answer (10s); a delivery held by a
                           killed instance is sent again after 3 times this
  FIELDSYNC_WEBHOOK_BACKOFF
                           wait before retrying a failed webhook delivery, doubling up to 10m (5s)
  FIELDSYNC_BENCH_POSTGRES_URL
                           bench: the Postgres cluster to load`

// errUsage marks a mistake on the command line (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fieldsync:", err)
		if e := domain.AsError(err); e != nil && len(e.Fields) > 1 {
			for _, f := range e.Fields {
				fmt.Fprintf(os.Stderr, "  %s: %s\n", f.Field, f.Message)
			}
		}
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command\n%s", errUsage, usage)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout)
	case "seed":
		return runSeed(ctx, rest, stdout)
	case "bench":
		return runBench(ctx, rest, stdout)
	case "compact":
		return runCompact(ctx, rest, stdout)
	case "aggregates":
		return runAggregates(ctx, rest, stdout)
	case "user":
		if len(rest) == 0 || rest[0] != "add" {
			return fmt.Errorf("%w: fieldsync user add ...\n%s", errUsage, usage)
		}
		return runUserAdd(ctx, rest[1:], stdout)
	case "apikey":
		return runAPIKey(ctx, rest, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q\n%s", errUsage, cmd, usage)
	}
}

// parseFlags parses a subcommand's flags; -h prints its defaults and succeeds.
func parseFlags(fs *flag.FlagSet, args []string, out io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintf(out, "usage of fieldsync %s:\n", fs.Name())
			fs.PrintDefaults()
			return true, nil
		}
		return false, fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), fs.Arg(0))
	}
	return false, nil
}
