package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/fieldsync/fieldsync/attachments"
	"github.com/fieldsync/fieldsync/blob"
	"github.com/fieldsync/fieldsync/server"
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
	blobRetain := fs.Duration("blob-retain", 30*24*time.Hour, "keep the bytes of deleted attachments this long")
	uploadTTL := fs.Duration("upload-ttl", 7*24*time.Hour, "expire uploads untouched this long")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	if *retain < time.Hour {
		return fmt.Errorf("%w: compact: --retain must be at least 1h", errUsage)
	}
	db, _, err := openExisting(ctx, *cfg, quietLogger())
	if err != nil {
		return err
	}
	defer db.Close()
	// With several instances, a compaction scheduled on each must run once:
	// the one that finds another running leaves the work to it.
	led, err := store.WithLeader(ctx, db, store.LeaderCompact, func(ctx context.Context) error {
		var removed int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			removed, err = store.Compact(tx, tx.Now().Add(-*retain))
			return err
		})
		if err != nil {
			return fmt.Errorf("compact: %w", err)
		}
		if err := printf(stdout, "removed %d tombstone(s) older than %s\n", removed, *retain); err != nil {
			return err
		}
		return compactAttachments(ctx, *cfg, db, *blobRetain, *uploadTTL, stdout)
	})
	if err == nil && !led {
		return printf(stdout, "another compaction is running on this database; nothing done\n")
	}
	return err
}

// compactAttachments removes the blobs no attachment has named for
// blobRetain and the uploads untouched for uploadTTL.
func compactAttachments(ctx context.Context, cfg server.Config, db *store.DB, blobRetain, uploadTTL time.Duration, stdout io.Writer) error {
	blobs, err := blob.Open(ctx, cfg.BlobURL, cfg.BlobDir, blob.S3Credentials{AccessKey: cfg.BlobAccessKey, SecretKey: cfg.BlobSecretKey})
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	svc := attachments.New(db, blobs, nil, attachments.Config{StagingDir: cfg.UploadDir}, quietLogger())
	nb, err := svc.CompactBlobs(ctx, db.Now().Add(-blobRetain))
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	nu, err := svc.ExpireUploads(ctx, db.Now().Add(-uploadTTL))
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return printf(stdout, "removed %d attachment blob(s) unused for %s and %d upload(s) untouched for %s\n", nb, blobRetain, nu, uploadTTL)
}
