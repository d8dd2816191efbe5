package reports

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// devices are the auth service's rows; the report only reads them, so the test
// writes them as the auth service would.
func addDevice(t *testing.T, db *store.DB, user, device string, pending *int64, revoked bool) {
	t.Helper()
	row := map[string]any{"user_id": user, "device_id": device, "device_name": "Phone " + device,
		"created_at": at("2026-03-01 08:00"), "last_pull_at": at("2026-03-09 18:00"), "pending": pending}
	if revoked {
		row["revoked_at"] = at("2026-03-05 08:00")
	}
	if err := db.Gorm.Table("devices").Create(row).Error; err != nil {
		t.Fatal(err)
	}
}

func addConflict(t *testing.T, db *store.DB, user, device, status string) {
	t.Helper()
	row := map[string]any{"id": uuid.NewString(), "tbl": "visits", "row_id": uuid.NewString(), "status": status,
		"reason": "test", "user_id": user, "device_id": device, "device_row": "{}", "created_at": time.Now().UTC()}
	if err := db.Gorm.Table("conflicts").Create(row).Error; err != nil {
		t.Fatal(err)
	}
}

func TestReports_SyncHealth(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildWorld(t, db)
		s := newService(t, db)
		ctx := context.Background()
		addDevice(t, db, w.id("rep1"), "p1", ptr(int64(3)), false)
		addDevice(t, db, w.id("rep1"), "p2", nil, false)
		addDevice(t, db, w.id("rep1"), "lost", nil, true)
		addDevice(t, db, w.id("rep2"), "p3", ptr(int64(0)), false)
		addDevice(t, db, w.id("rep3"), "p4", nil, false)
		addConflict(t, db, w.id("rep1"), "p1", "open")
		addConflict(t, db, w.id("rep1"), "p1", "open")
		addConflict(t, db, w.id("rep1"), "p1", "resolved")
		addConflict(t, db, w.id("rep1"), "p2", "resolved")

		t.Run("ManagerPages", func(t *testing.T) {
			var got []DeviceHealth
			cursor := ""
			for i := 0; i < 5; i++ {
				page, err := s.SyncHealth(ctx, w.caller("manager"), Params{}, cursor, 2)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page.Items...)
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			// rep3 (T3) is outside; the revoked phone is left out.
			if len(got) != 3 || got[0].DeviceID != "p1" || got[1].DeviceID != "p2" || got[2].DeviceID != "p3" {
				t.Fatalf("devices = %+v, want p1, p2 (rep1), p3 (rep2)", got)
			}
			if got[0].OpenConflicts != 2 || *got[0].Pending != 3 || got[0].UserName != "User rep1" ||
				!got[0].LastPullAt.Equal(at("2026-03-09 18:00")) || got[0].LastPushAt != nil {
				t.Errorf("p1 = %+v", got[0])
			}
			if got[1].OpenConflicts != 0 || got[1].Pending != nil {
				t.Errorf("p2 = %+v, want no open conflicts, pending null", got[1])
			}
		})

		t.Run("Director", func(t *testing.T) {
			page, err := s.SyncHealth(ctx, w.caller("director"), Params{}, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 4 || page.NextCursor != nil {
				t.Fatalf("devices = %+v, want 4 on one page", page.Items)
			}
		})

		t.Run("Coordinator/ErrForbidden", func(t *testing.T) {
			_, err := s.SyncHealth(ctx, w.caller("coordinator"), Params{}, "", 10)
			if domain.ErrorCode(err) != domain.CodeForbidden {
				t.Fatalf("error = %v, want forbidden", err)
			}
		})
	})
}
