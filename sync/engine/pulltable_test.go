package engine_test

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// PullTable pages hold changes of their table only, at most limit of them,
// and walking them from cursor to cursor meets every change once: first the
// initial sync, then exactly the rows written after it, while writes to other
// tables in between do not show.
func TestPullTable_OneTableNeverSkipsOrRepeats(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		ctx := context.Background()
		var visits []string
		for i := range 5 {
			id := uuid.NewString()
			acc := o.acc1
			if i%2 == 1 {
				acc = o.acc1b
			}
			visits = append(visits, id)
			o.push(t, o.rep1, mut("visits", "upsert", id, 0, map[string]any{"account_id": acc, "planned_at": "2026-11-30T09:00:00Z"}))
			o.push(t, o.rep1, mut("account_notes", "upsert", uuid.NewString(), 0, map[string]any{"account_id": acc, "body": "n"}))
		}
		o.push(t, o.rep2, mut("visits", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc2, "planned_at": "2026-11-30T09:00:00Z"}))
		walk := func(cursor string) (map[string]int, string) {
			seen := map[string]int{}
			for {
				page, err := o.eng.PullTable(ctx, o.actor(o.rep1), "visits", cursor, 2)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Changes) > 2 {
					t.Fatalf("page of %d changes, limit 2", len(page.Changes))
				}
				for _, c := range page.Changes {
					if c.Table != "visits" {
						t.Fatalf("change of %s in a visits page", c.Table)
					}
					seen[c.ID]++
				}
				cursor = page.Cursor
				if !page.HasMore {
					return seen, cursor
				}
			}
		}
		seen, cursor := walk("")
		if len(seen) != len(visits) {
			t.Fatalf("initial sync: %d visits, want %d: %v", len(seen), len(visits), seen)
		}
		for _, id := range visits {
			if seen[id] != 1 {
				t.Fatalf("visit %s seen %d times", id, seen[id])
			}
		}
		fresh := uuid.NewString()
		o.push(t, o.rep1, mut("account_notes", "upsert", uuid.NewString(), 0, map[string]any{"account_id": o.acc1, "body": "n"}))
		o.push(t, o.rep1, mut("visits", "upsert", fresh, 0, map[string]any{"account_id": o.acc1, "planned_at": "2026-12-01T09:00:00Z"}))
		o.push(t, o.rep1, mut("visits", "upsert", visits[0], 1, map[string]any{"report": "moved"}))
		seen, _ = walk(cursor)
		if len(seen) != 2 || seen[fresh] != 1 || seen[visits[0]] != 1 {
			t.Fatalf("after the cursor: %v, want the new visit and the edited one once each", seen)
		}
	})
}

// A table the role does not receive answers no changes, not an error.
func TestPullTable_TableOutsideTheRole(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		page, err := o.eng.PullTable(context.Background(), o.actor(o.rep1), "no_such_table", "", 10)
		if err != nil || len(page.Changes) != 0 || page.HasMore {
			t.Fatalf("page = %+v, %v", page, err)
		}
	})
}
