package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
)

// runServe implements `fieldsync serve`: a new database needs no separate
// migrate step, and a database newer than this binary is refused. The address
// is taken before migrating, so a port already in use is reported at once.
// A SQLite file that does not exist is created (a new database needs no
// separate step, docs/protocol.md §8) with a loud warning that it is empty,
// so a mistyped path explains the failed logins that follow; --create=false
// refuses it instead.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := server.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	createDefault, err := envBool("FIELDSYNC_CREATE_DB", true)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	create := fs.Bool("create", createDefault, "create the SQLite file if it does not exist, with a warning that it is empty; false refuses a missing file (env FIELDSYNC_CREATE_DB)")
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	creating, err := checkDatabase(cfg.DatabaseURL, *create)
	if err != nil {
		return err
	}
	if path, _ := sqlitePath(cfg.DatabaseURL); path != "" {
		lock, err := lockSQLite(path)
		if err != nil {
			return err
		}
		if lock != nil {
			defer lock.Close()
		}
	}
	level, _ := cfg.SlogLevel() // checked by Validate
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	logger.Info("starting", "config", cfg.String())
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (another server running? set --addr or FIELDSYNC_ADDR): %w", cfg.Addr, err)
	}
	defer ln.Close() // Serve closes it too; this covers the early returns
	db, n, err := openMigrated(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	logger.Info("database ready", "dialect", string(db.Dialect), "migrations_applied", n)
	if creating {
		logger.Warn(newDatabaseHint, "database", cfg.DatabaseURL)
	}
	if err := db.Warm(ctx); err != nil {
		return err
	}
	srv, err := server.New(cfg, db, logger)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// envBool reads a boolean environment variable; unset is def.
func envBool(name string, def bool) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: not a boolean (true or false): %q", name, v)
	}
	return b, nil
}

// openMigrated opens the configured database, refuses a schema newer than this
// binary, and applies pending migrations.
func openMigrated(ctx context.Context, cfg server.Config, logger *slog.Logger) (*store.DB, int, error) {
	if _, err := sqlitePath(cfg.DatabaseURL); err != nil {
		return nil, 0, err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: cfg.DBMaxConns, Logger: logger})
	if err != nil {
		return nil, 0, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		_ = db.Close()
		return nil, 0, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		_ = db.Close()
		return nil, 0, err
	}
	return db, n, nil
}

// openExisting is openMigrated for the commands that only make sense on a
// database that is already there (compact, aggregates): it refuses a missing
// SQLite file instead of creating an empty one.
func openExisting(ctx context.Context, cfg server.Config, logger *slog.Logger) (*store.DB, int, error) {
	if _, err := checkDatabase(cfg.DatabaseURL, false); err != nil {
		return nil, 0, err
	}
	return openMigrated(ctx, cfg, logger)
}

// configFor reads the environment and the shared --database-url flag of the
// maintenance commands.
func configFor(fs *flag.FlagSet) (*server.Config, error) {
	cfg, err := server.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "postgres:// URL or SQLite file (env FIELDSYNC_DATABASE_URL)")
	return &cfg, nil
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func printf(w io.Writer, format string, args ...any) error {
	_, err := fmt.Fprintf(w, format, args...)
	return err
}
