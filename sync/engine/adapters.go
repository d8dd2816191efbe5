package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
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

// VisibleRows returns the rows of table with the given ids that the caller's
// scope sees now, as the pull would send them (wire JSON), keyed by id; rows
// that do not exist or are out of scope are absent alike. The RxDB adapter
// answers a rejected write with it, the WatermelonDB adapter resends rows a
// push did not leave as sent.
func (e *Engine) VisibleRows(ctx context.Context, a domain.Caller, table string, ids []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := e.db.ReadTx(ctx, func(tx *store.Tx) error {
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
	if err != nil {
		return nil, fmt.Errorf("visible rows: %w", err)
	}
	return out, nil
}
