package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
)

// runServe implements `fieldsync serve`: a new database needs no separate
// migrate step, and a database newer than this binary is refused.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := server.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	level, _ := cfg.SlogLevel() // checked by Validate
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	logger.Info("starting", "config", cfg.String())
	db, n, err := openMigrated(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	logger.Info("database ready", "dialect", string(db.Dialect), "migrations_applied", n)
	if err := db.Warm(ctx); err != nil {
		return err
	}
	srv, err := server.New(cfg, db, logger)
	if err != nil {
		return err
	}
	if err := srv.Listen(ctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// openMigrated opens the configured database, refuses a schema newer than this
// binary, and applies pending migrations.
func openMigrated(ctx context.Context, cfg server.Config, logger *slog.Logger) (*store.DB, int, error) {
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
