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

	"github.com/fieldsync/fieldsync/domain"
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
	// Gorm is the connection pool. Only store and tests that inspect tables
	// directly use it; every other package goes through Tx.
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
// each the statements of the bearer check and of a pull that the database
// answers (warmPull), so that a burst of requests finds warm Postgres
// backends instead of opening them on demand. Opening forty backends at
// once, each loading its catalog caches, on a small machine is what made the
// first pulls after a start take one to two seconds; and a backend that
// opened but never ran a pull's statements still paid 25-35 ms at its first
// one, forty times over in the first second after a start (docs/benchmarks.md,
// "The empty-pull tail"). SQLite needs no warming.
func (db *DB) Warm(ctx context.Context) error {
	if db.Dialect != Postgres {
		return nil
	}
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return fmt.Errorf("warm pool: %w", err)
	}
	n := sqlDB.Stats().MaxOpenConnections
	txs := make([]*Tx, 0, n)
	defer func() {
		for _, tx := range txs {
			_ = tx.Rollback() // the connection goes back to the pool, idle and warm
		}
	}()
	// One at a time, each transaction held open so that the next one gets a
	// connection of its own: warming must not become the storm it prevents.
	for range n {
		tx, err := db.BeginTx(ctx)
		if err != nil {
			return fmt.Errorf("warm pool: %w", err)
		}
		txs = append(txs, tx)
		if err := warmPull(tx); err != nil {
			return fmt.Errorf("warm pool: %w", err)
		}
	}
	return nil
}

// customPlanRuns is how many executions of a prepared statement Postgres
// plans for their parameters before it considers a generic plan (its
// plan_cache_mode=auto, documented under PREPARE).
const customPlanRuns = 5

// warmPull runs, for no one, the statements of the bearer check and of an
// empty pull (sync/engine's pullPage), through the functions that run them,
// so that they stay the same statements. The bearer check runs
// customPlanRuns times first: Postgres plans a prepared statement anew for
// its parameters the first five times a backend runs it and only then
// weighs a plan made once for all, which for this primary-key lookup it
// keeps; planning it anew cost a cold server's first polls 1-2 ms each.
// The pull's statements need no such repetition: SnapshotBound makes its
// transaction plan them once for all.
func warmPull(tx *Tx) error {
	const nobody = "00000000-0000-0000-0000-000000000000"
	for range customPlanRuns {
		if _, err := GetTokenOwner(tx, ""); err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
			return err
		}
	}
	if _, _, err := SnapshotBound(tx); err != nil {
		return err
	}
	if _, err := LoadVisibility(tx, VisibilityQuery{UserID: nobody}); err != nil {
		return err
	}
	if _, err := LoadPullStart(tx, nobody, domain.Scope{}); err != nil {
		return err
	}
	if _, err := ReadLog(tx, LogQuery{Keys: []string{"u:" + nobody}, Tables: domain.SyncedTables[:1], Limit: 1, Bound: 1}); err != nil {
		return err
	}
	return tx.g.Exec("SELECT 1 FROM devices WHERE user_id IS NULL").Error
}

// SQL returns the connection pool as database/sql sees it: for its statistics
// (the server's metrics) and for administrative statements that run outside
// any transaction (VACUUM, CREATE DATABASE in the benchmark tool).
func (db *DB) SQL() (*sql.DB, error) {
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return nil, fmt.Errorf("connection pool: %w", err)
	}
	return sqlDB, nil
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

// Tx is one unit of work on the database: a transaction (InTx, ReadTx) or,
// from Autocommit, statements that each commit on their own. It carries the
// dialect and the clock with it, so every write of one transaction stamps the
// same time and no caller needs to know which database it talks to. Every
// store function takes one; packages above store never see GORM.
type Tx struct {
	g       *gorm.DB
	dialect Dialect
	now     time.Time
	// pending collects the scope keys a transaction from InTx touched
	// (NoteKeys), announced when it commits; nil elsewhere.
	pending *pendingKeys
}

// Now is the time of this unit of work, read once from the store's clock when
// it began: every row it writes carries it.
func (tx *Tx) Now() time.Time { return tx.now }

// Dialect names the database behind tx.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// At returns tx with its clock set to now, for writers of data generated as
// of a date of their own (fixtures, whose rows must not depend on when they
// are loaded).
func (tx *Tx) At(now time.Time) *Tx {
	c := *tx
	c.now = now
	return &c
}

func (db *DB) wrap(g *gorm.DB) *Tx { return &Tx{g: g, dialect: db.Dialect, now: db.Now()} }

// InTx runs fn in one transaction on ctx: committed when fn returns nil,
// rolled back otherwise. The scope keys the transaction touched (NoteKeys)
// are announced when it commits: on Postgres by pg_notify inside it, on
// SQLite to the OnCommit function after it.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	pending := &pendingKeys{}
	var keys []string
	err := db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		tx := db.wrap(g)
		tx.pending = pending
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
func (db *DB) ReadTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Dialect == Postgres {
		return db.Gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error { return fn(db.wrap(g)) },
			&sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	// SQLite transactions are immediate (they take the write lock); a read runs
	// without one and relies on WAL for per-statement consistency.
	return fn(db.wrap(db.Gorm.WithContext(ctx)))
}

// Autocommit returns a Tx whose statements each commit on their own, for a
// single read or write that needs no transaction around it (the bearer check
// on every request, a device's last-pull stamp): no BEGIN and COMMIT round
// trips.
func (db *DB) Autocommit(ctx context.Context) *Tx { return db.wrap(db.Gorm.WithContext(ctx)) }

// SavePoint marks a point of the transaction that RollbackTo returns to: push
// applies each mutation after one, so a rejected mutation leaves nothing.
func (tx *Tx) SavePoint(name string) error {
	if err := tx.g.SavePoint(name).Error; err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	return nil
}

// RollbackTo undoes everything tx did since SavePoint(name).
func (tx *Tx) RollbackTo(name string) error {
	if err := tx.g.RollbackTo(name).Error; err != nil {
		return fmt.Errorf("rollback to savepoint: %w", err)
	}
	return nil
}

// CommitWithoutFlush lets this transaction commit without waiting for its WAL
// flush (Postgres synchronous_commit off, for this transaction only): a crash
// may lose it, so only writes that can afford that (last-pull stamps) use it.
// Nothing to do on SQLite.
func (tx *Tx) CommitWithoutFlush() error {
	if tx.dialect != Postgres {
		return nil
	}
	if err := tx.g.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
		return fmt.Errorf("commit without flush: %w", err)
	}
	return nil
}

// BeginTx starts a transaction the caller ends with Commit or Rollback, for
// the rare caller that must hold one open across other work (tests that force
// an interleaving); everything else uses InTx.
func (db *DB) BeginTx(ctx context.Context) (*Tx, error) {
	g := db.Gorm.WithContext(ctx).Begin()
	if g.Error != nil {
		return nil, fmt.Errorf("begin: %w", g.Error)
	}
	return db.wrap(g), nil
}

// Commit commits a transaction from BeginTx.
func (tx *Tx) Commit() error { return tx.g.Commit().Error }

// Rollback rolls back a transaction from BeginTx; after Commit it does nothing.
func (tx *Tx) Rollback() error { return tx.g.Rollback().Error }

// Query runs a read-only statement written outside store and scans its rows
// into dest (a pointer to a slice of structs, or to one value). It is how
// reports, the second storage package, runs its own SQL on a Tx. Parameters
// may be positional (?) or named (@name with sql.Named): a statement with more
// than a couple of parameters should name them.
func (tx *Tx) Query(dest any, query string, args ...any) error {
	return tx.g.Raw(query, args...).Scan(dest).Error
}

// WorkMem raises the memory Postgres may give each sort and hash of this
// transaction's statements (SET LOCAL work_mem), for a report that groups
// more than the default fits. Nothing to do on SQLite.
func (tx *Tx) WorkMem(size string) error {
	if tx.dialect != Postgres {
		return nil
	}
	if err := tx.g.Exec("SET LOCAL work_mem = '" + size + "'").Error; err != nil {
		return fmt.Errorf("work_mem: %w", err)
	}
	return nil
}

// NoJIT turns Postgres's JIT compilation off for this transaction (SET LOCAL
// jit = off): a statement that groups many rows once, costed far above
// jit_above_cost, spends more compiling than it gains. Nothing to do on
// SQLite.
func (tx *Tx) NoJIT() error {
	if tx.dialect != Postgres {
		return nil
	}
	if err := tx.g.Exec("SET LOCAL jit = off").Error; err != nil {
		return fmt.Errorf("jit: %w", err)
	}
	return nil
}
