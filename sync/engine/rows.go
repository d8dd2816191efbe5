package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/fieldsync/fieldsync/domain"

	"github.com/fieldsync/fieldsync/store"
	"gorm.io/gorm"
)

// VisibleRows returns the current JSON of those rows of table among ids that
// the actor's scope sees, keyed by id; rows that do not exist or are out of
// scope are absent alike. The RxDB adapter answers a rejected write with it.
func (e *Engine) VisibleRows(ctx context.Context, a domain.Caller, table string, ids []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := e.db.ReadTx(ctx, func(tx *gorm.DB) error {
		scope, err := resolveScope(tx, a.UserID)
		if err != nil {
			return err
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
