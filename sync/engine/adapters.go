package engine

import (
	"context"
	"encoding/json"

	"github.com/fieldsync/fieldsync/store"
	"gorm.io/gorm"
)

// What protocol adapters (sync/watermelon) need of the engine beyond Pull and
// Push: where a cursor stands in the log, and rows as the user may see them.

// CursorPos returns the change-log position a cursor issued to userID has
// delivered everything up to. ok is false for a cursor Pull would answer with
// a reset, or one still walking a scope transition.
func (e *Engine) CursorPos(userID, cursor string) (store.Pos, bool) {
	c, err := e.cursor.decode(cursor)
	if err != nil || c.U != userID || c.P != phaseLog {
		return store.Pos{}, false
	}
	return c.pos(), true
}

// VisibleRows returns the rows of table with the given ids that the actor's
// scope sees now, as the pull would send them (wire JSON), keyed by id.
func (e *Engine) VisibleRows(ctx context.Context, a Actor, table string, ids []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	err := e.db.ReadTx(ctx, func(tx *gorm.DB) error {
		scope, err := resolveScope(tx, a.UserID)
		if err != nil {
			return err
		}
		if !scope.HasTable(table) {
			return nil
		}
		rows, err := store.FetchRows(tx, table, ids)
		if err != nil {
			return err
		}
		for id, r := range rows {
			if scope.Sees(table, r.Keys) {
				out[id] = r.JSON
			}
		}
		return nil
	})
	return out, err
}
