package backoffice_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

func TestAdmin_CreateTerritory(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		root, err := a.CreateTerritory(ctx, backoffice.TerritoryInput{Name: "  Region  "})
		if err != nil {
			t.Fatal(err)
		}
		if !domain.IsUUID(root.ID) || root.Name != "Region" || root.ParentID != nil || root.Version != 1 {
			t.Errorf("created %+v", root)
		}
		wantChanges(t, db, root.ID, "upsert "+domain.TerritoryRowKey(root.ID))

		t.Run("OwnID", func(t *testing.T) {
			id := uuid.NewString()
			got, err := a.CreateTerritory(ctx, backoffice.TerritoryInput{ID: &id, Name: "North", ParentID: &root.ID})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != id || got.ParentID == nil || *got.ParentID != root.ID {
				t.Errorf("created %+v", got)
			}
		})
		t.Run("ErrDuplicateID", func(t *testing.T) {
			_, err := a.CreateTerritory(ctx, backoffice.TerritoryInput{ID: &root.ID, Name: "Again"})
			wantCode(t, err, domain.CodeConflict)
		})
		t.Run("ErrUnknownParent", func(t *testing.T) {
			_, err := a.CreateTerritory(ctx, backoffice.TerritoryInput{Name: "X", ParentID: ptr(uuid.NewString())})
			wantFields(t, err, "parent_id")
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			_, err := a.CreateTerritory(ctx, backoffice.TerritoryInput{ID: ptr(strings.ToUpper(uuid.NewString())),
				Name: " ", ParentID: ptr("not-a-uuid")})
			wantFields(t, err, "id", "name", "parent_id")
			if msg := domain.AsError(err).Fields[0].Message; msg != "must be a lower-case UUID" {
				t.Errorf("id message = %q", msg)
			}
		})
	})
}

func TestAdmin_UpdateTerritory(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		o := newOrg(t, db)
		leaf, err := a.CreateTerritory(ctx, backoffice.TerritoryInput{Name: "Leaf", ParentID: &o.north})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("Rename", func(t *testing.T) {
			got, err := a.UpdateTerritory(ctx, o.north, backoffice.TerritoryPatch{Name: backoffice.Some("Northern")})
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "Northern" || got.Version != 2 || got.ParentID == nil || *got.ParentID != o.region {
				t.Errorf("updated %+v", got)
			}
		})
		t.Run("ErrCycle", func(t *testing.T) {
			// itself, its child, its grandchild
			for _, parent := range []string{o.region, o.north, leaf.ID} {
				_, err := a.UpdateTerritory(ctx, o.region, backoffice.TerritoryPatch{ParentID: backoffice.Some(parent)})
				wantFields(t, err, "parent_id")
			}
			got, err := a.UpdateTerritory(ctx, o.region, backoffice.TerritoryPatch{})
			if err != nil || got.ParentID != nil || got.Version != 1 {
				t.Errorf("region after refused moves: %+v, %v", got, err)
			}
		})
		t.Run("MoveAndMakeRoot", func(t *testing.T) {
			got, err := a.UpdateTerritory(ctx, leaf.ID, backoffice.TerritoryPatch{ParentID: backoffice.Some(o.south)})
			if err != nil || *got.ParentID != o.south || got.Version != 2 {
				t.Fatalf("moved: %+v, %v", got, err)
			}
			got, err = a.UpdateTerritory(ctx, leaf.ID, backoffice.TerritoryPatch{ParentID: backoffice.Null[string]()})
			if err != nil || got.ParentID != nil || got.Version != 3 {
				t.Fatalf("made root: %+v, %v", got, err)
			}
			var es []store.ChangeEntry
			if err := db.Gorm.Where("row_id = ?", leaf.ID).Find(&es).Error; err != nil || len(es) != 1 || es[0].Version != 3 {
				t.Errorf("change log of leaf = %+v, %v; want one entry at version 3", es, err)
			}
		})
		t.Run("ErrNullName", func(t *testing.T) {
			_, err := a.UpdateTerritory(ctx, o.south, backoffice.TerritoryPatch{Name: backoffice.Null[string]()})
			wantFields(t, err, "name")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			for _, id := range []string{uuid.NewString(), "nope"} {
				_, err := a.UpdateTerritory(ctx, id, backoffice.TerritoryPatch{Name: backoffice.Some("X")})
				wantCode(t, err, domain.CodeNotFound)
			}
		})
	})
}

func TestAdmin_ListTerritories(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		o := newOrg(t, db)
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			page, err := a.ListTerritories(ctx, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range page.Items {
				seen = append(seen, tr.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		want := []string{o.region, o.north, o.south}
		slices.Sort(want)
		if strings.Join(seen, ",") != strings.Join(want, ",") {
			t.Errorf("listed %v, want %v", seen, want)
		}
		_, err := a.ListTerritories(ctx, "garbage!", 2)
		wantCode(t, err, domain.CodeBadRequest)
	})
}
