package store

import (
	"fmt"
)

// TerritorySubtree returns roots and every territory below them.
func TerritorySubtree(tx *Tx, roots []string) ([]string, error) {
	if len(roots) == 0 {
		return nil, nil
	}
	var ids []string
	err := tx.g.Raw(`WITH RECURSIVE sub(id) AS (
		SELECT id FROM territories WHERE id IN ?
		UNION
		SELECT t.id FROM territories t JOIN sub ON t.parent_id = sub.id)
	SELECT id FROM sub ORDER BY id`, roots).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("territory subtree: %w", err)
	}
	return ids, nil
}

// TerritoryAncestors returns the strict ancestors of the given territories.
func TerritoryAncestors(tx *Tx, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []string
	err := tx.g.Raw(`WITH RECURSIVE anc(id) AS (
		SELECT parent_id FROM territories WHERE id IN ? AND parent_id IS NOT NULL
		UNION
		SELECT t.parent_id FROM territories t JOIN anc ON t.id = anc.id WHERE t.parent_id IS NOT NULL)
	SELECT id FROM anc ORDER BY id`, ids).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("territory ancestors: %w", err)
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
