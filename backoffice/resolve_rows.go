package backoffice

import (
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// The per-table writes of a resolution follow the push rules of the sync
// engine (docs/protocol.md §4.2–4.4) with the resolver as the writer: the same
// writable fields, state machines, validation and pricing.

var (
	visitWritable = map[string]bool{"status": true, "planned_at": true, "checked_in_at": true,
		"checked_out_at": true, "check_in_lat": true, "check_in_lng": true, "outcome": true, "report": true}
	visitIgnore = ignoring("check_in_distance_m")

	orderWritable = map[string]bool{"visit_id": true, "status": true, "lines": true, "note": true, "reason": true}
	orderIgnore   = ignoring("number", "total_cents", "submitted_at")

	noteWritable = map[string]bool{"body": true}

	accountWritable = map[string]bool{"phone": true, "email": true, "address": true}
)

func (w writer) visit(t target) (any, error) {
	if err := store.LockAccountOf(w.tx, domain.TableVisits, t.id); err != nil { // account before row (store/locks.go)
		return nil, err
	}
	cur, fv, err := store.GetVisit(w.tx, t.id, true)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		if t.del {
			return nil, nil
		}
		return w.createVisit(t)
	}
	if err != nil {
		return nil, err
	}
	acc, err := inReach(w.tx, w.reach, cur.AccountID, "visit")
	if err != nil {
		return nil, err
	}
	rw := domain.RowWrite{Table: t.table, Kind: domain.WriteUpdate, PrevOwner: cur.RepID, Owner: cur.RepID,
		PrevStatus: cur.Status, Status: cur.Status}
	if t.del {
		rw.Kind = domain.WriteDelete
		if err := w.check(rw); err != nil {
			return nil, err
		}
		if cur.Status != domain.VisitPlanned {
			return nil, domain.Errorf(domain.CodeIllegalTransition, "only planned visits can be deleted; this one is %s", cur.Status)
		}
		return nil, store.DeleteVisit(w.tx, acc, cur)
	}
	next := cur
	if _, perr := domain.ApplyPatch(&next, withoutUnchanged(t.patch, cur), domain.PatchOptions{Ignore: visitIgnore, Writable: visitWritable}); perr != nil {
		return nil, perr
	}
	next.CheckInDistanceM = domain.CheckInDistance(acc, next)
	rw.Status, rw.Changed = next.Status, domain.ChangedFields(cur, next)
	if err := w.check(rw); err != nil {
		return nil, err
	}
	if err := domain.ValidateVisit(next); err != nil {
		return nil, err
	}
	if err := domain.CheckVisitTransition(cur.Status, next.Status); err != nil {
		return nil, err
	}
	return store.UpdateVisit(w.tx, acc, cur, fv, next)
}

func (w writer) createVisit(t target) (any, error) {
	v := domain.Visit{ID: t.id, Status: domain.VisitPlanned}
	set, perr := domain.ApplyPatch(&v, t.patch, domain.PatchOptions{Ignore: visitIgnore})
	if perr != nil {
		return nil, perr
	}
	v.RepID = w.owner(v.RepID)
	if err := domain.ValidateVisit(v); err != nil {
		return nil, err
	}
	acc, err := inReach(w.tx, w.reach, v.AccountID, "account")
	if err != nil {
		return nil, err
	}
	if err := w.checkCreate(domain.RowWrite{Table: t.table, Kind: domain.WriteCreate, Owner: v.RepID,
		Status: v.Status, Changed: set}, acc); err != nil {
		return nil, err
	}
	if err := w.checkVisitRep(v.RepID, acc); err != nil {
		return nil, err
	}
	if err := domain.CheckVisitTransition(domain.VisitPlanned, v.Status); err != nil {
		return nil, err
	}
	v.CheckInDistanceM = domain.CheckInDistance(acc, v)
	return store.CreateVisit(w.tx, acc, v)
}

func (w writer) order(t target) (any, error) {
	if err := store.LockAccountOf(w.tx, domain.TableOrders, t.id); err != nil { // account before row (store/locks.go)
		return nil, err
	}
	cur, fv, err := store.GetOrder(w.tx, t.id, true)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		if t.del {
			return nil, nil
		}
		return w.createOrder(t)
	}
	if err != nil {
		return nil, err
	}
	acc, err := inReach(w.tx, w.reach, cur.AccountID, "order")
	if err != nil {
		return nil, err
	}
	rw := domain.RowWrite{Table: t.table, Kind: domain.WriteUpdate, PrevOwner: cur.RepID, Owner: cur.RepID,
		PrevStatus: cur.Status, Status: cur.Status}
	if t.del {
		rw.Kind = domain.WriteDelete
		if err := w.check(rw); err != nil {
			return nil, err
		}
		if cur.Status != domain.OrderDraft {
			return nil, domain.Errorf(domain.CodeIllegalTransition, "a %s order cannot be deleted; cancel it instead", cur.Status)
		}
		return nil, store.DeleteOrder(w.tx, acc, cur)
	}
	next := cur
	if _, perr := domain.ApplyPatch(&next, withoutUnchanged(t.patch, cur), domain.PatchOptions{Ignore: ignoring("number", "total_cents", "submitted_at", "rep_id"), Writable: orderWritable}); perr != nil {
		return nil, perr
	}
	rw.Status, rw.Changed = next.Status, domain.ChangedFields(cur, next)
	if err := w.check(rw); err != nil {
		return nil, err
	}
	if err := checkOrderEditable(cur, next); err != nil {
		return nil, err
	}
	if err := store.FinishOrder(w.tx, &next, cur.Status); err != nil {
		return nil, err
	}
	saved, err := store.UpdateOrder(w.tx, acc, cur, fv, next)
	if err != nil {
		return nil, err
	}
	return saved, store.RecordOrderChange(w.tx, w.orderChangeBy(), &cur, saved)
}

// orderChangeBy is the resolver as the order history records them.
func (w writer) orderChangeBy() domain.OrderChangeBy {
	return domain.OrderChangeBy{UserID: w.resolver.UserID, Role: w.resolver.Role, Via: domain.ViaResolution, ConflictID: w.conflictID}
}

func (w writer) createOrder(t target) (any, error) {
	o := domain.Order{ID: t.id, Status: domain.OrderDraft, Currency: w.currency, Lines: []domain.OrderLine{}}
	set, perr := domain.ApplyPatch(&o, t.patch, domain.PatchOptions{Ignore: orderIgnore})
	if perr != nil {
		return nil, perr
	}
	o.RepID = w.owner(o.RepID)
	if o.AccountID == "" {
		return nil, domain.Invalid(domain.FieldError{Field: "account_id", Message: "is required"})
	}
	acc, err := inReach(w.tx, w.reach, o.AccountID, "account")
	if err != nil {
		return nil, err
	}
	if err := checkUser(w.tx, "rep_id", o.RepID, domain.RoleRep); err != nil {
		return nil, err
	}
	if err := w.checkCreate(domain.RowWrite{Table: t.table, Kind: domain.WriteCreate, Owner: o.RepID,
		Status: o.Status, Changed: set}, acc); err != nil {
		return nil, err
	}
	if err := store.FinishOrder(w.tx, &o, domain.OrderDraft); err != nil {
		return nil, err
	}
	saved, err := store.CreateOrder(w.tx, acc, o)
	if err != nil {
		return nil, err
	}
	return saved, store.RecordOrderChange(w.tx, w.orderChangeBy(), nil, saved)
}

func (w writer) note(t target) (any, error) {
	if err := store.LockAccountOf(w.tx, domain.TableAccountNotes, t.id); err != nil { // account before row (store/locks.go)
		return nil, err
	}
	cur, fv, err := store.GetNote(w.tx, t.id, true)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		if t.del {
			return nil, nil
		}
		return w.createNote(t)
	}
	if err != nil {
		return nil, err
	}
	acc, err := inReach(w.tx, w.reach, cur.AccountID, "account note")
	if err != nil {
		return nil, err
	}
	rw := domain.RowWrite{Table: t.table, Kind: domain.WriteUpdate, PrevOwner: cur.AuthorID, Owner: cur.AuthorID}
	if t.del {
		rw.Kind = domain.WriteDelete
	}
	if err := w.check(rw); err != nil {
		return nil, err
	}
	if t.del {
		return nil, store.DeleteNote(w.tx, acc, cur)
	}
	next := cur
	if _, perr := domain.ApplyPatch(&next, withoutUnchanged(t.patch, cur), domain.PatchOptions{Ignore: ignoring("author_id", "conflict_of"), Writable: noteWritable}); perr != nil {
		return nil, perr
	}
	if err := domain.ValidateNote(next); err != nil {
		return nil, err
	}
	return store.UpdateNote(w.tx, acc, cur, fv, next)
}

func (w writer) createNote(t target) (any, error) {
	n := domain.AccountNote{ID: t.id}
	set, perr := domain.ApplyPatch(&n, t.patch, domain.PatchOptions{Ignore: ignoring("conflict_of")})
	if perr != nil {
		return nil, perr
	}
	n.AuthorID = w.owner(n.AuthorID)
	if err := domain.ValidateNote(n); err != nil {
		return nil, err
	}
	acc, err := inReach(w.tx, w.reach, n.AccountID, "account")
	if err != nil {
		return nil, err
	}
	if err := checkUser(w.tx, "author_id", n.AuthorID, domain.RoleRep, domain.RoleManager); err != nil {
		return nil, err
	}
	if err := w.checkCreate(domain.RowWrite{Table: t.table, Kind: domain.WriteCreate, Owner: n.AuthorID, Changed: set}, acc); err != nil {
		return nil, err
	}
	return store.CreateNote(w.tx, acc, n)
}

func (w writer) account(t target) (any, error) {
	if t.del {
		return nil, domain.Errorf(domain.CodeForbidden, "accounts are not deleted; sales operations deactivate them")
	}
	cur, fv, err := store.GetAccount(w.tx, t.id, true)
	if domain.ErrorCode(err) == domain.CodeNotFound || (err == nil && !w.reach.Sees(cur.TerritoryID)) {
		return nil, domain.Errorf(domain.CodeNotFound, "account not found")
	}
	if err != nil {
		return nil, err
	}
	next := cur
	if _, perr := domain.ApplyPatch(&next, withoutUnchanged(t.patch, cur), domain.PatchOptions{Ignore: ignoring(), Writable: accountWritable}); perr != nil {
		return nil, perr
	}
	if err := w.check(domain.RowWrite{Table: t.table, Kind: domain.WriteUpdate, Changed: domain.ChangedFields(cur, next)}); err != nil {
		return nil, err
	}
	if err := domain.ValidateAccount(next); err != nil {
		return nil, err
	}
	return store.UpdateAccount(w.tx, cur, fv, next)
}

// checkVisitRep: the rep of a visit a resolution creates exists and is a rep;
// a visit a manager planned keeps to the reps that manager may plan for.
func (w writer) checkVisitRep(repID string, acc domain.Account) error {
	if w.origin.actor.Role != domain.RoleManager {
		return checkUser(w.tx, "rep_id", repID, domain.RoleRep)
	}
	rep := domain.PlannedRep{}
	if domain.IsUUID(repID) {
		u, err := store.GetUser(w.tx, repID, false)
		if err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
			return err
		}
		rep = domain.PlannedRep{Found: err == nil, User: u.User, InPlannerScope: err == nil && w.origin.reach.SeesAny(u.TerritoryIDs)}
	}
	if err := domain.CheckPlannedRep(rep, acc); err != nil {
		return err
	}
	return nil
}
