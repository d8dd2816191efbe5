package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

//go:embed migrations
var migrationsFS embed.FS

// Dialect names the database behind a DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is an open database. It is safe for concurrent use.
type DB struct {
	Gorm    *gorm.DB
	Dialect Dialect
	// Now is the one clock of the store; tests may replace it.
	Now func() time.Time
	// dsn reopens the database for the change listener (ListenChanges).
	dsn string
	// onCommit receives the keys of each committed transaction (SQLite).
	onCommit func(keys []string)
}

// Options tune Open.
type Options struct {
	MaxOpenConns int
	Logger       *slog.Logger
}

// IsPostgresURL reports whether dsn names a Postgres database rather than a
// SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to dsn: a postgres:// URL or a SQLite file path.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	cfg := &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var (
		g       *gorm.DB
		err     error
		dialect Dialect
	)
	if IsPostgresURL(dsn) {
		dialect = Postgres
		g, err = gorm.Open(pgDialector{postgres.New(postgres.Config{DSN: dsn}).(*postgres.Dialector)}, cfg)
	} else {
		dialect = SQLite
		g, err = gorm.Open(sqliteDialector{sqlite.Open(sqliteDSN(dsn)).(*sqlite.Dialector)}, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	maxOpen := opt.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 20
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	// Idle connections are kept (no idle timeout): a pool that shrinks in a
	// quiet hour meets the next burst of polls with cold connections, and each
	// of those costs a Postgres backend start and its catalog caches; see Warm.
	sqlDB.SetConnMaxIdleTime(0)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ping %s database: %w", dialect, err)
	}
	return &DB{Gorm: g, Dialect: dialect, dsn: dsn, Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}, nil
}

// sqliteDSN turns a file path into a DSN with the settings Fieldsync relies on:
// WAL so readers never block the writer, immediate transactions so two writers
// queue on the lock instead of deadlocking on upgrade, foreign keys on.
func sqliteDSN(path string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=1&_txlock=immediate&_synchronous=NORMAL"
}

// Warm opens every connection the pool may hold (MaxOpenConns) and runs on
// each the statements that a pull runs first, so that a burst of requests
// finds warm Postgres backends instead of opening them on demand. Opening forty
// backends at once, each loading its catalog caches, on a small machine is
// what made the first pulls after a start take one to two seconds
// (docs/benchmarks.md, "The empty-pull tail"). SQLite needs no warming.
func (db *DB) Warm(ctx context.Context) error {
	if db.Dialect != Postgres {
		return nil
	}
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return fmt.Errorf("warm pool: %w", err)
	}
	n := sqlDB.Stats().MaxOpenConnections
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close() // back to the pool, idle and warm
		}
	}()
	// One at a time: warming must not become the storm it prevents.
	for range n {
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("warm pool: %w", err)
		}
		conns = append(conns, c)
		for _, q := range warmStatements {
			if _, err := c.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("warm pool: %s: %w", q, err)
			}
		}
	}
	return nil
}

// warmStatements touch what the bearer check and an empty pull read first.
var warmStatements = []string{
	"SELECT fieldsync_pull_bound()",
	"SELECT 1 FROM tokens JOIN users ON users.id = tokens.user_id WHERE tokens.token_hash = ''",
	"SELECT 1 FROM devices WHERE user_id IS NULL",
	"SELECT 1 FROM sync_horizon WHERE id = 1",
}

// Close closes the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks the database is reachable.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

func (db *DB) migrations() (fs.FS, goose.Dialect, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, "", err
	}
	if db.Dialect == Postgres {
		return sub, goose.DialectPostgres, nil
	}
	return sub, goose.DialectSQLite3, nil
}

func (db *DB) provider() (*goose.Provider, error) {
	fsys, dialect, err := db.migrations()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, sqlDB, fsys)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate %s: %w", db.Dialect, err)
	}
	return len(res), nil
}

// ErrUnknownSchema means the database was migrated by a newer Fieldsync: this
// binary does not know its schema and must not write to it.
var ErrUnknownSchema = errors.New("database schema is newer than this binary")

// CheckSchema refuses a database whose schema version this binary does not know.
func (db *DB) CheckSchema(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	sources := p.ListSources()
	latest := int64(0)
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	if current > latest {
		return fmt.Errorf("%w: database at %d, binary knows up to %d", ErrUnknownSchema, current, latest)
	}
	return nil
}

// Tx runs fn in one transaction on ctx. The scope keys the transaction
// touched (NoteKeys) are announced when it commits: on Postgres by pg_notify
// inside it, on SQLite to the OnCommit function after it.
func (db *DB) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	pending := &pendingKeys{}
	ctx = context.WithValue(ctx, pendingKey{}, pending)
	var keys []string
	err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		keys = pending.list()
		if len(keys) > 0 && db.Dialect == Postgres {
			return notifyKeys(tx, keys)
		}
		return nil
	})
	if err == nil && len(keys) > 0 && db.onCommit != nil {
		db.onCommit(keys)
	}
	return err
}

// ReadTx runs fn on a consistent snapshot where the dialect offers one cheaply.
func (db *DB) ReadTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.Dialect == Postgres {
		return db.Gorm.WithContext(ctx).Transaction(fn, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	// SQLite transactions are immediate (they take the write lock); a read runs
	// without one and relies on WAL for per-statement consistency.
	return fn(db.Gorm.WithContext(ctx))
}
