package engine

import (
	"context"
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Scope resolves the sync scope of a user from the database (not from the token:
// ops may have changed the role or territories since login).
func (e *Engine) Scope(ctx context.Context, userID string) (domain.Scope, error) {
	var s domain.Scope
	err := e.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		s, err = resolveScope(tx, userID)
		return err
	})
	return s, err
}

func resolveScope(tx *store.Tx, userID string) (domain.Scope, error) {
	u, err := store.GetUser(tx, userID, false)
	if err != nil {
		return domain.Scope{}, err
	}
	in := domain.ScopeInput{UserID: userID, Role: u.Role, Assigned: u.TerritoryIDs}
	if u.Role == domain.RoleDirector || u.Role == domain.RoleOps ||
		(u.Role == domain.RoleCoordinator && len(u.TerritoryIDs) == 0) {
		return domain.ScopeFor(in), nil
	}
	visible := u.TerritoryIDs
	if u.Role == domain.RoleManager || u.Role == domain.RoleCoordinator {
		if visible, err = store.TerritorySubtree(tx, u.TerritoryIDs); err != nil {
			return domain.Scope{}, fmt.Errorf("scope of %s: %w", userID, err)
		}
		in.Subtree = visible
	}
	if in.Ancestors, err = store.TerritoryAncestors(tx, visible); err != nil {
		return domain.Scope{}, fmt.Errorf("scope of %s: %w", userID, err)
	}
	return domain.ScopeFor(in), nil
}
