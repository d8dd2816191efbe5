package backoffice_test

import (
	"context"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

func TestAdmin_CreateProduct(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		in := backoffice.ProductInput{SKU: "SKU-1", Name: "Widget", UnitPriceCents: ptr(int64(1250)), Currency: "EUR"}
		p, err := a.CreateProduct(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Active || p.Version != 1 || p.UnitPriceCents != 1250 {
			t.Errorf("created %+v", p)
		}
		wantChanges(t, db, p.ID, "upsert "+domain.KeyProducts)

		t.Run("Inactive", func(t *testing.T) {
			in := in
			in.SKU, in.Active = "SKU-2", ptr(false)
			p, err := a.CreateProduct(ctx, in)
			if err != nil || p.Active {
				t.Fatalf("created %+v, %v", p, err)
			}
			wantChanges(t, db, p.ID, "upsert "+domain.KeyInactive)
		})
		t.Run("ErrDuplicateSKU", func(t *testing.T) {
			_, err := a.CreateProduct(ctx, in)
			wantCode(t, err, domain.CodeConflict)
		})
		t.Run("ErrDuplicateID", func(t *testing.T) {
			in := in
			in.ID, in.SKU = &p.ID, "SKU-3"
			_, err := a.CreateProduct(ctx, in)
			wantCode(t, err, domain.CodeConflict)
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			_, err := a.CreateProduct(ctx, backoffice.ProductInput{Currency: "euro"})
			wantFields(t, err, "sku", "name", "unit_price_cents", "currency")
			_, err = a.CreateProduct(ctx, backoffice.ProductInput{SKU: "S", Name: "N", UnitPriceCents: ptr(int64(-1)), Currency: "EUR"})
			wantFields(t, err, "unit_price_cents")
		})
	})
}

func TestAdmin_UpdateProduct(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		p, err := a.CreateProduct(ctx, backoffice.ProductInput{SKU: "A", Name: "Widget", UnitPriceCents: ptr(int64(100)), Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateProduct(ctx, backoffice.ProductInput{SKU: "B", Name: "Gadget", UnitPriceCents: ptr(int64(100)), Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}

		t.Run("Deactivate", func(t *testing.T) {
			got, err := a.UpdateProduct(ctx, p.ID, backoffice.ProductPatch{Active: backoffice.Some(false),
				UnitPriceCents: backoffice.Some(int64(150))})
			if err != nil || got.Active || got.UnitPriceCents != 150 || got.Version != 2 || got.SKU != "A" {
				t.Fatalf("updated %+v, %v", got, err)
			}
			// Reps' devices drop it; organisation-wide roles keep seeing it.
			wantChanges(t, db, p.ID, "delete "+domain.KeyProducts+" out_of_scope", "upsert "+domain.KeyInactive)
		})
		t.Run("ErrDuplicateSKU", func(t *testing.T) {
			_, err := a.UpdateProduct(ctx, p.ID, backoffice.ProductPatch{SKU: backoffice.Some("B")})
			wantCode(t, err, domain.CodeConflict)
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			_, err := a.UpdateProduct(ctx, p.ID, backoffice.ProductPatch{Active: backoffice.Null[bool](),
				Currency: backoffice.Some("XXXX"), Name: backoffice.Some("")})
			wantFields(t, err, "active", "currency", "name")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := a.UpdateProduct(ctx, uuid.NewString(), backoffice.ProductPatch{Name: backoffice.Some("X")})
			wantCode(t, err, domain.CodeNotFound)
		})
	})
}
