package device

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// Attachments on the device (docs/protocol.md §11). Attach copies the file
// into the files directory beside the device file and, in one local
// transaction, queues the attachment row in the outbox and the bytes in the
// upload queue. Sync pushes the row like any other (after the mutation that
// created its parent, since the outbox keeps its order); UploadAttachments
// sends the bytes of every row the server has acknowledged, over tus, in their
// own lane: a large photo never delays an order. A file leaves the device only
// once the server confirmed its bytes.

// DefaultUploadChunk is the largest upload request when Options.UploadChunk
// is 0: small enough that a request finishes well within the HTTP client's
// timeout on a slow network, large enough that the per-request cost is noise.
const DefaultUploadChunk = 4 << 20

// Upload queue states.
const (
	uploadQueued = "queued"
	uploadFailed = "failed"
)

// uploadRow is one attachment whose bytes the server has not confirmed.
type uploadRow struct {
	AttachmentID string `gorm:"primaryKey"`
	Size         int64
	SHA256       string `gorm:"column:sha256"`
	URL          *string
	State        string
	Error        *string
	CreatedAt    time.Time
}

func (uploadRow) TableName() string { return "uploads" }

// NewAttachment is a file to attach to a visit, an order or a note. Give
// either Path (the SDK copies the file at once, so the app may delete its
// own) or Data.
type NewAttachment struct {
	ParentTable string // domain.TableVisits, TableOrders or TableAccountNotes
	ParentID    string
	Kind        string // domain.KindPhoto, KindSignature or KindDocument
	// ContentType is the file's type (domain.TypeJPEG, ...); "" sniffs it from
	// the bytes. The server checks the bytes anyway.
	ContentType string
	Path        string
	Data        []byte
	CapturedAt  time.Time // zero: now
	Lat, Lng    *float64  // where it was captured, if the app knows (both or neither)
	Caption     string
}

// Attach queues an attachment offline: its row goes to the outbox, its bytes
// to the upload queue (a copy in the files directory beside the device file).
// The row is checked as the server will check it (kind, size and type limits,
// a parent this device holds). It returns the local view of the row, status
// "pending" until the server has the bytes.
func (c *Client) Attach(ctx context.Context, a NewAttachment) (domain.Attachment, error) {
	var out domain.Attachment
	l, err := c.writer()
	if err != nil {
		return out, err
	}
	if !isAttachmentParent(a.ParentTable) {
		return out, domain.Invalid(domain.FieldError{Field: "parent_table", Message: "must be visits, orders or account_notes"})
	}
	id := uuid.NewString()
	size, sum, sniffed, err := c.keepFile(id, a)
	if err != nil {
		return out, err
	}
	if a.ContentType == "" {
		a.ContentType = sniffed
	}
	if a.CapturedAt.IsZero() {
		a.CapturedAt = l.now
	}
	patch := map[string]any{"parent_table": a.ParentTable, "parent_id": a.ParentID, "kind": a.Kind,
		"content_type": a.ContentType, "size": size, "sha256": sum, "captured_at": wireTime(a.CapturedAt),
		"captured_lat": a.Lat, "captured_lng": a.Lng, "caption": nullable(a.Caption)}
	err = c.tx(ctx, func(tx *gorm.DB) error {
		if err := exists(tx, a.ParentTable, "parent_id", a.ParentID); err != nil {
			return err
		}
		if err := l.enqueue(tx, edit{table: domain.TableAttachments, op: opUpsert, id: id, patch: patch, coalesce: true}); err != nil {
			return err
		}
		up := uploadRow{AttachmentID: id, Size: size, SHA256: sum, State: uploadQueued, CreatedAt: l.now}
		if err := tx.Create(&up).Error; err != nil {
			return fmt.Errorf("queue upload: %w", err)
		}
		if out, err = getRow[domain.Attachment](tx, domain.TableAttachments, id); err != nil {
			return err
		}
		return asError(domain.ValidateAttachment(out))
	})
	if err != nil {
		_ = os.Remove(c.filePath(id)) // nothing refers to it
		return domain.Attachment{}, err
	}
	return out, nil
}

func isAttachmentParent(table string) bool {
	for _, t := range domain.AttachmentParents {
		if t == table {
			return true
		}
	}
	return false
}

func (c *Client) filePath(id string) string { return filepath.Join(c.files, id) }

// keepFile copies the attachment's bytes to the files directory, durably
// (written, synced, then renamed into place), and returns their size, sha256
// and sniffed content type.
func (c *Client) keepFile(id string, a NewAttachment) (size int64, sum, sniffed string, err error) {
	var src io.Reader
	switch {
	case a.Path != "" && a.Data != nil:
		return 0, "", "", domain.Errorf(domain.CodeBadRequest, "give Path or Data, not both")
	case a.Path != "":
		f, err := os.Open(a.Path)
		if err != nil {
			return 0, "", "", domain.Invalid(domain.FieldError{Field: "path", Message: err.Error()})
		}
		defer f.Close()
		src = f
	default:
		src = bytes.NewReader(a.Data)
	}
	if err := os.MkdirAll(c.files, 0o700); err != nil {
		return 0, "", "", fmt.Errorf("attachment files: %w", err)
	}
	tmp, err := os.CreateTemp(c.files, id+".*.tmp")
	if err != nil {
		return 0, "", "", fmt.Errorf("copy attachment: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	head := &headBuffer{max: 512}
	size, err = io.Copy(io.MultiWriter(tmp, h, head), src)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.filePath(id))
	}
	if err != nil {
		return 0, "", "", fmt.Errorf("copy attachment: %w", err)
	}
	return size, hex.EncodeToString(h.Sum(nil)), http.DetectContentType(head.b), nil
}

// headBuffer keeps the first max bytes written to it (for sniffing).
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if n := h.max - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// sweepFiles removes files no queued upload refers to: left by a crash
// between the copy and the transaction that queues it. It runs at Open,
// before any Attach of this process can be half-way.
func (c *Client) sweepFiles(ctx context.Context) error {
	entries, err := os.ReadDir(c.files)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("attachment files: %w", err)
	}
	var ids []string
	if err := c.db.WithContext(ctx).Model(&uploadRow{}).Pluck("attachment_id", &ids).Error; err != nil {
		return fmt.Errorf("read upload queue: %w", err)
	}
	queued := make(map[string]bool, len(ids))
	for _, id := range ids {
		queued[id] = true
	}
	for _, e := range entries {
		if !queued[e.Name()] {
			_ = os.Remove(filepath.Join(c.files, e.Name()))
		}
	}
	return nil
}

// Attachments lists the attachments of one parent row, as the device sees
// them (Status "pending" until the server has the bytes), in the order they
// were captured (then by kind and id, so a list shows the same each time).
func (c *Client) Attachments(ctx context.Context, parentTable, parentID string) ([]domain.Attachment, error) {
	all, err := list[domain.Attachment](ctx, c, domain.TableAttachments, nil)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if a.ParentTable == parentTable && a.ParentID == parentID {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b domain.Attachment) int {
		if a.CapturedAt != nil && b.CapturedAt != nil {
			if c := a.CapturedAt.Compare(*b.CapturedAt); c != 0 {
				return c
			}
		}
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// EditCaption changes an attachment's caption, the one field that may change.
func (c *Client) EditCaption(ctx context.Context, id, caption string) (domain.Attachment, error) {
	return update(ctx, c, domain.TableAttachments, id, func(*gorm.DB, domain.Attachment) (map[string]any, error) {
		return map[string]any{"caption": nullable(caption)}, nil
	}, domain.ValidateAttachment)
}

// DeleteAttachment deletes an attachment the signed-in user uploaded; its
// bytes leave the upload queue at once.
func (c *Client) DeleteAttachment(ctx context.Context, id string) error {
	userID := c.UserID()
	err := remove(ctx, c, domain.TableAttachments, id, func(cur domain.Attachment) error {
		if cur.UploaderID != userID {
			return domain.Errorf(domain.CodeForbidden, "only the uploader may delete an attachment")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.dropUpload(ctx, id)
}

// QueuedUpload is an attachment whose bytes are still on the device.
type QueuedUpload struct {
	AttachmentID string
	Size         int64
	Started      bool          // a tus upload exists on the server; the next run resumes it
	Failed       bool          // given up: see Err; DiscardUpload removes it
	Err          *domain.Error // why it failed
	CreatedAt    time.Time
}

// Uploads lists the upload queue, in the order the files were attached.
func (c *Client) Uploads(ctx context.Context) ([]QueuedUpload, error) {
	rows, err := c.uploadQueue(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]QueuedUpload, len(rows))
	for i, r := range rows {
		out[i] = QueuedUpload{AttachmentID: r.AttachmentID, Size: r.Size, Started: r.URL != nil,
			Failed: r.State == uploadFailed, CreatedAt: r.CreatedAt.UTC()}
		if r.Error != nil {
			out[i].Err = &domain.Error{}
			_ = json.Unmarshal([]byte(*r.Error), out[i].Err)
		}
	}
	return out, nil
}

// DiscardUpload removes an attachment's bytes from the queue and the device
// (a failed upload the app has shown to its user). The row is left alone.
func (c *Client) DiscardUpload(ctx context.Context, id string) error {
	return c.dropUpload(ctx, id)
}

func (c *Client) uploadQueue(ctx context.Context) ([]uploadRow, error) {
	var rows []uploadRow
	if err := c.db.WithContext(ctx).Order("rowid").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read upload queue: %w", err)
	}
	return rows, nil
}

// dropUpload forgets a queued upload, then its file: a crash in between
// leaves a file that sweepFiles removes.
func (c *Client) dropUpload(ctx context.Context, id string) error {
	if err := c.db.WithContext(ctx).Where("attachment_id = ?", id).Delete(&uploadRow{}).Error; err != nil {
		return fmt.Errorf("drop upload %s: %w", id, err)
	}
	if err := os.Remove(c.filePath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drop upload %s: %w", id, err)
	}
	return nil
}

func (c *Client) setUpload(ctx context.Context, id string, fields map[string]any) error {
	if err := c.db.WithContext(ctx).Model(&uploadRow{}).Where("attachment_id = ?", id).Updates(fields).Error; err != nil {
		return fmt.Errorf("update upload %s: %w", id, err)
	}
	return nil
}

func (c *Client) failUpload(ctx context.Context, id string, e *domain.Error) error {
	b, _ := json.Marshal(e) // a struct of strings always marshals
	return c.setUpload(ctx, id, map[string]any{"state": uploadFailed, "error": string(b)})
}
