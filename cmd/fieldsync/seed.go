package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/fieldsync/fieldsync/fixtures"
)

// runSeed implements `fieldsync seed`: a deterministic organisation of
// about 300 × scale accounts with months of history. --demo gives six users
// well-known logins and prints them; on a database already holding the demo
// organisation it only prints them. Other generated users' password is
// fixtures.DefaultPassword. Passwords are hashed at FIELDSYNC_BCRYPT_COST, as
// `user add` and the server hash them.
func runSeed(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	cfg, err := configFor(fs)
	if err != nil {
		return err
	}
	fs.StringVar(&cfg.DatabaseURL, "database", cfg.DatabaseURL, "same as --database-url")
	demo := fs.Bool("demo", false, "create the demo logins and print them (idempotent)")
	scale := fs.Int("scale", 1, "organisation size: about 300 x N accounts, 10 visits each")
	seed := fs.Int64("seed", 1, "random seed: the same seed gives the same organisation")
	months := fs.Int("months", 3, "months of visit history")
	workers := fs.Int("workers", 2, "regions written at once on Postgres (SQLite: always 1)")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *scale < 1 || *months < 1 {
		return fmt.Errorf("%w: seed: --scale and --months must be at least 1", errUsage)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	db, _, err := openMigrated(ctx, *cfg, quietLogger())
	if err != nil {
		return err
	}
	defer db.Close()
	sum, err := fixtures.Generate(ctx, db, fixtures.Options{
		Scale: *scale, Seed: *seed, Demo: *demo, Months: *months, Workers: *workers, Currency: cfg.Currency, Logger: logger,
		HashCost: cfg.BcryptCost,
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := printf(stdout, "seed: %s\n", sum); err != nil {
		return err
	}
	if len(sum.Logins) == 0 {
		return nil
	}
	if err := printf(stdout, "\nDemo logins (other users' password: %s):\n", fixtures.DefaultPassword); err != nil {
		return err
	}
	return fixtures.PrintLogins(stdout, sum.Logins)
}
