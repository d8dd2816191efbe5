package reports

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// DeviceHealth is one device of the sync-health report.
type DeviceHealth struct {
	UserID        string     `json:"user_id"`
	UserName      string     `json:"user_name"`
	Role          string     `json:"role"`
	DeviceID      string     `json:"device_id"`
	DeviceName    *string    `json:"device_name"`
	CreatedAt     time.Time  `json:"created_at"`
	LastPullAt    *time.Time `json:"last_pull_at"`
	LastPushAt    *time.Time `json:"last_push_at"`
	Pending       *int64     `json:"pending"` // outbox size the device last reported; null if never
	OpenConflicts int64      `json:"open_conflicts"`
	// PendingAttachments counts the attachments this device pushed whose
	// bytes the server has not received yet (status pending).
	PendingAttachments int64 `json:"pending_attachments"`
}

// SyncHealthPage is one page of the sync-health report.
type SyncHealthPage struct {
	Items      []DeviceHealth `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

type deviceRow struct {
	UserID        string
	UserName      string
	Role          string
	DeviceID      string
	DeviceName    *string
	CreatedAt     nullTime
	LastPullAt    nullTime
	LastPushAt    nullTime
	Pending       *int64
	OpenConflicts int64
}

type deviceCursor struct {
	Name   string `json:"n"`
	User   string `json:"u"`
	Device string `json:"d"`
}

const syncHealthSQL = `
SELECT d.user_id AS user_id, u.name AS user_name, u.role AS role, d.device_id AS device_id,
  d.device_name AS device_name, d.created_at AS created_at, d.last_pull_at AS last_pull_at,
  d.last_push_at AS last_push_at, d.pending AS pending,
  (SELECT COUNT(*) FROM conflicts c WHERE c.user_id = d.user_id AND c.device_id = d.device_id
     AND c.status = 'open') AS open_conflicts
FROM devices d JOIN users u ON u.id = d.user_id
WHERE d.revoked_at IS NULL%s
ORDER BY u.name, d.user_id, d.device_id
LIMIT ?`

// SyncHealth lists the devices of the users in the caller's scope (the users
// assigned to its territories; everyone's for the organisation), revoked devices
// left out, by user name.
func (s *Service) SyncHealth(ctx context.Context, c domain.Caller, p Params, cursor string, limit int) (SyncHealthPage, error) {
	out := SyncHealthPage{Items: []DeviceHealth{}}
	cond, args, err := deviceCursorCond(cursor)
	if err != nil {
		return out, err
	}
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		sc, err := s.resolveScope(tx, c, kindSyncHealth, p.TerritoryID)
		if err != nil || sc.empty() {
			return err
		}
		if !sc.All {
			cond += " AND d.user_id IN (SELECT ut.user_id FROM user_territories ut WHERE ut.territory_id IN ?)"
			args = append(args, sc.Territories)
		}
		var rows []deviceRow
		if err := tx.Query(&rows, fmt.Sprintf(syncHealthSQL, cond), append(args, limit+1)...); err != nil {
			return fmt.Errorf("sync health: %w", err)
		}
		if len(rows) > limit {
			rows = rows[:limit]
			last := rows[limit-1]
			b, _ := json.Marshal(deviceCursor{Name: last.UserName, User: last.UserID, Device: last.DeviceID})
			next := base64.RawURLEncoding.EncodeToString(b)
			out.NextCursor = &next
		}
		for _, r := range rows {
			out.Items = append(out.Items, DeviceHealth{UserID: r.UserID, UserName: r.UserName, Role: r.Role,
				DeviceID: r.DeviceID, DeviceName: r.DeviceName, CreatedAt: r.CreatedAt.Time,
				LastPullAt: r.LastPullAt.ptr(), LastPushAt: r.LastPushAt.ptr(), Pending: r.Pending,
				OpenConflicts: r.OpenConflicts})
		}
		return nil
	})
	if err != nil || len(out.Items) == 0 {
		return out, err
	}
	waiting, err := s.db.PendingAttachments(ctx)
	if err != nil {
		return out, err
	}
	for i := range out.Items {
		d := &out.Items[i]
		d.PendingAttachments = int64(waiting[[2]string{d.UserID, d.DeviceID}])
	}
	return out, nil
}

func deviceCursorCond(cursor string) (string, []any, error) {
	if cursor == "" {
		return "", nil, nil
	}
	var c deviceCursor
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.User == "" {
		return "", nil, badParam("cursor", "not a cursor of this report")
	}
	return " AND (u.name > ? OR (u.name = ? AND (d.user_id > ? OR (d.user_id = ? AND d.device_id > ?))))",
		[]any{c.Name, c.Name, c.User, c.User, c.Device}, nil
}
