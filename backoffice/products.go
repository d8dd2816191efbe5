package backoffice

import (
	"context"
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// ProductInput is the body of a product create; active defaults to true.
type ProductInput struct {
	ID             *string `json:"id"`
	SKU            string  `json:"sku"`
	Name           string  `json:"name"`
	UnitPriceCents *int64  `json:"unit_price_cents"`
	Currency       string  `json:"currency"`
	Active         *bool   `json:"active"`
}

// ProductPatch is the body of a product update. Deactivating a product takes it
// off reps' devices (they get a delete) and keeps it for organisation-wide roles.
type ProductPatch struct {
	SKU            Optional[string] `json:"sku,omitzero"`
	Name           Optional[string] `json:"name,omitzero"`
	UnitPriceCents Optional[int64]  `json:"unit_price_cents,omitzero"`
	Currency       Optional[string] `json:"currency,omitzero"`
	Active         Optional[bool]   `json:"active,omitzero"`
}

func (a *Admin) CreateProduct(ctx context.Context, in ProductInput) (domain.Product, error) {
	var out domain.Product
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var f fields
		p := domain.Product{ID: f.newID(in.ID), SKU: trimmed(in.SKU), Name: trimmed(in.Name),
			Currency: in.Currency, Active: true}
		if in.UnitPriceCents == nil {
			f.add("unit_price_cents", "is required")
		} else {
			p.UnitPriceCents = *in.UnitPriceCents
		}
		if in.Active != nil {
			p.Active = *in.Active
		}
		if err := f.validate(domain.ValidateProduct(p)); err != nil {
			return err
		}
		switch _, err := store.GetProduct(tx, p.ID, false); {
		case err == nil:
			return domain.Errorf(domain.CodeConflict, "product %s already exists", p.ID)
		case domain.ErrorCode(err) != domain.CodeNotFound:
			return fmt.Errorf("check product id: %w", err)
		}
		var err error
		out, err = store.CreateProduct(tx, p)
		return skuTaken(err, p.SKU)
	})
	return out, err
}

func (a *Admin) UpdateProduct(ctx context.Context, id string, patch ProductPatch) (domain.Product, error) {
	if err := checkPathID("product", id); err != nil {
		return domain.Product{}, err
	}
	var out domain.Product
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := store.GetProduct(tx, id, true)
		if err != nil {
			return err
		}
		var f fields
		p := old
		apply(&f, "sku", patch.SKU, &p.SKU)
		p.SKU = trimmed(p.SKU)
		apply(&f, "name", patch.Name, &p.Name)
		p.Name = trimmed(p.Name)
		apply(&f, "unit_price_cents", patch.UnitPriceCents, &p.UnitPriceCents)
		apply(&f, "currency", patch.Currency, &p.Currency)
		apply(&f, "active", patch.Active, &p.Active)
		if err := f.validate(domain.ValidateProduct(p)); err != nil {
			return err
		}
		out, err = store.UpdateProduct(tx, old, p)
		return skuTaken(err, p.SKU)
	})
	return out, err
}

// skuTaken names the clash once the id is known to be free: the only other
// unique column of products is the sku.
func skuTaken(err error, sku string) error {
	return conflictOn(err, "a product with sku %s already exists", sku)
}
