package store

import (
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
)

// PullStart is what a pull reads before its log: the compaction horizon and
// the id of the user's stored scope snapshot (Found=false: not stored yet).
type PullStart struct {
	Horizon Pos
	ScopeID int64
	Found   bool
}

// LoadPullStart reads the horizon (Horizon) and the scope snapshot id
// (FindScopeID) in one statement: an empty pull is mostly round trips, and
// this saves one of them on every poll.
func LoadPullStart(tx *Tx, userID string, s domain.Scope) (PullStart, error) {
	var r struct {
		Xid     int64
		Seq     int64
		ScopeID *int64
	}
	err := tx.g.Raw(`SELECT h.xid, h.seq,
			(SELECT id FROM sync_scopes WHERE user_id = @user AND fingerprint = @fp LIMIT 1) AS scope_id
		FROM sync_horizon h WHERE h.id = 1`,
		map[string]any{"user": userID, "fp": s.Fingerprint()}).Scan(&r).Error
	if err != nil {
		return PullStart{}, fmt.Errorf("read pull start: %w", err)
	}
	st := PullStart{Horizon: Pos{Xid: uint64(r.Xid), Seq: r.Seq}}
	if r.ScopeID != nil {
		st.ScopeID, st.Found = *r.ScopeID, true
	}
	return st, nil
}

// loadOwnPart is loadViewer and territoryNodes(assigned roots) in one
// statement, for the common VisibilityQuery (no focus, not the whole tree):
// the user's role and territories, then the territories at and below those
// (directors and ops: none, their rule needs no tree) and above them.
func loadOwnPart(tx *Tx, userID string) (domain.Viewer, []domain.TerritoryNode, error) {
	v := domain.Viewer{UserID: userID}
	if !domain.IsUUID(userID) {
		return v, nil, nil // no user has such an id, and Postgres would refuse it
	}
	var rows []struct {
		Kind     string
		Role     *string
		ID       *string
		Name     *string
		ParentID *string
	}
	err := tx.g.Raw(`WITH RECURSIVE roots(id) AS (
			SELECT ut.territory_id FROM user_territories ut JOIN users u ON u.id = ut.user_id
			WHERE ut.user_id = @user AND u.role NOT IN @wide),
		sub(id) AS (
			SELECT id FROM territories WHERE id IN (SELECT id FROM roots)
			UNION
			SELECT t.id FROM territories t JOIN sub ON t.parent_id = sub.id),
		anc(id) AS (
			SELECT parent_id FROM territories WHERE id IN (SELECT id FROM roots) AND parent_id IS NOT NULL
			UNION
			SELECT t.parent_id FROM territories t JOIN anc ON t.id = anc.id WHERE t.parent_id IS NOT NULL)
		SELECT * FROM (
			SELECT 'u' AS kind, u.role, ut.territory_id AS id, NULL AS name, NULL AS parent_id
			FROM users u LEFT JOIN user_territories ut ON ut.user_id = u.id WHERE u.id = @user
			UNION ALL
			SELECT 't', NULL, id, name, parent_id FROM territories
			WHERE id IN (SELECT id FROM sub) OR id IN (SELECT id FROM anc)) parts
		ORDER BY kind DESC, id`,
		map[string]any{"user": userID, "wide": []string{string(domain.RoleDirector), string(domain.RoleOps)}}).Scan(&rows).Error
	if err != nil {
		return v, nil, fmt.Errorf("viewer %s: %w", userID, err)
	}
	var nodes []domain.TerritoryNode
	for _, r := range rows {
		switch {
		case r.Kind == "u" && r.Role != nil:
			v.Found, v.Role = true, domain.Role(*r.Role)
			if r.ID != nil {
				v.Assigned = append(v.Assigned, *r.ID)
			}
		case r.Kind == "t" && r.ID != nil:
			nodes = append(nodes, domain.TerritoryNode{ID: *r.ID, Name: deref(r.Name), ParentID: r.ParentID})
		}
	}
	return v, nodes, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
