package engine

import (
	"context"

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

// resolveScope is the sync scope of the one visibility rule (domain.Visible,
// domain.ScopeFor); a user who does not exist has none.
func resolveScope(tx *store.Tx, userID string) (domain.Scope, error) {
	v, err := store.LoadVisibility(tx, store.VisibilityQuery{UserID: userID})
	if err != nil {
		return domain.Scope{}, err
	}
	if !v.Found {
		return domain.Scope{}, domain.Errorf(domain.CodeNotFound, "user not found")
	}
	return domain.ScopeFor(v), nil
}
