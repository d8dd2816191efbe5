package backoffice

import (
	"context"
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// TerritoryInput is the body of a territory create.
type TerritoryInput struct {
	ID       *string `json:"id"`
	Name     string  `json:"name"`
	ParentID *string `json:"parent_id"`
}

// TerritoryPatch is the body of a territory update; a null parent_id makes the
// territory a root.
type TerritoryPatch struct {
	Name     Optional[string] `json:"name,omitzero"`
	ParentID Optional[string] `json:"parent_id,omitzero"`
}

// maxDepth bounds the ancestor walk, so a tree damaged outside this service
// cannot make it loop.
const maxDepth = 1000

func (a *Admin) CreateTerritory(ctx context.Context, in TerritoryInput) (domain.Territory, error) {
	var out domain.Territory
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var f fields
		t := domain.Territory{ID: f.newID(in.ID), Name: trimmed(in.Name)}
		if in.ParentID != nil {
			if err := f.setParent(tx, &t, *in.ParentID); err != nil {
				return err
			}
		}
		if err := f.validate(domain.ValidateTerritory(t)); err != nil {
			return err
		}
		var err error
		out, err = store.CreateTerritory(tx, t)
		return conflictOn(err, "territory %s already exists", t.ID)
	})
	return out, err
}

func (a *Admin) UpdateTerritory(ctx context.Context, id string, p TerritoryPatch) (domain.Territory, error) {
	if err := checkPathID("territory", id); err != nil {
		return domain.Territory{}, err
	}
	var out domain.Territory
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := store.GetTerritory(tx, id, true)
		if err != nil {
			return err
		}
		var f fields
		t := old
		apply(&f, "name", p.Name, &t.Name)
		t.Name = trimmed(t.Name)
		switch {
		case p.ParentID.Null:
			t.ParentID = nil
		case p.ParentID.Set:
			if err := f.setParent(tx, &t, p.ParentID.Value); err != nil {
				return err
			}
		}
		if err := f.validate(domain.ValidateTerritory(t)); err != nil {
			return err
		}
		out, err = store.UpdateTerritory(tx, old, t)
		return err
	})
	return out, err
}

// setParent points t at parent after checking that the parent exists and is not
// t itself or one of its descendants: the tree must stay a tree. The ancestors
// are read for update, so two moves that would together close a loop cannot
// both commit.
func (f *fields) setParent(tx *store.Tx, t *domain.Territory, parent string) error {
	if !f.refID("parent_id", parent) {
		return nil
	}
	cur := parent
	for depth := 0; depth < maxDepth; depth++ {
		if cur == t.ID {
			f.add("parent_id", "would make the territory its own ancestor")
			return nil
		}
		anc, err := store.GetTerritory(tx, cur, true)
		if err != nil {
			if depth == 0 {
				return f.exists("parent_id", err)
			}
			return fmt.Errorf("walk ancestors of territory %s: %w", parent, err)
		}
		if anc.ParentID == nil {
			t.ParentID = &parent
			return nil
		}
		cur = *anc.ParentID
	}
	f.add("parent_id", "is nested too deeply")
	return nil
}

// TerritoryPage is one page of the territory list.
type TerritoryPage struct {
	Items      []domain.Territory `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

// ListTerritories pages through every territory in id order.
func (a *Admin) ListTerritories(ctx context.Context, cursor string, limit int) (TerritoryPage, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return TerritoryPage{}, err
	}
	limit = clampLimit(limit)
	var page TerritoryPage
	err = a.db.ReadTx(ctx, func(tx *store.Tx) error {
		items, err := store.ListTerritories(tx, after, limit+1)
		if err != nil {
			return err
		}
		page.Items = items
		if len(items) > limit {
			page.Items = items[:limit]
			next := encodeCursor(items[limit-1].ID)
			page.NextCursor = &next
		}
		return nil
	})
	return page, err
}
