package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/fieldsync/fieldsync/store"
)

// runCompact drops change-log tombstones older than the retention. Devices whose
// cursor is behind the newest tombstone dropped get a reset on their next pull,
// so the retention should exceed how long a device may stay offline.
func runCompact(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("compact", flag.ContinueOnError)
	cfg, err := configFor(fs)
	if err != nil {
		return err
	}
	retain := fs.Duration("retain", 90*24*time.Hour, "keep tombstones younger than this")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *retain < time.Hour {
		return fmt.Errorf("%w: compact: --retain must be at least 1h", errUsage)
	}
	db, _, err := openMigrated(ctx, *cfg, quietLogger())
	if err != nil {
		return err
	}
	defer db.Close()
	var removed int64
	err = db.InTx(ctx, func(tx *store.Tx) error {
		removed, err = store.Compact(tx, tx.Now().Add(-*retain))
		return err
	})
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return printf(stdout, "removed %d tombstone(s) older than %s\n", removed, *retain)
}
