// Package attachments is the byte lane of attachments: resumable uploads
// (tus, served by tusd) that are verified against the synced row's sha256,
// sniffed, stripped of metadata and stored content-addressed in a blob store;
// downloads with the parent row's permissions; thumbnails; and the expiry of
// abandoned uploads and orphaned blobs. The metadata rows themselves are
// synced by the engine like any other row.
package attachments

import (
	"context"
	"log/slog"
	"time"

	"github.com/fieldsync/fieldsync/blob"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// ScopeFunc resolves a user's sync scope (the engine's Scope).
type ScopeFunc func(ctx context.Context, userID string) (domain.Scope, error)

// Config tunes the service.
type Config struct {
	// StagingDir holds uploads in progress (tusd's file store). It must be
	// local to the process serving the upload: see docs/api.md.
	StagingDir string
	// BasePath is the URL path of the upload collection, with a trailing slash.
	BasePath string
	// UploadTTL: an unfinished upload untouched for this long is expired.
	UploadTTL time.Duration
}

// Service serves the byte lane.
type Service struct {
	db     *store.DB
	blobs  blob.Store
	scope  ScopeFunc
	cfg    Config
	log    *slog.Logger
	thumbs chan struct{} // bounds concurrent thumbnail decodes (memory)
}

// New returns the service. The staging directory is created by the first
// upload, so a server that never receives one leaves nothing behind.
func New(db *store.DB, blobs blob.Store, scope ScopeFunc, cfg Config, logger *slog.Logger) *Service {
	if cfg.UploadTTL == 0 {
		cfg.UploadTTL = 7 * 24 * time.Hour
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, blobs: blobs, scope: scope, cfg: cfg, log: logger, thumbs: make(chan struct{}, 2)}
}

// blobKey and thumbKey name a blob's objects: fanned out by the first two
// hex digits so no directory holds millions of files.
func blobKey(sha string) string  { return "blobs/" + sha[:2] + "/" + sha }
func thumbKey(sha string) string { return "thumbs/" + sha[:2] + "/" + sha + ".jpg" }
