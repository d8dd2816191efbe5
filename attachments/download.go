package attachments

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fieldsync/fieldsync/blob"
	"github.com/fieldsync/fieldsync/domain"
)

// Content is one stored object to send: its size, type and strong ETag
// (the sha256 of the stored bytes), and how to read a range of it.
type Content struct {
	Size        int64
	ContentType string
	ETag        string
	open        func(ctx context.Context, offset, length int64) (io.ReadCloser, error)
}

// Open reads length bytes of the content from offset (length < 0: to the end).
func (c Content) Open(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
	return c.open(ctx, offset, length)
}

// Variant is what of an attachment is asked for.
type Variant int

const (
	Original Variant = iota
	Thumbnail
)

func notFound() *domain.Error { return domain.RowNotFound(domain.TableAttachments) }

// Content returns the bytes of attachment id (or its thumbnail) for userID:
// an attachment outside the user's scope, one whose bytes have not arrived
// and an unknown one are all not found.
func (s *Service) Content(ctx context.Context, userID, id string, v Variant) (Content, error) {
	if !domain.IsUUID(id) {
		return Content{}, notFound()
	}
	a, keys, err := s.db.AttachmentWithKeys(ctx, id)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return Content{}, notFound()
	}
	if err != nil {
		return Content{}, err
	}
	scope, err := s.scope(ctx, userID)
	if err != nil {
		return Content{}, err
	}
	if !scope.Sees(domain.TableAttachments, keys) || !scope.HasTable(a.ParentTable) || a.Status != domain.AttachmentStored {
		return Content{}, notFound()
	}
	b, found, err := s.db.GetBlob(ctx, a.SHA256)
	if err != nil {
		return Content{}, err
	}
	if !found {
		return Content{}, notFound()
	}
	if v == Thumbnail {
		return s.thumbnail(ctx, b)
	}
	key := blobKey(b.SHA256)
	return Content{Size: b.StoredSize, ContentType: b.ContentType, ETag: `"` + b.StoredSHA256 + `"`,
		open: func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
			r, err := s.blobs.Open(ctx, key, off, n)
			if errors.Is(err, blob.ErrNotFound) {
				return nil, fmt.Errorf("blob %s recorded but missing from storage: %w", b.SHA256, err)
			}
			return r, err
		}}, nil
}
