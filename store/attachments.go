package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
)

// Attachment metadata rows and the blobs their bytes are stored as. The rows
// are synced dependents of their parent's account; the blobs are keyed by the
// sha256 of the bytes the device sent, so the same bytes are stored once.

type attachmentRow struct {
	ID          string `gorm:"primaryKey"`
	ParentTable string
	ParentID    string
	AccountID   string
	Kind        string
	ContentType string
	Size        int64
	SHA256      string `gorm:"column:sha256"`
	CapturedAt  *time.Time
	CapturedLat *float64
	CapturedLng *float64
	Caption     *string
	UploaderID  string
	DeviceID    string
	Status      string
	Version     int64
	UpdatedAt   time.Time
}

func (attachmentRow) TableName() string { return "attachments" }

func (r attachmentRow) domain() domain.Attachment {
	return domain.Attachment{ID: r.ID, ParentTable: r.ParentTable, ParentID: r.ParentID, AccountID: r.AccountID,
		Kind: r.Kind, ContentType: r.ContentType, Size: r.Size, SHA256: r.SHA256, CapturedAt: utcPtr(r.CapturedAt),
		CapturedLat: r.CapturedLat, CapturedLng: r.CapturedLng, Caption: r.Caption, UploaderID: r.UploaderID,
		Status: r.Status, Meta: meta(r.Version, r.UpdatedAt)}
}

func toAttachmentRow(a domain.Attachment, deviceID string) attachmentRow {
	return attachmentRow{ID: a.ID, ParentTable: a.ParentTable, ParentID: a.ParentID, AccountID: a.AccountID,
		Kind: a.Kind, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, CapturedAt: utcPtr(a.CapturedAt),
		CapturedLat: a.CapturedLat, CapturedLng: a.CapturedLng, Caption: a.Caption, UploaderID: a.UploaderID,
		DeviceID: deviceID, Status: a.Status, Version: a.Version, UpdatedAt: a.UpdatedAt.UTC()}
}

const attachmentColumns = "id, parent_table, parent_id, account_id, kind, content_type, size, sha256, captured_at, captured_lat, captured_lng, caption, uploader_id, status, version, updated_at"

func scanAttachment(s scanner) (string, string, any, []string, error) {
	var r attachmentRow
	err := s.Scan(&r.ID, &r.ParentTable, &r.ParentID, &r.AccountID, &r.Kind, &r.ContentType, &r.Size, &r.SHA256,
		&r.CapturedAt, &r.CapturedLat, &r.CapturedLng, &r.Caption, &r.UploaderID, &r.Status, &r.Version, &r.UpdatedAt)
	return r.ID, r.AccountID, r.domain(), nil, err
}

func attachmentKeys(acc domain.Account) []string {
	return domain.AccountKeys(acc.TerritoryID, acc.OwnerID)
}

// GetAttachment reads one attachment row.
func GetAttachment(tx *Tx, id string, forUpdate bool) (domain.Attachment, error) {
	var r attachmentRow
	if err := lock(tx, forUpdate).Where("id = ?", id).Take(&r).Error; err != nil {
		return domain.Attachment{}, Translate(err, "attachment")
	}
	return r.domain(), nil
}

// AttachmentParent is what a new attachment needs of its parent row.
type AttachmentParent struct {
	AccountID string
	// Owner is the visit's or order's rep, or the note's author.
	Owner string
}

// GetAttachmentParent reads the parent row table/id; not found when it does
// not exist.
func GetAttachmentParent(tx *Tx, table, id string) (AttachmentParent, error) {
	var owner string
	switch table {
	case domain.TableVisits, domain.TableOrders:
		owner = "rep_id"
	case domain.TableAccountNotes:
		owner = "author_id"
	default:
		return AttachmentParent{}, fmt.Errorf("attachment parent: unknown table %q", table)
	}
	var p AttachmentParent
	res := tx.g.Table(table).Select("account_id, "+owner+" AS owner").Where("id = ?", id).Limit(1).Scan(&p)
	if res.Error != nil {
		return p, fmt.Errorf("read %s %s: %w", table, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return p, Translate(gorm.ErrRecordNotFound, table)
	}
	return p, nil
}

// CountAttachments returns how many attachments of kind the parent holds.
func CountAttachments(tx *Tx, parentTable, parentID, kind string) (int, error) {
	var n int64
	if err := tx.g.Model(&attachmentRow{}).Where("parent_table = ? AND parent_id = ? AND kind = ?", parentTable, parentID, kind).
		Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count attachments: %w", err)
	}
	return int(n), nil
}

// CreateAttachment inserts a (which may reuse the id of a deleted
// attachment). When the blob of its sha256 is already stored, the row is
// stored at once: the same bytes are never uploaded twice.
func CreateAttachment(tx *Tx, acc domain.Account, deviceID string, a domain.Attachment) (domain.Attachment, error) {
	a.UpdatedAt, a.AccountID, a.Status = tx.now, acc.ID, domain.AttachmentPending
	b, found, err := getBlob(tx, a.SHA256)
	if err != nil {
		return a, err
	}
	if found && b.StoredSize > 0 {
		a.Status = domain.AttachmentStored
		if err := tx.g.Model(&blobRow{}).Where("sha256 = ?", a.SHA256).Update("orphaned_at", nil).Error; err != nil {
			return a, fmt.Errorf("adopt blob %s: %w", a.SHA256, err)
		}
	}
	a.Version, err = recreate(tx, domain.TableAttachments, a.ID, func(version int64) any {
		a.Version = version
		r := toAttachmentRow(a, deviceID)
		return &r
	}, attachmentKeys(acc))
	return a, err
}

// UpdateAttachment writes the changed fields of a (only the caption is
// writable) and logs the change.
func UpdateAttachment(tx *Tx, acc domain.Account, old, a domain.Attachment) (domain.Attachment, error) {
	if len(domain.ChangedFields(old, a)) == 0 {
		return old, nil
	}
	a.Version, a.UpdatedAt = old.Version+1, tx.now
	if err := tx.g.Model(&attachmentRow{}).Where("id = ?", a.ID).
		Updates(map[string]any{"caption": a.Caption, "status": a.Status, "version": a.Version, "updated_at": tx.now}).Error; err != nil {
		return a, fmt.Errorf("update attachment %s: %w", a.ID, Translate(err, "attachment"))
	}
	return a, LogChange(tx, Change{Table: domain.TableAttachments, RowID: a.ID, Version: a.Version, Keys: attachmentKeys(acc)})
}

// DeleteAttachment deletes a, logs its tombstones and orphans its blob when
// no other attachment names it.
func DeleteAttachment(tx *Tx, acc domain.Account, a domain.Attachment) error {
	if err := deleteRow(tx, domain.TableAttachments, &attachmentRow{}, a.ID, a.Version+1, attachmentKeys(acc)); err != nil {
		return err
	}
	return orphanBlobs(tx, []string{a.SHA256})
}

// deleteAttachmentsOf deletes the attachments of a deleted parent row, with
// the parent's keys, in the parent's transaction.
func deleteAttachmentsOf(tx *Tx, parentTable, parentID string, keys []string) error {
	var rows []attachmentRow
	if err := tx.g.Select("id", "sha256", "version").Where("parent_table = ? AND parent_id = ?", parentTable, parentID).
		Find(&rows).Error; err != nil {
		return fmt.Errorf("attachments of %s %s: %w", parentTable, parentID, err)
	}
	shas := make([]string, 0, len(rows))
	for _, r := range rows {
		if err := deleteRow(tx, domain.TableAttachments, &attachmentRow{}, r.ID, r.Version+1, keys); err != nil {
			return err
		}
		shas = append(shas, r.SHA256)
	}
	return orphanBlobs(tx, shas)
}

// orphanBlobs marks the blobs of shas that no attachment names any more.
func orphanBlobs(tx *Tx, shas []string) error {
	if len(shas) == 0 {
		return nil
	}
	err := tx.g.Exec(`UPDATE attachment_blobs SET orphaned_at = ? WHERE sha256 IN ? AND orphaned_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = attachment_blobs.sha256)`, tx.now, shas).Error
	if err != nil {
		return fmt.Errorf("orphan blobs: %w", err)
	}
	return nil
}

// ---- blobs

type blobRow struct {
	SHA256       string `gorm:"column:sha256;primaryKey"`
	ContentType  string
	StoredSize   int64
	StoredSHA256 string `gorm:"column:stored_sha256"`
	HasThumb     bool
	CreatedAt    time.Time
	OrphanedAt   *time.Time
}

func (blobRow) TableName() string { return "attachment_blobs" }

// Blob describes a stored blob: the content type sniffed from its bytes and
// what is kept after metadata stripping.
type Blob struct {
	SHA256       string
	ContentType  string
	StoredSize   int64
	StoredSHA256 string
	HasThumb     bool
}

func getBlob(tx *Tx, sha string) (Blob, bool, error) {
	var r blobRow
	err := tx.g.Where("sha256 = ?", sha).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Blob{}, false, nil
	}
	if err != nil {
		return Blob{}, false, fmt.Errorf("read blob %s: %w", sha, err)
	}
	return Blob{SHA256: r.SHA256, ContentType: r.ContentType, StoredSize: r.StoredSize,
		StoredSHA256: r.StoredSHA256, HasThumb: r.HasThumb}, true, nil
}

// GetBlob reads the record of the blob of sha, if it is stored.
func (db *DB) GetBlob(ctx context.Context, sha string) (Blob, bool, error) {
	return getBlob(db.Autocommit(ctx), sha)
}

// SetBlobThumb records that the blob's thumbnail is stored.
func (db *DB) SetBlobThumb(ctx context.Context, sha string) error {
	if err := db.Gorm.WithContext(ctx).Model(&blobRow{}).Where("sha256 = ?", sha).Update("has_thumb", true).Error; err != nil {
		return fmt.Errorf("record thumbnail of %s: %w", sha, err)
	}
	return nil
}

// UploadTarget is what the upload lane needs of an attachment: the row, and
// whether the device uploading it is its uploader's.
type UploadTarget struct {
	Attachment domain.Attachment
	DeviceID   string
}

// GetUploadTarget reads the attachment an upload is for.
func (db *DB) GetUploadTarget(ctx context.Context, id string) (UploadTarget, error) {
	var r attachmentRow
	if err := db.Gorm.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return UploadTarget{}, Translate(err, "attachment")
	}
	return UploadTarget{Attachment: r.domain(), DeviceID: r.DeviceID}, nil
}

// StoreBlob records the blob b (its bytes already written to blob storage)
// and marks every pending attachment of its sha256 stored, each a new
// version that reaches devices by pull. It returns how many rows it marked.
func (db *DB) StoreBlob(ctx context.Context, b Blob) (int, error) {
	var marked int
	err := db.InTx(ctx, func(tx *Tx) error {
		now := tx.now
		r := blobRow{SHA256: b.SHA256, ContentType: b.ContentType, StoredSize: b.StoredSize,
			StoredSHA256: b.StoredSHA256, CreatedAt: now}
		if _, found, err := getBlob(tx, b.SHA256); err != nil {
			return err
		} else if !found {
			if err := tx.g.Create(&r).Error; err != nil {
				return fmt.Errorf("record blob %s: %w", b.SHA256, Translate(err, "blob"))
			}
		}
		var rows []attachmentRow
		if err := lock(tx, true).Where("sha256 = ? AND status = ?", b.SHA256, domain.AttachmentPending).
			Order("id").Find(&rows).Error; err != nil {
			return fmt.Errorf("pending attachments of %s: %w", b.SHA256, err)
		}
		for _, row := range rows {
			acc, _, err := GetAccount(tx, row.AccountID, false)
			if err != nil {
				return err
			}
			old := row.domain()
			a := old
			a.Status = domain.AttachmentStored
			if _, err := UpdateAttachment(tx, acc, old, a); err != nil {
				return err
			}
		}
		marked = len(rows)
		return tx.g.Model(&blobRow{}).Where("sha256 = ?", b.SHA256).Update("orphaned_at", nil).Error
	})
	return marked, err
}

// OrphanedBlobs lists the blobs no attachment has named since before.
func (db *DB) OrphanedBlobs(ctx context.Context, before time.Time) ([]string, error) {
	var shas []string
	err := db.Gorm.WithContext(ctx).Model(&blobRow{}).
		Where("orphaned_at < ? AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = attachment_blobs.sha256)", before).
		Order("sha256").Pluck("sha256", &shas).Error
	if err != nil {
		return nil, fmt.Errorf("orphaned blobs: %w", err)
	}
	return shas, nil
}

// ForgetBlob deletes the record of an orphaned blob, unless an attachment
// adopted it meanwhile; it reports whether it did.
func (db *DB) ForgetBlob(ctx context.Context, sha string) (bool, error) {
	res := db.Gorm.WithContext(ctx).Exec(`DELETE FROM attachment_blobs WHERE sha256 = ? AND orphaned_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = attachment_blobs.sha256)`, sha)
	if res.Error != nil {
		return false, fmt.Errorf("forget blob %s: %w", sha, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// PendingAttachments counts, per user and device, the attachments whose bytes
// have not arrived (sync health).
func (db *DB) PendingAttachments(ctx context.Context) (map[[2]string]int, error) {
	var rows []struct {
		UploaderID, DeviceID string
		N                    int
	}
	if err := db.Gorm.WithContext(ctx).Model(&attachmentRow{}).Select("uploader_id, device_id, COUNT(*) AS n").
		Where("status = ?", domain.AttachmentPending).Group("uploader_id, device_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("pending attachments: %w", err)
	}
	out := make(map[[2]string]int, len(rows))
	for _, r := range rows {
		out[[2]string{r.UploaderID, r.DeviceID}] = r.N
	}
	return out, nil
}

// AttachmentWithKeys reads an attachment and the scope keys it has now (its
// account's), for a download's scope check.
func (db *DB) AttachmentWithKeys(ctx context.Context, id string) (domain.Attachment, []string, error) {
	var r attachmentRow
	tx := db.Autocommit(ctx)
	if err := tx.g.Where("id = ?", id).Take(&r).Error; err != nil {
		return domain.Attachment{}, nil, Translate(err, "attachment")
	}
	var acc accountRow
	if err := tx.g.Select("territory_id", "owner_id").Where("id = ?", r.AccountID).Take(&acc).Error; err != nil {
		return domain.Attachment{}, nil, Translate(err, "account")
	}
	return r.domain(), domain.AccountKeys(acc.TerritoryID, acc.OwnerID), nil
}
