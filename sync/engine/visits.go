package engine

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// serverOwned fields are ignored in every pushed row (docs/protocol.md §4.2).
var serverOwned = map[string]bool{"id": true, "version": true, "updated_at": true}

func ignoring(extra ...string) map[string]bool {
	m := map[string]bool{}
	for k := range serverOwned {
		m[k] = true
	}
	for _, k := range extra {
		m[k] = true
	}
	return m
}

var (
	// check_in_distance_m is computed by the server; rep_id is the rep's own.
	visitIgnoreRep     = ignoring("check_in_distance_m", "rep_id")
	visitIgnoreManager = ignoring("check_in_distance_m")
)

func (p *pusher) visitIgnore() map[string]bool {
	if p.a.Role == domain.RoleRep {
		return visitIgnoreRep
	}
	return visitIgnoreManager
}

func (p *pusher) visit(m wire.Mutation) (wire.MutationResult, error) {
	row, res, err := target(p, m, store.GetVisit, p.createVisit)
	if row == nil {
		return res, err
	}
	acc, cur, fv := row.acc, row.cur, row.fv
	if m.Op == store.OpDelete {
		return p.deleteVisit(m, acc, cur, fv)
	}
	patched := cur
	changed, perr := domain.ApplyPatch(&patched, m.Row, domain.PatchOptions{Ignore: p.visitIgnore(), Writable: visitWritable})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if len(changed) == 0 {
		return applied(cur.Version, cur), nil
	}
	result, status, from := patched, wire.StatusApplied, cur.Status
	var out domain.MergeOutcome
	if m.BaseVersion < cur.Version {
		result, out = domain.MergeVisit(cur, patched, fv.ChangedSince(m.BaseVersion), changed)
		status = wire.StatusMerged
		if out.TransitionFrom != "" {
			from = out.TransitionFrom // a visit that happened beat a cancellation (§4.3)
		}
	}
	if err := domain.CheckVisitTransition(from, result.Status); err != nil {
		return wire.MutationResult{}, err
	}
	result.CheckInDistanceM = domain.CheckInDistance(acc, result)
	if err := domain.ValidateVisit(result); err != nil {
		return wire.MutationResult{}, err
	}
	saved, err := store.UpdateVisit(p.tx, acc, cur, fv, result)
	if err != nil {
		return wire.MutationResult{}, err
	}
	if err := p.autoResolved(m, acc, out, patched, cur); err != nil {
		return wire.MutationResult{}, err
	}
	return wire.MutationResult{Status: status, Version: saved.Version, Row: rowJSON(saved)}, nil
}

// Existing visits keep their account and rep: moving a visit is re-planning it.
var visitWritable = map[string]bool{"status": true, "planned_at": true, "checked_in_at": true,
	"checked_out_at": true, "check_in_lat": true, "check_in_lng": true, "outcome": true, "report": true}

func (p *pusher) createVisit(m wire.Mutation) (wire.MutationResult, error) {
	v := domain.Visit{ID: m.ID, Status: domain.VisitPlanned}
	set, perr := domain.ApplyPatch(&v, m.Row, domain.PatchOptions{Ignore: p.visitIgnore()})
	if perr != nil {
		return wire.MutationResult{}, perr
	}
	if p.a.Role == domain.RoleRep {
		v.RepID = p.a.UserID
	}
	w := domain.RowWrite{Table: m.Table, Kind: domain.WriteCreate, Owner: v.RepID, Status: v.Status, Changed: set}
	if err := domain.CheckWrite(p.actor(), w); err != nil {
		return wire.MutationResult{}, err
	}
	if err := domain.ValidateVisit(v); err != nil {
		return wire.MutationResult{}, err
	}
	acc, err := p.accountFor(v.AccountID, "account_id")
	if err != nil {
		return p.outOfScope(m, err, v)
	}
	if p.a.Role == domain.RoleManager {
		if err := p.checkPlannedRep(v.RepID, acc); err != nil {
			return wire.MutationResult{}, err
		}
	}
	if err := domain.CheckVisitTransition(domain.VisitPlanned, v.Status); err != nil {
		return wire.MutationResult{}, err
	}
	v.CheckInDistanceM = domain.CheckInDistance(acc, v)
	if !p.isCreate(m) {
		// The id was used before (deleted earlier, or in this batch): the visit
		// continues from its last version, written now.
		saved, err := store.CreateVisit(p.tx, acc, v)
		if err != nil {
			return wire.MutationResult{}, err
		}
		p.created(m.Table, m.ID)
		return applied(saved.Version, saved), nil
	}
	saved, change := store.NewVisit(p.tx.Now(), acc, v)
	p.pendingVisits = append(p.pendingVisits, saved)
	p.pendingLog = append(p.pendingLog, change)
	p.created(m.Table, m.ID)
	return applied(saved.Version, saved), nil
}

// checkPlannedRep: a manager plans visits only for reps of their scope who
// cover the account (domain.CheckPlannedRep).
func (p *pusher) checkPlannedRep(repID string, acc domain.Account) error {
	rep := domain.PlannedRep{}
	if domain.IsUUID(repID) {
		u, err := store.GetUser(p.tx, repID, false)
		if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
			return err
		}
		rep = domain.PlannedRep{Found: err == nil, User: u.User,
			InPlannerScope: err == nil && p.scope.Sees(domain.TableUsers, domain.UserRowKeys(u.ID, u.TerritoryIDs))}
	}
	if err := domain.CheckPlannedRep(rep, acc); err != nil {
		return err
	}
	return nil
}

func (p *pusher) deleteVisit(m wire.Mutation, acc domain.Account, cur domain.Visit, fv domain.FieldVersions) (wire.MutationResult, error) {
	if cur.Status != domain.VisitPlanned {
		return wire.MutationResult{}, domain.Errorf(domain.CodeIllegalTransition, "only planned visits can be deleted; this one is %s", cur.Status)
	}
	if m.BaseVersion < cur.Version && len(fv.ChangedSince(m.BaseVersion)) > 0 {
		return p.conflict(m, &acc, "visit changed on the server after the device deleted it", nil, cur, cur.Version)
	}
	if err := store.DeleteVisit(p.tx, acc, cur); err != nil {
		return wire.MutationResult{}, err
	}
	return wire.MutationResult{Status: wire.StatusApplied, Version: cur.Version + 1}, nil
}

// vanished: an edit of a row that does not exist. A row deleted since the
// device's copy (its tombstone within the pusher's scope) keeps the attempted
// change in a conflict for a person, so no write is lost. An id that never
// named a row the pusher could see is not found: there is nothing to be in
// conflict with, and a conflict would hand whatever the mutation carried to a
// resolver to write with their rights.
func (p *pusher) vanished(m wire.Mutation) (wire.MutationResult, error) {
	keys, err := store.DeletedRowKeys(p.tx, m.Table, m.ID)
	if err != nil {
		return wire.MutationResult{}, err
	}
	if len(keys) == 0 || !p.scope.Sees(m.Table, keys) {
		return wire.MutationResult{}, domain.RowNotFound(m.Table)
	}
	return p.conflict(m, nil, "row no longer exists on the server", nil, nil, 0)
}
