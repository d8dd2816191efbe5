package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/fieldsync/fieldsync/store"
)

// errDrift is returned by `aggregates check` when the tables differ, so scripts
// can tell "checked and wrong" (exit 1) from "checked and right" (exit 0).
var errDrift = errors.New("report tables differ from the base tables")

// runAggregates checks or rebuilds the report tables that triggers keep in step
// with accounts, visits and orders (migration 00004). Nothing in the server
// needs either; they are for an operator who wrote to the base tables with
// triggers disabled, or who doubts a report.
func runAggregates(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "rebuild") {
		return fmt.Errorf("%w: fieldsync aggregates check|rebuild\n%s", errUsage, usage)
	}
	fs := flag.NewFlagSet("aggregates "+args[0], flag.ContinueOnError)
	cfg, err := configFor(fs)
	if err != nil {
		return err
	}
	limit := fs.Int("limit", 20, "check: differing rows to print per table and side")
	if help, err := parseFlags(fs, args[1:], stdout); help || err != nil {
		return err
	}
	db, _, err := openExisting(ctx, *cfg, quietLogger())
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "rebuild" {
		if err := store.RebuildReportAggregates(ctx, db); err != nil {
			return fmt.Errorf("aggregates rebuild: %w", err)
		}
		return printf(stdout, "report tables rebuilt\n")
	}
	drift, err := store.ReportAggregateDrift(ctx, db, *limit)
	if err != nil {
		return fmt.Errorf("aggregates check: %w", err)
	}
	for _, d := range drift {
		if err := printf(stdout, "%s\n", d); err != nil {
			return err
		}
	}
	if len(drift) > 0 {
		return fmt.Errorf("aggregates check: %w (run `fieldsync aggregates rebuild`)", errDrift)
	}
	return printf(stdout, "report tables match the base tables\n")
}
