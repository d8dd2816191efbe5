package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The WatermelonDB adapter's storage (migration 00010, docs/protocol.md "The
// WatermelonDB adapter").

type watermelonCursorRow struct {
	ID         int64 `gorm:"primaryKey;autoIncrement"`
	UserID     string
	CursorHash string
	Cursor     string
	CreatedAt  time.Time
}

func (watermelonCursorRow) TableName() string { return "watermelon_cursors" }

// WatermelonNumber returns the number standing for the engine cursor of
// userID, storing it on first use. The same cursor gets the same number, so
// an idle pull adds no row, unless fresh asks for a number of its own (an
// answer whose receipt must be told apart from its request).
func (db *DB) WatermelonNumber(ctx context.Context, userID, cursor string, fresh bool) (int64, error) {
	sum := sha256.Sum256([]byte(cursor))
	hash := hex.EncodeToString(sum[:])
	if fresh {
		var salt [8]byte
		if _, err := rand.Read(salt[:]); err != nil {
			return 0, fmt.Errorf("store watermelon cursor: %w", err)
		}
		hash += ":" + hex.EncodeToString(salt[:])
	}
	row := watermelonCursorRow{UserID: userID, CursorHash: hash, Cursor: cursor,
		CreatedAt: db.Now()}
	var n int64
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.g.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
		return tx.g.Model(&watermelonCursorRow{}).Select("id").
			Where("user_id = ? AND cursor_hash = ?", row.UserID, row.CursorHash).Take(&n).Error
	})
	if err != nil {
		return 0, fmt.Errorf("store watermelon cursor: %w", err)
	}
	return n, nil
}

// WatermelonCursor returns the engine cursor number n stands for, if n was
// issued to userID.
func (db *DB) WatermelonCursor(ctx context.Context, userID string, n int64) (string, bool, error) {
	var row watermelonCursorRow
	err := db.Gorm.WithContext(ctx).Where("id = ? AND user_id = ?", n, userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read watermelon cursor: %w", err)
	}
	return row.Cursor, true, nil
}

// Kinds of watermelon_pending rows: what a device's next pull must do with a
// row a push did not leave as the device holds it.
const (
	PendingRejectedCreate = "rejected_create" // delete it on the device unless visible
	PendingRejectedDelete = "rejected_delete" // restore it on the device if visible
	PendingResend         = "resend"          // send the server row (or a delete)
)

// WatermelonPending is one row a device must be sent again.
type WatermelonPending struct {
	Table string
	RowID string
	Kind  string
}

type watermelonPendingRow struct {
	UserID     string `gorm:"primaryKey"`
	DeviceID   string `gorm:"primaryKey"`
	Tbl        string `gorm:"primaryKey"`
	RowID      string `gorm:"primaryKey"`
	Kind       string
	SentNumber int64
	CreatedAt  time.Time
}

func (watermelonPendingRow) TableName() string { return "watermelon_pending" }

// SaveWatermelonPending records rows the device's next pull must resend; a
// later record of the same row replaces the earlier one.
func (db *DB) SaveWatermelonPending(ctx context.Context, userID, deviceID string, ps []WatermelonPending) error {
	if len(ps) == 0 {
		return nil
	}
	rows := make([]watermelonPendingRow, len(ps))
	for i, p := range ps {
		rows[i] = watermelonPendingRow{UserID: userID, DeviceID: deviceID, Tbl: p.Table, RowID: p.RowID,
			Kind: p.Kind, CreatedAt: db.Now()}
	}
	err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "device_id"}, {Name: "tbl"}, {Name: "row_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"kind", "sent_number", "created_at"}),
	}).CreateInBatches(&rows, 200).Error
	if err != nil {
		return fmt.Errorf("save watermelon pending rows: %w", err)
	}
	return nil
}

// WatermelonPendingOf returns the rows the device's next pull must resend.
func (db *DB) WatermelonPendingOf(ctx context.Context, userID, deviceID string) ([]WatermelonPending, error) {
	var rows []watermelonPendingRow
	if err := db.Gorm.WithContext(ctx).Where("user_id = ? AND device_id = ?", userID, deviceID).
		Order("tbl, row_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read watermelon pending rows: %w", err)
	}
	out := make([]WatermelonPending, len(rows))
	for i, r := range rows {
		out[i] = WatermelonPending{Table: r.Tbl, RowID: r.RowID, Kind: r.Kind}
	}
	return out, nil
}

// AckWatermelonPending forgets the rows the pull answer numbered number
// carried: the device pulls from it, so it applied that answer.
func (db *DB) AckWatermelonPending(ctx context.Context, userID, deviceID string, number int64) error {
	err := db.Gorm.WithContext(ctx).Where("user_id = ? AND device_id = ? AND sent_number = ?", userID, deviceID, number).
		Delete(&watermelonPendingRow{}).Error
	if err != nil {
		return fmt.Errorf("acknowledge watermelon pending rows: %w", err)
	}
	return nil
}

// MarkWatermelonPendingSent notes that the pull answer numbered number
// carries ps. A row a push recorded again since is left as it is.
func (db *DB) MarkWatermelonPendingSent(ctx context.Context, userID, deviceID string, ps []WatermelonPending, number int64) error {
	return db.InTx(ctx, func(tx *Tx) error {
		for _, p := range ps {
			if err := tx.g.Model(&watermelonPendingRow{}).
				Where("user_id = ? AND device_id = ? AND tbl = ? AND row_id = ? AND kind = ?", userID, deviceID, p.Table, p.RowID, p.Kind).
				Update("sent_number", number).Error; err != nil {
				return fmt.Errorf("mark watermelon pending row sent: %w", err)
			}
		}
		return nil
	})
}

// RowBase is what a push needs to know of a row to choose its base version.
type RowBase struct {
	Version int64 // current version; 0 when the row does not exist
	// ChangedAfter: the change log holds an entry of the row after the
	// position (a write the device had not pulled).
	ChangedAfter bool
	// Own is the version the device's own latest push left the row at (0:
	// none recorded).
	Own int64
}

// RowBases returns, for each id of table, its current version, whether it
// changed after position after, and the version the device's own push left
// it at. Ids of rows that never existed are absent.
func (db *DB) RowBases(ctx context.Context, userID, deviceID, table string, ids []string, after Pos) (map[string]RowBase, error) {
	out := map[string]RowBase{}
	if len(ids) == 0 {
		return out, nil
	}
	if !domain.IsSyncedTable(table) {
		return nil, fmt.Errorf("row bases: unknown table %q", table)
	}
	err := db.ReadTx(ctx, func(tx *Tx) error {
		var cur []struct {
			ID      string
			Version int64
		}
		if err := tx.g.Table(table).Select("id, version").Where("id IN ?", ids).Scan(&cur).Error; err != nil {
			return err
		}
		for _, r := range cur {
			out[r.ID] = RowBase{Version: r.Version}
		}
		q := tx.g.Table("change_log").Distinct("row_id").Where("tbl = ? AND row_id IN ?", table, ids)
		if db.Dialect == Postgres {
			q = q.Where("(xid, seq) > (?::xid8, ?)", strconv.FormatUint(after.Xid, 10), after.Seq)
		} else {
			q = q.Where("seq > ?", after.Seq)
		}
		var changed []string
		if err := q.Pluck("row_id", &changed).Error; err != nil {
			return err
		}
		for _, id := range changed {
			if b, ok := out[id]; ok {
				b.ChangedAfter = true
				out[id] = b
			}
		}
		var own []watermelonKnownRow
		if err := tx.g.Where("user_id = ? AND device_id = ? AND tbl = ? AND row_id IN ?", userID, deviceID, table, ids).
			Find(&own).Error; err != nil {
			return err
		}
		for _, k := range own {
			if b, ok := out[k.RowID]; ok {
				b.Own = k.Version
				out[k.RowID] = b
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("row bases of %s: %w", table, err)
	}
	return out, nil
}

type watermelonDeviceRow struct {
	UserID     string `gorm:"primaryKey"`
	DeviceID   string `gorm:"primaryKey"`
	LastNumber int64
	FromNumber int64
}

func (watermelonDeviceRow) TableName() string { return "watermelon_devices" }

// RecordWatermelonPull notes that the device's last pull answered number,
// starting from number from.
func (db *DB) RecordWatermelonPull(ctx context.Context, userID, deviceID string, number, from int64) error {
	row := watermelonDeviceRow{UserID: userID, DeviceID: deviceID, LastNumber: number, FromNumber: from}
	err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "device_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"last_number", "from_number"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("record watermelon pull: %w", err)
	}
	return nil
}

// WatermelonPullFrom returns the number the device's pull that answered
// number started from, if that was its last pull.
func (db *DB) WatermelonPullFrom(ctx context.Context, userID, deviceID string, number int64) (int64, bool, error) {
	var row watermelonDeviceRow
	err := db.Gorm.WithContext(ctx).Where("user_id = ? AND device_id = ?", userID, deviceID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read watermelon pull: %w", err)
	}
	return row.FromNumber, row.LastNumber == number, nil
}

// KnownVersion is the version a device's own push left a row at.
type KnownVersion struct {
	Table   string
	RowID   string
	Version int64
}

type watermelonKnownRow struct {
	UserID   string `gorm:"primaryKey"`
	DeviceID string `gorm:"primaryKey"`
	Tbl      string `gorm:"primaryKey"`
	RowID    string `gorm:"primaryKey"`
	Version  int64
}

func (watermelonKnownRow) TableName() string { return "watermelon_known" }

// SaveWatermelonKnown records the versions the device's push left rows at.
func (db *DB) SaveWatermelonKnown(ctx context.Context, userID, deviceID string, ks []KnownVersion) error {
	if len(ks) == 0 {
		return nil
	}
	rows := make([]watermelonKnownRow, len(ks))
	for i, k := range ks {
		rows[i] = watermelonKnownRow{UserID: userID, DeviceID: deviceID, Tbl: k.Table, RowID: k.RowID, Version: k.Version}
	}
	err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "device_id"}, {Name: "tbl"}, {Name: "row_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"version"}),
	}).CreateInBatches(&rows, 200).Error
	if err != nil {
		return fmt.Errorf("save watermelon known versions: %w", err)
	}
	return nil
}
