package server

import (
	// The zone database is embedded, so FIELDSYNC_TIMEZONE works on images
	// without /usr/share/zoneinfo.
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/mobileapi"
	"github.com/fieldsync/fieldsync/webhooks"
	"golang.org/x/crypto/bcrypt"
)

// Config is everything the server is told from outside. Environment variables
// come first; flags override them.
type Config struct {
	DatabaseURL     string        // FIELDSYNC_DATABASE_URL: postgres:// URL or SQLite file
	DBMaxConns      int           // FIELDSYNC_DB_MAX_CONNS
	Addr            string        // FIELDSYNC_ADDR
	Currency        string        // FIELDSYNC_CURRENCY: default currency of new orders
	LogLevel        string        // FIELDSYNC_LOG_LEVEL: debug, info, warn, error
	CadenceA        int           // FIELDSYNC_CADENCE_A: days between visits of class A accounts
	CadenceB        int           // FIELDSYNC_CADENCE_B
	CadenceC        int           // FIELDSYNC_CADENCE_C
	TimeZone        string        // FIELDSYNC_TIMEZONE: IANA zone of the organisation's days in reports, overdue, the dashboard, target periods and order date filters (UTC)
	BodyLimit       int           // FIELDSYNC_BODY_LIMIT: bytes; each route enforces its own, tighter limit (httpapi.BodyLimit)
	ReadTimeout     time.Duration // FIELDSYNC_READ_TIMEOUT
	WriteTimeout    time.Duration // FIELDSYNC_WRITE_TIMEOUT
	IdleTimeout     time.Duration // FIELDSYNC_IDLE_TIMEOUT
	ShutdownTimeout time.Duration // FIELDSYNC_SHUTDOWN_TIMEOUT: grace for in-flight requests
	// ProxyHeader names the header holding the client address (X-Forwarded-For)
	// behind a reverse proxy that overwrites it; empty uses the peer address.
	ProxyHeader string // FIELDSYNC_PROXY_HEADER

	TokenTTL              time.Duration // FIELDSYNC_TOKEN_TTL
	BcryptCost            int           // FIELDSYNC_BCRYPT_COST
	LoginFailuresPerEmail int           // FIELDSYNC_LOGIN_FAILURES_PER_EMAIL
	LoginFailuresPerAddr  int           // FIELDSYNC_LOGIN_FAILURES_PER_ADDR
	LoginFailureWindow    time.Duration // FIELDSYNC_LOGIN_FAILURE_WINDOW

	// ReplicaURL names an optional Postgres hot standby that reports, the
	// dashboard and exports read from while it is at most ReplicaMaxLag
	// behind the primary (docs/operations.md, "Read replicas").
	ReplicaURL    string        // FIELDSYNC_REPLICA_URL
	ReplicaMaxLag time.Duration // FIELDSYNC_REPLICA_MAX_LAG
	// DrainDelay is how long a server stopping on SIGTERM answers /readyz
	// with 503 while still serving, before it closes its listener: a load
	// balancer's health checks need that long to stop sending.
	DrainDelay time.Duration // FIELDSYNC_DRAIN_DELAY

	// ReportFoldInterval is how often the report deltas are folded into the
	// day tables (store.FoldReportDeltas); 0 turns folding off.
	ReportFoldInterval time.Duration // FIELDSYNC_REPORT_FOLD_INTERVAL
	// ReportSnapshotMaxAge is how old the organisation-wide figures a large
	// scope's coverage and orders reports read may be (reports.Snapshots);
	// 0 turns snapshots off. ReportSnapshotTerritories is the size of scope,
	// in territories, from which they are read.
	ReportSnapshotMaxAge      time.Duration // FIELDSYNC_REPORT_SNAPSHOT_MAX_AGE
	ReportSnapshotTerritories int           // FIELDSYNC_REPORT_SNAPSHOT_TERRITORIES
	// ReportKPISnapshotMaxAge is the same for the KPI report, whose load
	// costs several times coverage's (docs/reports.md "Large scopes:
	// snapshots"); 0 turns its snapshots off.
	ReportKPISnapshotMaxAge time.Duration // FIELDSYNC_REPORT_KPI_SNAPSHOT_MAX_AGE

	// StreamsPerUser bounds the change streams one user holds on one process:
	// an RxDB app opens one per collection (seven), on a phone and a tablet.
	StreamsPerUser int // FIELDSYNC_STREAMS_PER_USER
	// Stream tunes heartbeats and token re-checks of change streams (tests
	// shorten them).
	Stream mobileapi.StreamConfig
	// Attachments (docs/api.md, "Attachments"). BlobURL names the blob store:
	// empty for the directory BlobDir, or s3://bucket?endpoint=URL&region=R
	// with the keys in BlobAccessKey and BlobSecretKey. UploadDir stages
	// uploads in progress (always a local directory).
	BlobURL       string // FIELDSYNC_BLOB_URL
	BlobDir       string // FIELDSYNC_BLOB_DIR
	BlobAccessKey string // FIELDSYNC_BLOB_ACCESS_KEY, else AWS_ACCESS_KEY_ID
	BlobSecretKey string // FIELDSYNC_BLOB_SECRET_KEY, else AWS_SECRET_ACCESS_KEY
	UploadDir     string // FIELDSYNC_UPLOAD_DIR

	// WebhookTimeout bounds one webhook delivery attempt (a slower answer is
	// a failure); a delivery's lease is three times it, which is how long a
	// delivery held by a killed instance waits before another sends it again.
	// WebhookBackoff is the wait after a delivery's first failed attempt,
	// doubled after each further one up to webhooks.DefaultMaxBackoff.
	WebhookTimeout time.Duration // FIELDSYNC_WEBHOOK_TIMEOUT
	WebhookBackoff time.Duration // FIELDSYNC_WEBHOOK_BACKOFF
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{
		DatabaseURL: "fieldsync.db", DBMaxConns: 20, Addr: ":8080", Currency: "EUR", LogLevel: "info",
		CadenceA: 7, CadenceB: 14, CadenceC: 30, BodyLimit: 2 << 20, TimeZone: "UTC",
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ShutdownTimeout: 30 * time.Second,
		TokenTTL:        30 * 24 * time.Hour, BcryptCost: bcrypt.DefaultCost,
		LoginFailuresPerEmail: 5, LoginFailuresPerAddr: 20, LoginFailureWindow: 15 * time.Minute,
		ReportFoldInterval:   5 * time.Second,
		ReportSnapshotMaxAge: 30 * time.Second, ReportSnapshotTerritories: 1000,
		ReportKPISnapshotMaxAge: 2 * time.Minute,
		ReplicaMaxLag:           10 * time.Second,
		StreamsPerUser:          16,
		BlobDir:                 "fieldsync-blobs", UploadDir: "fieldsync-uploads",
		WebhookTimeout: webhooks.DefaultTimeout,
		WebhookBackoff: webhooks.DefaultBackoff,
	}
}

// ConfigFromEnv reads the defaults overridden by the environment (getenv is
// os.Getenv outside tests).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	e := envReader{getenv: getenv}
	e.str("FIELDSYNC_DATABASE_URL", &c.DatabaseURL)
	e.int("FIELDSYNC_DB_MAX_CONNS", &c.DBMaxConns)
	e.str("FIELDSYNC_ADDR", &c.Addr)
	e.str("FIELDSYNC_CURRENCY", &c.Currency)
	e.str("FIELDSYNC_LOG_LEVEL", &c.LogLevel)
	e.int("FIELDSYNC_CADENCE_A", &c.CadenceA)
	e.int("FIELDSYNC_CADENCE_B", &c.CadenceB)
	e.int("FIELDSYNC_CADENCE_C", &c.CadenceC)
	e.str("FIELDSYNC_TIMEZONE", &c.TimeZone)
	e.int("FIELDSYNC_BODY_LIMIT", &c.BodyLimit)
	e.dur("FIELDSYNC_READ_TIMEOUT", &c.ReadTimeout)
	e.dur("FIELDSYNC_WRITE_TIMEOUT", &c.WriteTimeout)
	e.dur("FIELDSYNC_IDLE_TIMEOUT", &c.IdleTimeout)
	e.dur("FIELDSYNC_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	e.str("FIELDSYNC_PROXY_HEADER", &c.ProxyHeader)
	e.dur("FIELDSYNC_TOKEN_TTL", &c.TokenTTL)
	e.int("FIELDSYNC_BCRYPT_COST", &c.BcryptCost)
	e.int("FIELDSYNC_LOGIN_FAILURES_PER_EMAIL", &c.LoginFailuresPerEmail)
	e.int("FIELDSYNC_LOGIN_FAILURES_PER_ADDR", &c.LoginFailuresPerAddr)
	e.dur("FIELDSYNC_LOGIN_FAILURE_WINDOW", &c.LoginFailureWindow)
	e.dur("FIELDSYNC_REPORT_FOLD_INTERVAL", &c.ReportFoldInterval)
	e.dur("FIELDSYNC_REPORT_SNAPSHOT_MAX_AGE", &c.ReportSnapshotMaxAge)
	e.int("FIELDSYNC_REPORT_SNAPSHOT_TERRITORIES", &c.ReportSnapshotTerritories)
	e.dur("FIELDSYNC_REPORT_KPI_SNAPSHOT_MAX_AGE", &c.ReportKPISnapshotMaxAge)
	e.str("FIELDSYNC_REPLICA_URL", &c.ReplicaURL)
	e.dur("FIELDSYNC_REPLICA_MAX_LAG", &c.ReplicaMaxLag)
	e.dur("FIELDSYNC_DRAIN_DELAY", &c.DrainDelay)
	e.int("FIELDSYNC_STREAMS_PER_USER", &c.StreamsPerUser)
	e.str("FIELDSYNC_BLOB_URL", &c.BlobURL)
	e.str("FIELDSYNC_BLOB_DIR", &c.BlobDir)
	e.str("FIELDSYNC_UPLOAD_DIR", &c.UploadDir)
	e.dur("FIELDSYNC_WEBHOOK_TIMEOUT", &c.WebhookTimeout)
	e.dur("FIELDSYNC_WEBHOOK_BACKOFF", &c.WebhookBackoff)
	e.str("AWS_ACCESS_KEY_ID", &c.BlobAccessKey)
	e.str("AWS_SECRET_ACCESS_KEY", &c.BlobSecretKey)
	e.str("FIELDSYNC_BLOB_ACCESS_KEY", &c.BlobAccessKey)
	e.str("FIELDSYNC_BLOB_SECRET_KEY", &c.BlobSecretKey)
	return c, errors.Join(e.errs...)
}

type envReader struct {
	getenv func(string) string
	errs   []error
}

func (e *envReader) str(name string, dst *string) {
	if v := e.getenv(name); v != "" {
		*dst = v
	}
}

func (e *envReader) int(name string, dst *int) {
	if v := e.getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s: not an integer: %q", name, v))
			return
		}
		*dst = n
	}
}

func (e *envReader) dur(name string, dst *time.Duration) {
	if v := e.getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s: not a duration (like 720h): %q", name, v))
			return
		}
		*dst = d
	}
}

// RegisterFlags binds the serve flags to c; their defaults are c's current
// values, so a flag given overrides the environment. Each flag's help names
// its environment variable; every setting ConfigFromEnv reads that an operator
// tunes per run has a flag (TestRegisterFlags_NameTheirVariables).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres:// URL or SQLite file path (env FIELDSYNC_DATABASE_URL)")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", c.DBMaxConns, "database connection pool size (env FIELDSYNC_DB_MAX_CONNS)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (env FIELDSYNC_ADDR)")
	fs.StringVar(&c.Currency, "currency", c.Currency, "default ISO 4217 currency of new orders (env FIELDSYNC_CURRENCY)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env FIELDSYNC_LOG_LEVEL)")
	fs.IntVar(&c.CadenceA, "cadence-a", c.CadenceA, "days between visits of class A accounts (env FIELDSYNC_CADENCE_A)")
	fs.IntVar(&c.CadenceB, "cadence-b", c.CadenceB, "days between visits of class B accounts (env FIELDSYNC_CADENCE_B)")
	fs.IntVar(&c.CadenceC, "cadence-c", c.CadenceC, "days between visits of class C accounts (env FIELDSYNC_CADENCE_C)")
	fs.StringVar(&c.TimeZone, "timezone", c.TimeZone, "IANA time zone of the organisation's days: reports, overdue, dashboard, target periods, order date filters (env FIELDSYNC_TIMEZONE)")
	fs.IntVar(&c.BodyLimit, "body-limit", c.BodyLimit, "maximum request body in bytes (env FIELDSYNC_BODY_LIMIT)")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout, "longest time to read a request, body included (env FIELDSYNC_READ_TIMEOUT)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", c.WriteTimeout, "longest time to write a response (env FIELDSYNC_WRITE_TIMEOUT)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "how long an idle keep-alive connection stays open (env FIELDSYNC_IDLE_TIMEOUT)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "grace period for in-flight requests on SIGTERM (env FIELDSYNC_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "lifetime of device tokens (env FIELDSYNC_TOKEN_TTL)")
	fs.StringVar(&c.ProxyHeader, "proxy-header", c.ProxyHeader, "header with the client address behind a trusted proxy (env FIELDSYNC_PROXY_HEADER)")
	fs.DurationVar(&c.ReportFoldInterval, "report-fold-interval", c.ReportFoldInterval, "how often report deltas are folded, 0: never (env FIELDSYNC_REPORT_FOLD_INTERVAL)")
	fs.DurationVar(&c.ReportSnapshotMaxAge, "report-snapshot-max-age", c.ReportSnapshotMaxAge, "how old the figures of a large scope's coverage and orders reports may be, 0: always read afresh (env FIELDSYNC_REPORT_SNAPSHOT_MAX_AGE)")
	fs.IntVar(&c.ReportSnapshotTerritories, "report-snapshot-territories", c.ReportSnapshotTerritories, "scopes of at least this many territories read report snapshots (env FIELDSYNC_REPORT_SNAPSHOT_TERRITORIES)")
	fs.DurationVar(&c.ReportKPISnapshotMaxAge, "report-kpi-snapshot-max-age", c.ReportKPISnapshotMaxAge, "how old the figures of a large scope's KPI report may be, 0: always read afresh (env FIELDSYNC_REPORT_KPI_SNAPSHOT_MAX_AGE)")
	fs.StringVar(&c.ReplicaURL, "replica-url", c.ReplicaURL, "postgres:// URL of a hot standby that reports, the dashboard and exports read from (env FIELDSYNC_REPLICA_URL)")
	fs.DurationVar(&c.ReplicaMaxLag, "replica-max-lag", c.ReplicaMaxLag, "a replica further behind than this is skipped until it catches up (env FIELDSYNC_REPLICA_MAX_LAG)")
	fs.DurationVar(&c.DrainDelay, "drain-delay", c.DrainDelay, "on SIGTERM, answer /readyz 503 this long before closing the listener (env FIELDSYNC_DRAIN_DELAY)")
	fs.IntVar(&c.StreamsPerUser, "streams-per-user", c.StreamsPerUser, "change streams one user may hold open on this server (env FIELDSYNC_STREAMS_PER_USER)")
	fs.StringVar(&c.BlobURL, "blob-url", c.BlobURL, "attachment blob store: empty for --blob-dir, or s3://bucket?endpoint=URL (env FIELDSYNC_BLOB_URL)")
	fs.StringVar(&c.BlobDir, "blob-dir", c.BlobDir, "directory of attachment blobs when --blob-url is empty (env FIELDSYNC_BLOB_DIR)")
	fs.StringVar(&c.UploadDir, "upload-dir", c.UploadDir, "directory staging attachment uploads in progress (env FIELDSYNC_UPLOAD_DIR)")
	fs.DurationVar(&c.WebhookTimeout, "webhook-timeout", c.WebhookTimeout, "longest wait for a webhook receiver's answer; a delivery held by a killed instance is sent again after 3 times this (env FIELDSYNC_WEBHOOK_TIMEOUT)")
	fs.DurationVar(&c.WebhookBackoff, "webhook-backoff", c.WebhookBackoff, "wait before retrying a failed webhook delivery, doubled after each failure up to 10m (env FIELDSYNC_WEBHOOK_BACKOFF)")
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.DatabaseURL != "", "database URL is empty")
	check(c.Addr != "", "listen address is empty")
	check(len(c.Currency) == 3 && strings.ToUpper(c.Currency) == c.Currency, "currency %q is not an ISO 4217 code", c.Currency)
	_, err := c.SlogLevel()
	check(err == nil, "log level %q is not debug, info, warn or error", c.LogLevel)
	// A year at most keeps the reports' exact visits_required arithmetic
	// (over the cadences' common multiple) far inside int64.
	check(c.CadenceA > 0 && c.CadenceB > 0 && c.CadenceC > 0 && max(c.CadenceA, c.CadenceB, c.CadenceC) <= 366,
		"cadences must be between 1 and 366 days")
	_, tzErr := time.LoadLocation(c.TimeZone)
	// "Local" would make the days depend on the machine the server runs on.
	check(c.TimeZone != "" && c.TimeZone != "Local" && tzErr == nil, "time zone %q is not an IANA time zone", c.TimeZone)
	check(c.BodyLimit >= 1<<20, "body limit must be at least 1 MiB (a push may carry 1 MiB of JSON)")
	check(c.TokenTTL > 0, "token TTL must be positive")
	check(c.BcryptCost >= bcrypt.MinCost && c.BcryptCost <= bcrypt.MaxCost, "bcrypt cost out of range")
	check(c.DBMaxConns > 0, "database max connections must be positive")
	check(c.ReportFoldInterval >= 0, "report fold interval must not be negative")
	check(c.ReportSnapshotMaxAge >= 0, "report snapshot max age must not be negative")
	check(c.ReportKPISnapshotMaxAge >= 0, "report KPI snapshot max age must not be negative")
	check(c.ReportSnapshotTerritories >= 1, "report snapshot territories must be at least 1")
	check(c.ReplicaURL == "" || strings.HasPrefix(c.ReplicaURL, "postgres://") || strings.HasPrefix(c.ReplicaURL, "postgresql://"),
		"replica URL must be a postgres:// URL")
	check(c.ReplicaMaxLag > 0, "replica max lag must be positive")
	check(c.DrainDelay >= 0, "drain delay must not be negative")
	// A receiver slower than the longest wait between attempts is down, not
	// slow; and the lease (three times the timeout) holds a killed instance's
	// deliveries back at most half an hour.
	check(c.WebhookTimeout > 0 && c.WebhookTimeout <= webhooks.DefaultMaxBackoff,
		"webhook timeout must be positive and at most %s", webhooks.DefaultMaxBackoff)
	check(c.WebhookBackoff > 0 && c.WebhookBackoff <= webhooks.DefaultMaxBackoff,
		"webhook backoff must be positive and at most %s (the longest wait between attempts)", webhooks.DefaultMaxBackoff)
	return errors.Join(errs...)
}

// SlogLevel parses LogLevel.
func (c Config) SlogLevel() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}

// AuthConfig is the part of the configuration the auth service needs.
func (c Config) AuthConfig() auth.Config {
	return auth.Config{TokenTTL: c.TokenTTL, BcryptCost: c.BcryptCost,
		MaxFailuresPerEmail: c.LoginFailuresPerEmail, MaxFailuresPerAddress: c.LoginFailuresPerAddr,
		FailureWindow: c.LoginFailureWindow}
}

// String prints the configuration with the database password masked.
func (c Config) String() string {
	return fmt.Sprintf("database=%s replica=%s addr=%s currency=%s log_level=%s cadence=%d/%d/%d body_limit=%d token_ttl=%s",
		RedactDSN(c.DatabaseURL), RedactDSN(c.ReplicaURL), c.Addr, c.Currency, c.LogLevel, c.CadenceA, c.CadenceB, c.CadenceC,
		c.BodyLimit, c.TokenTTL)
}

// RedactDSN masks the password of a database URL (and any password parameter).
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		if i := strings.Index(dsn, "://"); i >= 0 {
			return dsn[:i+3] + "(unparseable, hidden)"
		}
		return dsn
	}
	if u.Scheme == "" {
		return dsn
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
