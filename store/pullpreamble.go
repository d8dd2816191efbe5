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
