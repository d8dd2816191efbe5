package attachments

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ExpireUploads removes staged uploads untouched since before: abandoned
// half-way, or finished (their bytes already moved). It returns how many.
func (s *Service) ExpireUploads(ctx context.Context, before time.Time) (int, error) {
	infos, err := filepath.Glob(filepath.Join(s.cfg.StagingDir, "*.info"))
	if err != nil {
		return 0, fmt.Errorf("expire uploads: %w", err)
	}
	n := 0
	for _, info := range infos {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		id := strings.TrimSuffix(filepath.Base(info), ".info")
		st, err := os.Stat(filepath.Join(s.cfg.StagingDir, id))
		if err == nil && st.ModTime().After(before) {
			continue
		}
		s.discard(id)
		n++
	}
	return n, nil
}

// CompactBlobs removes the blobs (and thumbnails) no attachment has named
// since before. It returns how many.
func (s *Service) CompactBlobs(ctx context.Context, before time.Time) (int, error) {
	shas, err := s.db.OrphanedBlobs(ctx, before)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sha := range shas {
		// The record goes first: a blob whose record is gone is unreachable,
		// while a record whose blob is gone would be served as missing.
		forgot, err := s.db.ForgetBlob(ctx, sha)
		if err != nil {
			return n, err
		}
		if !forgot {
			continue // adopted meanwhile
		}
		for _, key := range []string{blobKey(sha), thumbKey(sha)} {
			if err := s.blobs.Delete(ctx, key); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}
