package main

import (
	"context"
	"flag"
	"io"

	"github.com/fieldsync/fieldsync/server"
)

// runMigrate implements `fieldsync migrate`.
func runMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg, err := configFor(fs)
	if err != nil {
		return err
	}
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	db, n, err := openMigrated(ctx, *cfg, quietLogger())
	if err != nil {
		return err
	}
	defer db.Close()
	return printf(stdout, "applied %d migration(s) to %s\n", n, server.RedactDSN(cfg.DatabaseURL))
}
