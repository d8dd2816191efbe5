package backoffice

import (
	"context"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// AccountInput is the body of an account create; status defaults to active.
type AccountInput struct {
	ID          *string  `json:"id"`
	Name        string   `json:"name"`
	TerritoryID string   `json:"territory_id"`
	OwnerID     *string  `json:"owner_id"`
	Class       string   `json:"class"`
	Status      *string  `json:"status"`
	Address     *string  `json:"address"`
	Phone       *string  `json:"phone"`
	Email       *string  `json:"email"`
	Lat         *float64 `json:"lat"`
	Lng         *float64 `json:"lng"`
}

// AccountPatch is the body of an account update. Changing territory_id or
// owner_id reassigns the account: devices that lose it get deletes for it and
// its history, devices that gain it get both. A null owner_id clears the owner.
type AccountPatch struct {
	Name        Optional[string]  `json:"name,omitzero"`
	TerritoryID Optional[string]  `json:"territory_id,omitzero"`
	OwnerID     Optional[string]  `json:"owner_id,omitzero"`
	Class       Optional[string]  `json:"class,omitzero"`
	Status      Optional[string]  `json:"status,omitzero"`
	Address     Optional[string]  `json:"address,omitzero"`
	Phone       Optional[string]  `json:"phone,omitzero"`
	Email       Optional[string]  `json:"email,omitzero"`
	Lat         Optional[float64] `json:"lat,omitzero"`
	Lng         Optional[float64] `json:"lng,omitzero"`
}

func (a *Admin) CreateAccount(ctx context.Context, in AccountInput) (domain.Account, error) {
	var out domain.Account
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var f fields
		acc := domain.Account{ID: f.newID(in.ID), Name: trimmed(in.Name), Class: in.Class,
			Status: domain.AccountActive, Address: in.Address, Phone: in.Phone, Email: in.Email,
			Lat: in.Lat, Lng: in.Lng}
		if in.Status != nil {
			acc.Status = *in.Status
		}
		if err := f.setTerritory(tx, &acc, in.TerritoryID); err != nil {
			return err
		}
		if in.OwnerID != nil {
			if err := f.setOwner(tx, &acc, *in.OwnerID); err != nil {
				return err
			}
		}
		if err := f.validate(domain.ValidateAccount(acc)); err != nil {
			return err
		}
		var err error
		out, err = store.CreateAccount(tx, acc)
		return conflictOn(err, "account %s already exists", acc.ID)
	})
	return out, err
}

func (a *Admin) UpdateAccount(ctx context.Context, id string, p AccountPatch) (domain.Account, error) {
	if err := checkPathID("account", id); err != nil {
		return domain.Account{}, err
	}
	var out domain.Account
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		old, fv, err := store.GetAccount(tx, id, true)
		if err != nil {
			return err
		}
		var f fields
		acc := old
		apply(&f, "name", p.Name, &acc.Name)
		acc.Name = trimmed(acc.Name)
		apply(&f, "class", p.Class, &acc.Class)
		apply(&f, "status", p.Status, &acc.Status)
		applyNullable(p.Address, &acc.Address)
		applyNullable(p.Phone, &acc.Phone)
		applyNullable(p.Email, &acc.Email)
		applyNullable(p.Lat, &acc.Lat)
		applyNullable(p.Lng, &acc.Lng)
		if p.TerritoryID.Null {
			f.add("territory_id", "must not be null")
		} else if p.TerritoryID.Set {
			if err := f.setTerritory(tx, &acc, p.TerritoryID.Value); err != nil {
				return err
			}
		}
		if p.OwnerID.Null {
			acc.OwnerID = nil
		} else if p.OwnerID.Set {
			if err := f.setOwner(tx, &acc, p.OwnerID.Value); err != nil {
				return err
			}
		}
		if err := f.validate(domain.ValidateAccount(acc)); err != nil {
			return err
		}
		out, err = store.UpdateAccount(tx, old, fv, acc)
		return err
	})
	return out, err
}

func (f *fields) setTerritory(tx *store.Tx, acc *domain.Account, territoryID string) error {
	if territoryID == "" {
		f.add("territory_id", "is required")
		return nil
	}
	if !f.refID("territory_id", territoryID) {
		return nil
	}
	_, err := store.GetTerritory(tx, territoryID, false)
	acc.TerritoryID = territoryID
	return f.exists("territory_id", err)
}

func (f *fields) setOwner(tx *store.Tx, acc *domain.Account, ownerID string) error {
	if !f.refID("owner_id", ownerID) {
		return nil
	}
	_, err := store.GetUser(tx, ownerID, false)
	acc.OwnerID = &ownerID
	return f.exists("owner_id", err)
}
