package attachments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// preFinish runs once the last byte of an upload is staged, before tusd
// answers the final PATCH: a refusal here is the client's answer.
func (s *Service) preFinish(hook tusd.HookEvent) (tusd.HTTPResponse, error) {
	ctx := hook.Context
	path := filepath.Join(s.cfg.StagingDir, hook.Upload.ID)
	target, err := s.db.GetUploadTarget(ctx, hook.Upload.MetaData[MetaAttachmentID])
	if domain.ErrorCode(err) == domain.CodeNotFound {
		// The row was deleted while its bytes were on the way.
		s.discard(hook.Upload.ID)
		return tusd.HTTPResponse{}, tusError(http.StatusNotFound, domain.CodeNotFound, "attachment not found", nil)
	}
	if err != nil {
		return tusd.HTTPResponse{}, err
	}
	if err := s.finish(ctx, path, target.Attachment); err != nil {
		var te tusd.Error
		if errors.As(err, &te) {
			s.discard(hook.Upload.ID) // refused: nothing of it is kept
			return tusd.HTTPResponse{}, te
		}
		return tusd.HTTPResponse{}, err
	}
	// Keep the upload's size but not its bytes: a client that lost the
	// answer and asks (HEAD) still learns the upload is complete, and the
	// staging area holds no second copy of the file. Expiry removes it.
	if err := os.Truncate(path, 0); err == nil {
		_ = os.Truncate(path, hook.Upload.Size)
	}
	return tusd.HTTPResponse{}, nil
}

// finish verifies the staged file against the row and stores it.
func (s *Service) finish(ctx context.Context, path string, a domain.Attachment) error {
	sum, head, err := hashFile(path)
	if err != nil {
		return err
	}
	if sum != a.SHA256 {
		return tusError(http.StatusUnprocessableEntity, CodeChecksumMismatch,
			"the uploaded bytes do not match the attachment's sha256; the upload is discarded", nil)
	}
	contentType := Sniff(head)
	if !domain.AttachmentTypeAllowed(a.Kind, contentType) {
		return tusError(http.StatusUnprocessableEntity, domain.CodeValidation, "the file's content is not an accepted type for a "+a.Kind,
			[]domain.FieldError{{Field: "content", Message: "must be one of the kind's types (JPEG, PNG, WebP; PDF for documents)"}})
	}
	if _, found, err := s.db.GetBlob(ctx, sum); err != nil {
		return err
	} else if !found {
		b, err := s.storeStripped(ctx, path, sum, contentType)
		if err != nil {
			return err
		}
		if _, err := s.db.StoreBlob(ctx, b); err != nil {
			return err
		}
		return nil
	}
	// Stored already (the same bytes, another attachment): only the rows.
	_, err = s.db.StoreBlob(ctx, store.Blob{SHA256: sum})
	return err
}

// storeStripped writes the stripped copy of the file beside it, then puts
// that copy in the blob store under the sha256 of what the device sent.
func (s *Service) storeStripped(ctx context.Context, path, sum, contentType string) (store.Blob, error) {
	src, err := os.Open(path)
	if err != nil {
		return store.Blob{}, fmt.Errorf("open staged upload: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(s.cfg.StagingDir, ".strip-*")
	if err != nil {
		return store.Blob{}, fmt.Errorf("strip: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	if err := Strip(io.MultiWriter(tmp, h), src, contentType); err != nil {
		if errors.Is(err, errNotImage) {
			return store.Blob{}, tusError(http.StatusUnprocessableEntity, domain.CodeValidation, "the image is malformed",
				[]domain.FieldError{{Field: "content", Message: "is not a well-formed " + contentType}})
		}
		return store.Blob{}, fmt.Errorf("strip: %w", err)
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return store.Blob{}, fmt.Errorf("strip: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return store.Blob{}, fmt.Errorf("strip: %w", err)
	}
	if err := s.blobs.Put(ctx, blobKey(sum), tmp, size, contentType); err != nil {
		return store.Blob{}, err
	}
	return store.Blob{SHA256: sum, ContentType: contentType, StoredSize: size,
		StoredSHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func hashFile(path string) (string, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("open staged upload: %w", err)
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", nil, fmt.Errorf("read staged upload: %w", err)
	}
	head = head[:n]
	h := sha256.New()
	h.Write(head)
	if _, err := io.Copy(h, f); err != nil {
		return "", nil, fmt.Errorf("hash staged upload: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), head, nil
}

// discard removes a staged upload and its info file.
func (s *Service) discard(id string) {
	for _, p := range []string{filepath.Join(s.cfg.StagingDir, id), filepath.Join(s.cfg.StagingDir, id+".info")} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("discard upload", "upload", id, "err", err)
		}
	}
}
