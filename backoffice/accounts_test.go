package backoffice_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

func TestAdmin_CreateAccount(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		o := newOrg(t, db)
		acc, err := a.CreateAccount(ctx, backoffice.AccountInput{Name: "Acme", TerritoryID: o.north, Class: domain.ClassA,
			OwnerID: &o.rep, Phone: ptr("+44 1"), Lat: ptr(51.5), Lng: ptr(-0.1)})
		if err != nil {
			t.Fatal(err)
		}
		if acc.Status != domain.AccountActive || acc.Version != 1 || *acc.OwnerID != o.rep || *acc.Lat != 51.5 {
			t.Errorf("created %+v", acc)
		}
		wantChanges(t, db, acc.ID, "upsert "+domain.TerritoryKey(o.north), "upsert "+domain.OwnerKey(o.rep))

		t.Run("ErrDuplicateID", func(t *testing.T) {
			_, err := a.CreateAccount(ctx, backoffice.AccountInput{ID: &acc.ID, Name: "Acme", TerritoryID: o.north, Class: domain.ClassA})
			wantCode(t, err, domain.CodeConflict)
		})
		t.Run("ErrUnknownReferences", func(t *testing.T) {
			_, err := a.CreateAccount(ctx, backoffice.AccountInput{Name: "Acme", TerritoryID: uuid.NewString(),
				OwnerID: ptr(uuid.NewString()), Class: domain.ClassB})
			wantFields(t, err, "territory_id", "owner_id")
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			_, err := a.CreateAccount(ctx, backoffice.AccountInput{Class: "Z", Status: ptr("gone"),
				Email: ptr("nope"), Lat: ptr(91.0)})
			wantFields(t, err, "name", "territory_id", "class", "status", "email", "lat", "lng")
		})
	})
}

func TestAdmin_UpdateAccount(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		o := newOrg(t, db)
		acc, err := a.CreateAccount(ctx, backoffice.AccountInput{Name: "Acme", TerritoryID: o.north, Class: domain.ClassA,
			OwnerID: &o.rep, Address: ptr("1 High St")})
		if err != nil {
			t.Fatal(err)
		}
		visit := domain.Visit{ID: uuid.NewString(), AccountID: acc.ID, RepID: o.rep, Status: domain.VisitPlanned,
			PlannedAt: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := store.CreateVisit(tx, acc, visit)
			return err
		}); err != nil {
			t.Fatal(err)
		}

		t.Run("Reassign", func(t *testing.T) {
			got, err := a.UpdateAccount(ctx, acc.ID, backoffice.AccountPatch{TerritoryID: backoffice.Some(o.south),
				OwnerID: backoffice.Null[string](), Address: backoffice.Null[string](), Class: backoffice.Some(domain.ClassC)})
			if err != nil {
				t.Fatal(err)
			}
			if got.TerritoryID != o.south || got.OwnerID != nil || got.Address != nil || got.Class != domain.ClassC ||
				got.Name != "Acme" || got.Version != 2 {
				t.Errorf("updated %+v", got)
			}
			// Devices that saw the account (and its visit) through the old
			// territory or the owner get deletes; the new territory gets upserts.
			for _, id := range []string{acc.ID, visit.ID} {
				wantChanges(t, db, id, "delete "+domain.TerritoryKey(o.north)+" out_of_scope",
					"delete "+domain.OwnerKey(o.rep)+" out_of_scope", "upsert "+domain.TerritoryKey(o.south))
			}
		})
		t.Run("NoChangeKeepsVersion", func(t *testing.T) {
			got, err := a.UpdateAccount(ctx, acc.ID, backoffice.AccountPatch{TerritoryID: backoffice.Some(o.south)})
			if err != nil || got.Version != 2 {
				t.Fatalf("no-op update: %+v, %v", got, err)
			}
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			_, err := a.UpdateAccount(ctx, acc.ID, backoffice.AccountPatch{TerritoryID: backoffice.Null[string](),
				OwnerID: backoffice.Some(uuid.NewString()), Status: backoffice.Some("closed"), Lng: backoffice.Some(10.0)})
			wantFields(t, err, "territory_id", "owner_id", "status", "lat")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := a.UpdateAccount(ctx, uuid.NewString(), backoffice.AccountPatch{Name: backoffice.Some("X")})
			wantCode(t, err, domain.CodeNotFound)
		})
	})
}
