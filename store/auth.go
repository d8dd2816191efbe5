package store

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Devices and tokens are not synced: they are plain rows with no version and no
// change-log entries.

type deviceRow struct {
	UserID     string `gorm:"primaryKey"`
	DeviceID   string `gorm:"primaryKey"`
	DeviceName *string
	CreatedAt  time.Time
	LastPullAt *time.Time
	LastPushAt *time.Time
	Pending    *int64
	RevokedAt  *time.Time
}

func (deviceRow) TableName() string { return "devices" }

type tokenRow struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    string
	DeviceID  string
	Kind      string
	CSRF      *string `gorm:"column:csrf"`
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

func (tokenRow) TableName() string { return "tokens" }

// DeviceRecord is one device a user signed in from.
type DeviceRecord struct {
	UserID     string
	DeviceID   string
	DeviceName *string
	CreatedAt  time.Time
	LastPullAt *time.Time
	LastPushAt *time.Time
	Pending    *int64
	RevokedAt  *time.Time
}

func (r deviceRow) record() DeviceRecord {
	return DeviceRecord{UserID: r.UserID, DeviceID: r.DeviceID, DeviceName: r.DeviceName,
		CreatedAt: r.CreatedAt.UTC(), LastPullAt: utcPtr(r.LastPullAt), LastPushAt: utcPtr(r.LastPushAt),
		Pending: r.Pending, RevokedAt: utcPtr(r.RevokedAt)}
}

// TokenRecord is an issued token; only the hash of the secret is ever stored.
type TokenRecord struct {
	Hash      string
	UserID    string
	DeviceID  string
	Kind      string
	CSRF      *string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// TokenOwner is a token joined with what a request needs of its user.
type TokenOwner struct {
	TokenRecord
	Role domain.Role
	// UserDeactivated: the user was deactivated; the token must not work.
	UserDeactivated bool
}

// UpsertDevice records a sign-in from a device. A new sign-in on a revoked device
// un-revokes the device row (its old tokens stay revoked); a sign-in without a
// name keeps the name the device sent before.
func UpsertDevice(tx *Tx, userID, deviceID string, name *string) error {
	r := deviceRow{UserID: userID, DeviceID: deviceID, DeviceName: name, CreatedAt: tx.now}
	err := tx.g.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "user_id"}, {Name: "device_id"}},
		DoUpdates: clause.Assignments(map[string]any{
			"device_name": gorm.Expr("COALESCE(excluded.device_name, devices.device_name)"),
			"revoked_at":  nil,
		}),
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("upsert device %s: %w", deviceID, Translate(err, "device"))
	}
	return nil
}

// CreateToken stores an issued token.
func CreateToken(tx *Tx, t TokenRecord) error {
	r := tokenRow{TokenHash: t.Hash, UserID: t.UserID, DeviceID: t.DeviceID, Kind: t.Kind, CSRF: t.CSRF,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
	if err := tx.g.Create(&r).Error; err != nil {
		return fmt.Errorf("create token: %w", Translate(err, "token"))
	}
	return nil
}

// tokenOwnerRow spells out the token's columns: GORM does not scan into an
// embedded unexported struct.
type tokenOwnerRow struct {
	TokenHash string
	UserID    string
	DeviceID  string
	Kind      string
	CSRF      *string `gorm:"column:csrf"`
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	Role      string
	// DeactivatedAt is the user's (users.deactivated_at).
	DeactivatedAt *time.Time
}

// GetTokenOwner loads a token and its user's role in one indexed query: it runs
// on every authenticated request.
func GetTokenOwner(tx *Tx, hash string) (TokenOwner, error) {
	var r tokenOwnerRow
	err := tx.g.Table("tokens").
		Select("tokens.token_hash, tokens.user_id, tokens.device_id, tokens.kind, tokens.csrf, "+
			"tokens.created_at, tokens.expires_at, tokens.revoked_at, users.role, users.deactivated_at").
		Joins("JOIN users ON users.id = tokens.user_id").
		Where("tokens.token_hash = ?", hash).Take(&r).Error
	if err != nil {
		return TokenOwner{}, Translate(err, "token")
	}
	return TokenOwner{Role: domain.Role(r.Role), UserDeactivated: r.DeactivatedAt != nil, TokenRecord: TokenRecord{Hash: r.TokenHash, UserID: r.UserID,
		DeviceID: r.DeviceID, Kind: r.Kind, CSRF: r.CSRF, CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(), RevokedAt: utcPtr(r.RevokedAt)}}, nil
}

// RevokeToken revokes one token; revoking it again keeps the first time.
func RevokeToken(tx *Tx, hash string) error {
	err := tx.g.Model(&tokenRow{}).Where("token_hash = ? AND revoked_at IS NULL", hash).
		Update("revoked_at", tx.now).Error
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	NoteKeys(tx, TokenNoteKey+hash)
	return nil
}

// RevokeDevice revokes every token issued to deviceID, whichever user signed in
// on it, and marks its device rows revoked. It reports whether the device was
// known.
func RevokeDevice(tx *Tx, deviceID string) (bool, error) {
	res := tx.g.Model(&deviceRow{}).Where("device_id = ?", deviceID).
		Update("revoked_at", gorm.Expr("COALESCE(revoked_at, ?)", tx.now))
	if res.Error != nil {
		return false, fmt.Errorf("revoke device %s: %w", deviceID, res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	err := tx.g.Model(&tokenRow{}).Where("device_id = ? AND revoked_at IS NULL", deviceID).
		Update("revoked_at", tx.now).Error
	if err != nil {
		return false, fmt.Errorf("revoke tokens of device %s: %w", deviceID, err)
	}
	NoteKeys(tx, DeviceNoteKey+deviceID)
	return true, nil
}

// ListDevices lists a user's devices, oldest first.
func ListDevices(tx *Tx, userID string) ([]DeviceRecord, error) {
	var rows []deviceRow
	if err := tx.g.Where("user_id = ?", userID).Order("created_at, device_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("devices of user %s: %w", userID, err)
	}
	out := make([]DeviceRecord, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// DeviceTouch is what a sync request reports about a device; nil fields are left
// unchanged.
type DeviceTouch struct {
	PulledAt *time.Time
	PushedAt *time.Time
	Pending  *int64
	// PullGranularity, when set with only PulledAt, skips the write while the
	// stored stamp is younger than this: an idle device polling every few seconds
	// should not cost a write (and a WAL flush) per poll.
	PullGranularity time.Duration
}

// TouchDevice records sync activity of a user's device for the sync-health report.
func TouchDevice(tx *Tx, userID, deviceID string, t DeviceTouch) error {
	set := map[string]any{}
	if t.PulledAt != nil {
		set["last_pull_at"] = *t.PulledAt
	}
	if t.PushedAt != nil {
		set["last_push_at"] = *t.PushedAt
	}
	if t.Pending != nil {
		set["pending"] = *t.Pending
	}
	if len(set) == 0 {
		return nil
	}
	q := tx.g.Model(&deviceRow{}).Where("user_id = ? AND device_id = ?", userID, deviceID)
	if t.PullGranularity > 0 && t.PulledAt != nil && len(set) == 1 {
		q = q.Where("last_pull_at IS NULL OR last_pull_at < ?", t.PulledAt.Add(-t.PullGranularity))
	}
	err := q.Updates(set).Error
	if err != nil {
		return fmt.Errorf("touch device %s: %w", deviceID, err)
	}
	return nil
}

// RevokeUserTokens revokes every live token of a user, device tokens and
// dashboard sessions alike, and marks the user's devices revoked: a password
// or role change or a deactivation ends every sign-in at once.
func RevokeUserTokens(tx *Tx, userID string) error {
	if err := tx.g.Model(&tokenRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", tx.now).Error; err != nil {
		return fmt.Errorf("revoke tokens of user %s: %w", userID, err)
	}
	if err := tx.g.Model(&deviceRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", tx.now).Error; err != nil {
		return fmt.Errorf("revoke devices of user %s: %w", userID, err)
	}
	NoteKeys(tx, domain.UserKey(userID))
	return nil
}

// SessionRecord is a dashboard session as a device list shows it.
type SessionRecord struct {
	DeviceID  string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// ListSessions lists a user's dashboard sessions (tokens of kind), oldest
// first, that have not expired yet: revoked ones stay listed until then.
func ListSessions(tx *Tx, userID, kind string) ([]SessionRecord, error) {
	var rows []tokenRow
	err := tx.g.Where("user_id = ? AND kind = ? AND expires_at > ?", userID, kind, tx.now).
		Order("created_at, device_id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sessions of user %s: %w", userID, err)
	}
	out := make([]SessionRecord, len(rows))
	for i, r := range rows {
		out[i] = SessionRecord{DeviceID: r.DeviceID, CreatedAt: r.CreatedAt.UTC(), RevokedAt: utcPtr(r.RevokedAt)}
	}
	return out, nil
}

// RevokeSession revokes the dashboard session (tokens of kind) known by
// deviceID. It reports whether such a session exists.
func RevokeSession(tx *Tx, deviceID, kind string) (bool, error) {
	var n int64
	if err := tx.g.Model(&tokenRow{}).Where("device_id = ? AND kind = ?", deviceID, kind).Count(&n).Error; err != nil {
		return false, fmt.Errorf("find session %s: %w", deviceID, err)
	}
	if n == 0 {
		return false, nil
	}
	err := tx.g.Model(&tokenRow{}).Where("device_id = ? AND kind = ? AND revoked_at IS NULL", deviceID, kind).
		Update("revoked_at", tx.now).Error
	if err != nil {
		return false, fmt.Errorf("revoke session %s: %w", deviceID, err)
	}
	NoteKeys(tx, DeviceNoteKey+deviceID)
	return true, nil
}
