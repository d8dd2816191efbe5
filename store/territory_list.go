package store

import (
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
)

// ListTerritories returns up to limit territories with ids after the given one
// ("" for the first page), in id order.
func ListTerritories(tx *Tx, after string, limit int) ([]domain.Territory, error) {
	q := tx.g.Order("id").Limit(limit)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	var rows []territoryRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list territories: %w", err)
	}
	out := make([]domain.Territory, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CountTerritories counts the territories: none means an empty organisation.
func CountTerritories(tx *Tx) (int64, error) {
	var n int64
	if err := tx.g.Table("territories").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count territories: %w", err)
	}
	return n, nil
}
