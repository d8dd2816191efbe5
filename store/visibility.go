package store

import (
	"fmt"
	"sync"

	"github.com/fieldsync/fieldsync/domain"
)

// VisibilityQuery says whose visibility LoadVisibility resolves and how much
// of the territory tree it loads beside the user's own part.
type VisibilityQuery struct {
	UserID string
	// Focus is a territory the caller names (a territory_id filter); its
	// subtree is loaded too, so Visibility.Within can narrow to it.
	Focus string
	// WholeTree loads every territory, for callers that name or walk
	// territories outside the user's part (the reports show names).
	WholeTree bool
	// Trees, when set, keeps the whole tree between calls (TreeCache).
	Trees *TreeCache
}

// TreeCache keeps the whole territory tree between requests for as long as
// territory_tree_version (migration 00024), which every write to territories
// bumps in its transaction, is unchanged: a director's reports otherwise
// load 26,400 territories each. Its trees are read-only and shared.
type TreeCache struct {
	mu      sync.Mutex
	version int64
	tree    domain.TerritoryTree
	ok      bool
	loads   int // trees loaded from the database, for tests
}

// Loads is how many times the cache loaded the tree from the database.
func (c *TreeCache) Loads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loads
}

// wholeTree returns the whole territory tree as tx sees it.
func (c *TreeCache) wholeTree(tx *Tx) (domain.TerritoryTree, error) {
	// The version is read before the tree: a write committed between the
	// two leaves a newer tree under an older version, which the next call
	// reloads, never the other way round.
	var versions []int64
	if err := tx.g.Raw("SELECT version FROM territory_tree_version").Scan(&versions).Error; err != nil {
		return domain.TerritoryTree{}, fmt.Errorf("territory tree version: %w", err)
	}
	if len(versions) == 1 {
		c.mu.Lock()
		hit, tree := c.ok && c.version == versions[0], c.tree
		c.mu.Unlock()
		if hit {
			return tree, nil
		}
	}
	nodes, err := territoryNodes(tx, nil, true)
	if err != nil {
		return domain.TerritoryTree{}, err
	}
	tree := domain.NewTerritoryTree(nodes)
	c.mu.Lock()
	c.loads++
	if len(versions) == 1 {
		c.version, c.tree, c.ok = versions[0], tree, true
	}
	c.mu.Unlock()
	return tree, nil
}

// LoadVisibility loads what domain.Visible needs to know of a user, in tx
// (their role and territories as stored now, and the territory tree around
// them), and applies the rule. It is the one way sync, the back office and
// reports learn what a user sees.
func LoadVisibility(tx *Tx, q VisibilityQuery) (domain.Visibility, error) {
	if q.Focus == "" && !q.WholeTree {
		// Every pull asks this: one statement instead of two.
		v, nodes, err := loadOwnPart(tx, q.UserID)
		if err != nil {
			return domain.Visibility{}, err
		}
		return domain.Visible(v, domain.NewTerritoryTree(nodes)), nil
	}
	v, err := loadViewer(tx, q.UserID)
	if err != nil {
		return domain.Visibility{}, err
	}
	if q.WholeTree && q.Trees != nil {
		tree, err := q.Trees.wholeTree(tx)
		if err != nil {
			return domain.Visibility{}, fmt.Errorf("visibility of %s: %w", q.UserID, err)
		}
		return domain.Visible(v, tree), nil
	}
	var roots []string
	if v.Found && v.Role != domain.RoleDirector && v.Role != domain.RoleOps {
		roots = append(roots, v.Assigned...)
	}
	if domain.IsUUID(q.Focus) {
		roots = append(roots, q.Focus)
	}
	nodes, err := territoryNodes(tx, roots, q.WholeTree)
	if err != nil {
		return domain.Visibility{}, fmt.Errorf("visibility of %s: %w", q.UserID, err)
	}
	return domain.Visible(v, domain.NewTerritoryTree(nodes)), nil
}

// loadViewer reads a user's role and territories with one query.
func loadViewer(tx *Tx, userID string) (domain.Viewer, error) {
	v := domain.Viewer{UserID: userID}
	if !domain.IsUUID(userID) {
		return v, nil // no user has such an id, and Postgres would refuse it
	}
	var rows []struct {
		Role        string
		TerritoryID *string
	}
	err := tx.g.Raw(`SELECT u.role, ut.territory_id FROM users u
		LEFT JOIN user_territories ut ON ut.user_id = u.id
		WHERE u.id = ? ORDER BY ut.territory_id`, userID).Scan(&rows).Error
	if err != nil {
		return v, fmt.Errorf("viewer %s: %w", userID, err)
	}
	for _, r := range rows {
		v.Found, v.Role = true, domain.Role(r.Role)
		if r.TerritoryID != nil {
			v.Assigned = append(v.Assigned, *r.TerritoryID)
		}
	}
	return v, nil
}

// territoryNodes loads the territories at and below roots and every territory
// above them, or the whole tree.
func territoryNodes(tx *Tx, roots []string, whole bool) ([]domain.TerritoryNode, error) {
	var rows []territoryRow
	var err error
	switch {
	case whole:
		err = tx.g.Select("id", "name", "parent_id").Find(&rows).Error
	case len(roots) > 0:
		err = tx.g.Raw(`WITH RECURSIVE sub(id) AS (
			SELECT id FROM territories WHERE id IN @roots
			UNION
			SELECT t.id FROM territories t JOIN sub ON t.parent_id = sub.id),
		anc(id) AS (
			SELECT parent_id FROM territories WHERE id IN @roots AND parent_id IS NOT NULL
			UNION
			SELECT t.parent_id FROM territories t JOIN anc ON t.id = anc.id WHERE t.parent_id IS NOT NULL)
		SELECT id, name, parent_id FROM territories
		WHERE id IN (SELECT id FROM sub) OR id IN (SELECT id FROM anc)`,
			map[string]any{"roots": roots}).Scan(&rows).Error
	}
	if err != nil {
		return nil, fmt.Errorf("territory tree: %w", err)
	}
	nodes := make([]domain.TerritoryNode, len(rows))
	for i, r := range rows {
		nodes[i] = domain.TerritoryNode{ID: r.ID, Name: r.Name, ParentID: r.ParentID}
	}
	return nodes, nil
}
