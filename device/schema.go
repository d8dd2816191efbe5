package device

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// schemaVersion is stored in PRAGMA user_version; a file written by a newer SDK
// is refused rather than misread. Version 2 adds the targets mirror, version
// 3 the attachments mirror, version 4 the upload queue (uploads).
const schemaVersion = 4

// mirrorRow is one row of a synced table's local mirror. Row is the local view;
// ServerRow the last copy the server sent (nil for a row created on this device
// and not yet acknowledged); Version the server version of that copy.
type mirrorRow struct {
	ID        string `gorm:"primaryKey"`
	Version   int64
	Row       string
	ServerRow *string
	AccountID *string
	SortKey   string
}

// outboxRow is one offline mutation. Sent is set before the first request that
// carries it: from then on it is never changed, so a resend is byte-identical.
type outboxRow struct {
	Seq         int64  `gorm:"primaryKey;autoIncrement"`
	MutationID  string `gorm:"uniqueIndex"`
	Tbl         string
	Op          string
	RowID       string
	BaseVersion int64
	Patch       *string
	State       string
	Sent        bool
	Error       *string
	CreatedAt   time.Time
}

func (outboxRow) TableName() string { return "outbox" }

type conflictRow struct {
	ConflictID string `gorm:"primaryKey"`
	MutationID string
	Tbl        string
	RowID      string
	Op         string
	Patch      *string
	Reason     string
	Version    int64
	CreatedAt  time.Time
}

func (conflictRow) TableName() string { return "conflicts" }

type metaRow struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

func (metaRow) TableName() string { return "meta" }

// Outbox states.
const (
	statePending = "pending"
	stateFailed  = "failed"
)

func schemaDDL() []string {
	ddl := []string{
		`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`CREATE TABLE outbox (
			seq INTEGER PRIMARY KEY AUTOINCREMENT,
			mutation_id TEXT NOT NULL UNIQUE,
			tbl TEXT NOT NULL,
			op TEXT NOT NULL,
			row_id TEXT NOT NULL,
			base_version INTEGER NOT NULL,
			patch TEXT,
			state TEXT NOT NULL,
			sent INTEGER NOT NULL DEFAULT 0,
			error TEXT,
			created_at DATETIME NOT NULL)`,
		`CREATE INDEX outbox_row ON outbox (tbl, row_id, seq)`,
		`CREATE TABLE conflicts (
			conflict_id TEXT PRIMARY KEY,
			mutation_id TEXT NOT NULL,
			tbl TEXT NOT NULL,
			row_id TEXT NOT NULL,
			op TEXT NOT NULL,
			patch TEXT,
			reason TEXT NOT NULL,
			version INTEGER NOT NULL,
			created_at DATETIME NOT NULL)`,
	}
	for _, t := range domain.SyncedTables {
		ddl = append(ddl, mirrorDDL(t)...)
	}
	return append(ddl, uploadsDDL...)
}

// uploadsDDL is the queue of attachment bytes still to upload: one row per
// attachment whose file (in the files directory beside the device file) the
// server has not confirmed. url is the tus upload once created, so a restarted
// app resumes it instead of starting again.
var uploadsDDL = []string{
	`CREATE TABLE uploads (
		attachment_id TEXT PRIMARY KEY,
		size INTEGER NOT NULL,
		sha256 TEXT NOT NULL,
		url TEXT,
		state TEXT NOT NULL,
		error TEXT,
		created_at DATETIME NOT NULL)`,
}

// mirrorDDL creates the local mirror of one synced table.
func mirrorDDL(t string) []string {
	return []string{
		fmt.Sprintf(`CREATE TABLE %s (
				id TEXT PRIMARY KEY,
				version INTEGER NOT NULL,
				row TEXT NOT NULL,
				server_row TEXT,
				account_id TEXT,
				sort_key TEXT NOT NULL DEFAULT '')`, t),
		fmt.Sprintf(`CREATE INDEX %s_account ON %s (account_id, sort_key)`, t, t),
	}
}

// upgrades[v] brings a file of schema v to v+1.
var upgrades = map[int][]string{
	1: mirrorDDL(domain.TableTargets),
	2: mirrorDDL(domain.TableAttachments),
	3: uploadsDDL,
}

// migrate creates the schema of a new file and refuses one from a newer SDK.
func migrate(ctx context.Context, db *gorm.DB) error {
	var v int
	if err := db.WithContext(ctx).Raw(`PRAGMA user_version`).Scan(&v).Error; err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("device file has schema %d, this SDK knows %d", v, schemaVersion)
	}
	stmts := schemaDDL()
	if v > 0 {
		// A file of an older SDK: its mirror is kept; the server resets its
		// cursor anyway, because the tables of its scope changed.
		stmts = nil
		for ; v < schemaVersion; v++ {
			stmts = append(stmts, upgrades[v]...)
		}
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, stmt := range stmts {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		return tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)).Error
	})
}
