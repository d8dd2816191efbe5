// Package blob stores attachment bytes: a local directory by default, or an
// S3-compatible object store. Keys are content addresses chosen by the
// caller; every method streams, none holds a whole object in memory.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// ErrNotFound: no object under the key.
var ErrNotFound = errors.New("blob not found")

// Store is where blobs live.
type Store interface {
	// Put stores size bytes of r under key. Writing a key that exists
	// replaces it; callers write a key only with the bytes its name hashes.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open reads length bytes from offset (length < 0: to the end).
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Exists reports whether key holds an object.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// S3Credentials are the keys of an S3-compatible store (from the environment,
// never from the URL, so they do not end up in logs).
type S3Credentials struct {
	AccessKey, SecretKey string
}

// Open opens the store named by rawURL: empty or a path (or file://path) is a
// local directory, created if missing; s3://bucket?endpoint=URL&region=R is
// an S3-compatible store (path-style requests when an endpoint is given).
func Open(ctx context.Context, rawURL, defaultDir string, creds S3Credentials) (Store, error) {
	switch {
	case rawURL == "":
		return NewDir(defaultDir)
	case strings.HasPrefix(rawURL, "s3://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("blob url: %w", err)
		}
		return NewS3(ctx, S3Config{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/"),
			Endpoint: u.Query().Get("endpoint"), Region: u.Query().Get("region"), Credentials: creds})
	case strings.HasPrefix(rawURL, "file://"):
		return NewDir(strings.TrimPrefix(rawURL, "file://"))
	case strings.Contains(rawURL, "://"):
		return nil, fmt.Errorf("blob url: unsupported scheme in %q (use a path, file:// or s3://)", redact(rawURL))
	}
	return NewDir(rawURL)
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "<unparsable>"
}
