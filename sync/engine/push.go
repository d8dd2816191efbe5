package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// pushAttempts bounds how often a push transaction that failed for a transient
// reason runs again.
const pushAttempts = 3

// Push applies a device's mutations in order, each all-or-nothing on its own
// (a savepoint each), all in one transaction per request so a batch costs one
// commit. A replayed mutation_id returns its stored result and changes nothing
// (replays). Only an internal failure fails the request; then nothing of it is
// kept and the device resends the batch.
func (e *Engine) Push(ctx context.Context, a domain.Caller, req wire.PushRequest) (wire.PushResponse, error) {
	var results []wire.MutationResult
	err := e.retryPush(ctx, a, func(tx *store.Tx) error {
		var err error
		results, err = e.pushBatch(tx, a, req)
		return err
	})
	if err != nil {
		return wire.PushResponse{}, fmt.Errorf("push: %w", err)
	}
	for _, r := range results {
		e.obs.PushResult(r.Status)
		if r.ConflictID != "" && r.Status == wire.StatusConflict {
			e.obs.ConflictOpened("")
		}
	}
	return wire.PushResponse{Results: results}, nil
}

// retryPush runs apply in a transaction, again from the start when it failed
// for a transient reason. A deadlock or serialization failure (two pushes
// completing visits of the same accounts in opposite orders, say) aborts the
// whole transaction before anything commits, so the request is applied again,
// as the device would resend it, instead of answering 500.
func (e *Engine) retryPush(ctx context.Context, a domain.Caller, apply func(tx *store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := e.db.InTx(ctx, apply)
		if err == nil || attempt == pushAttempts || !store.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		if e.pushHook != nil {
			e.pushHook(PushRetry, a, err)
		}
	}
}

// pushBatch applies one request in tx and returns a result per mutation, in
// the mutations' order.
func (e *Engine) pushBatch(tx *store.Tx, a domain.Caller, req wire.PushRequest) ([]wire.MutationResult, error) {
	// First, before any other lock (store/locks.go): a resend of this request
	// that overlaps it waits here, then reads the results this one stored
	// instead of applying the mutations again. A retry is a new transaction and
	// takes the lock again.
	if err := store.LockDevicePush(tx, a.UserID, a.DeviceID); err != nil {
		return nil, err
	}
	scope, err := resolveScope(tx, a.UserID)
	if err != nil {
		return nil, err
	}
	seen, err := loadReplays(tx, a, req.Mutations)
	if err != nil {
		return nil, err
	}
	p := &pusher{e: e, tx: tx, a: a, scope: scope, accounts: map[string]domain.Account{}}
	if err := p.prefetch(req.Mutations, seen); err != nil {
		return nil, err
	}
	if e.pushHook != nil {
		e.pushHook(PushLocked, a, nil)
	}
	results := make([]wire.MutationResult, len(req.Mutations))
	var fresh []store.PushResult
	for i, m := range req.Mutations {
		if ok, err := seen.replay(m.MutationID, &results[i]); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		res, err := p.applyOne(i, m)
		if err != nil {
			return nil, err
		}
		results[i] = res
		if r, ok := seen.remember(m.MutationID, res); ok {
			fresh = append(fresh, r)
		}
	}
	// The deferred visit creates are written before the request commits.
	if err := p.flush(); err != nil {
		return nil, err
	}
	// One insert for the whole batch: results only need to be durable with the
	// writes they describe, which commit together.
	if err := store.SavePushResults(tx, a.UserID, a.DeviceID, fresh); err != nil {
		return nil, err
	}
	now := tx.Now()
	if err := store.TouchDevice(tx, a.UserID, a.DeviceID, store.DeviceTouch{PushedAt: &now, Pending: req.Pending}); err != nil {
		return nil, err
	}
	if e.pushHook != nil {
		e.pushHook(PushCommit, a, nil)
	}
	return results, nil
}

// replays holds, by mutation id, the stored results of the mutations this
// device already pushed. A device resends a batch whose answer it did not get;
// a mutation id met again gets the result it got the first time and changes
// nothing. That holds within one batch too: a mutation id repeated in the same
// request is applied once, and its later copies answer with the first one's
// result. Mutation ids that are not UUIDs are rejected and never remembered.
type replays map[string]json.RawMessage

// loadReplays reads the stored results of the batch's mutation ids.
func loadReplays(tx *store.Tx, a domain.Caller, muts []wire.Mutation) (replays, error) {
	ids := make([]string, 0, len(muts))
	for _, m := range muts {
		if domain.IsUUID(m.MutationID) {
			ids = append(ids, m.MutationID)
		}
	}
	prior, err := store.PushResults(tx, a.UserID, a.DeviceID, ids)
	return replays(prior), err
}

// replay sets *res to the stored result of mutationID, if there is one.
func (r replays) replay(mutationID string, res *wire.MutationResult) (bool, error) {
	stored, ok := r[mutationID]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(stored, res); err != nil {
		return true, fmt.Errorf("decode stored result of %s: %w", mutationID, err)
	}
	return true, nil
}

// remember records the result of a mutation just applied, so a later copy of
// its id in this batch replays it, and returns it for storing. A mutation id
// that is not a UUID keys no replay.
func (r replays) remember(mutationID string, res wire.MutationResult) (store.PushResult, bool) {
	if !domain.IsUUID(mutationID) {
		return store.PushResult{}, false
	}
	b := res.AppendJSON(nil)
	r[mutationID] = b
	return store.PushResult{MutationID: mutationID, Result: b}, true
}

// pusher applies the mutations of one request.
type pusher struct {
	e     *Engine
	tx    *store.Tx
	a     domain.Caller
	scope domain.Scope
	// accounts caches the accounts read by this request: a batch of visits is
	// usually a day at a handful of customers.
	accounts map[string]domain.Account
	// absent holds "table/id" of rows known not to exist when the request
	// started and not created since: their lookup can be skipped.
	absent map[string]bool
	// deleted holds "table/id" of absent rows whose id was used before (a
	// tombstone is logged): a create of one is a re-creation.
	deleted map[string]bool
	// pendingVisits and pendingLog hold this request's deferred visit creates
	// and their change-log entries, not written yet (pushbatch.go).
	pendingVisits []domain.Visit
	pendingLog    []store.Change
}

// applyOne applies m inside a savepoint. An error caused by the mutation -- a
// domain error, or a database error the store classified as caused by the
// values written (invalid text, a value out of range, a broken constraint) --
// rolls the savepoint back and becomes a rejected result, so one bad mutation
// never fails its batch. Any other error (the database is down, a deadlock, a
// cancelled request, a bug) fails the request: nothing of it is kept and the
// device resends the batch.
func (p *pusher) applyOne(i int, m wire.Mutation) (wire.MutationResult, error) {
	if p.isCreate(m) {
		// A visit create checks everything before its only write, which is
		// deferred: a refusal has nothing to roll back, so no savepoint (a round
		// trip per mutation) is needed.
		res, err := p.apply(m)
		if derr := mutationError(err); derr != nil {
			return rejected(m.MutationID, derr), nil
		}
		if err != nil {
			return wire.MutationResult{}, fmt.Errorf("mutation %s: %w", m.MutationID, err)
		}
		res.MutationID = m.MutationID
		return res, nil
	}
	// Anything else may read rows or the log: the deferred creates go first.
	if err := p.flush(); err != nil {
		return wire.MutationResult{}, err
	}
	sp := fmt.Sprintf("m%d", i)
	if err := p.tx.SavePoint(sp); err != nil {
		return wire.MutationResult{}, err
	}
	res, err := p.apply(m)
	if err == nil {
		res.MutationID = m.MutationID
		return res, nil
	}
	derr := mutationError(err)
	if derr == nil {
		return wire.MutationResult{}, fmt.Errorf("mutation %s: %w", m.MutationID, err)
	}
	if err := p.tx.RollbackTo(sp); err != nil {
		return wire.MutationResult{}, err
	}
	return rejected(m.MutationID, derr), nil
}

// mutationError returns the client-safe error of err when the mutation itself
// caused it, or nil when err must fail the whole request.
func mutationError(err error) *domain.Error {
	derr := domain.AsError(err)
	if derr == nil || derr.Code == domain.CodeUnavailable || derr.Code == domain.CodeInternal {
		return nil
	}
	return derr
}

func rejected(mutationID string, e *domain.Error) wire.MutationResult {
	fields := e.Fields
	if fields == nil {
		fields = []domain.FieldError{}
	}
	return wire.MutationResult{MutationID: mutationID, Status: wire.StatusRejected,
		Error: &wire.ErrorDetail{Code: string(e.Code), Message: e.Message, Fields: fields}}
}

func (p *pusher) apply(m wire.Mutation) (wire.MutationResult, error) {
	var fields []domain.FieldError
	if !domain.IsUUID(m.MutationID) {
		fields = append(fields, domain.FieldError{Field: "mutation_id", Message: "must be a UUID"})
	}
	if !domain.IsUUID(m.ID) {
		fields = append(fields, domain.FieldError{Field: "id", Message: "must be a UUID"})
	}
	if m.BaseVersion < 0 {
		fields = append(fields, domain.FieldError{Field: "base_version", Message: "must be at least 0"})
	}
	if !domain.IsSyncedTable(m.Table) {
		return wire.MutationResult{}, domain.Errorf(domain.CodeUnknownTable, "unknown table %q", truncate(m.Table, 64))
	}
	if m.Op != store.OpUpsert && m.Op != store.OpDelete {
		return wire.MutationResult{}, domain.Errorf(domain.CodeUnknownOp, "unknown op %q", truncate(m.Op, 64))
	}
	if len(fields) > 0 {
		return wire.MutationResult{}, domain.Invalid(fields...)
	}
	// A row the database cannot store (a NUL character, invalid UTF-8) is this
	// mutation's rejection, whatever path would write it (a conflict record
	// keeps the row as sent).
	if fs := domain.TextErrors(m.Row, nil); len(fs) > 0 && json.Valid(m.Row) {
		return wire.MutationResult{}, domain.Invalid(fs...)
	}
	if m.Op == store.OpUpsert && len(m.Row) == 0 {
		return wire.MutationResult{}, domain.Invalid(domain.FieldError{Field: "row", Message: "is required for an upsert"})
	}
	if err := domain.MayPush(p.a.Role, m.Table, pushKind(m)); err != nil {
		return wire.MutationResult{}, err
	}
	switch m.Table {
	case domain.TableVisits:
		return p.visit(m)
	case domain.TableOrders:
		return p.order(m)
	case domain.TableAccountNotes:
		return p.note(m)
	case domain.TableAccounts:
		return p.account(m)
	case domain.TableAttachments:
		return p.attachment(m)
	}
	return wire.MutationResult{}, domain.Errorf(domain.CodeForbidden, "%s are read-only on devices", m.Table)
}

// pushKind is the kind of write m asks for as far as can be told before its row
// is read: an upsert from base version 0 is a create (of a visit, order or
// note: accounts are created by sales operations only).
func pushKind(m wire.Mutation) domain.WriteKind {
	switch {
	case m.Op == store.OpDelete:
		return domain.WriteDelete
	case m.BaseVersion > 0 || m.Table == domain.TableAccounts:
		return domain.WriteUpdate
	}
	return domain.WriteCreate
}

func (p *pusher) actor() domain.Caller { return p.a }

// unseen answers a mutation of an existing row outside the pusher's scope
// exactly as the same mutation of a row that does not exist: a delete is
// applied (already gone), an edit is not found. Only a create reusing the id
// cannot be answered as for a free id; it is refused as an id in use, which
// tells nothing to whoever did not already know the id.
func (p *pusher) unseen(m wire.Mutation) (wire.MutationResult, error) {
	switch {
	case m.Op == store.OpDelete:
		return wire.MutationResult{Status: wire.StatusApplied, Version: m.BaseVersion}, nil
	case m.BaseVersion > 0:
		return wire.MutationResult{}, domain.RowNotFound(m.Table)
	}
	return wire.MutationResult{}, domain.Errorf(domain.CodeConflict, "id is already in use")
}

// existing is a visit, order or note a mutation writes, as the shared
// preamble (target) found it: locked, with its field versions, the account
// that scopes it, and the write judged so far.
type existing[T any] struct {
	cur T
	fv  domain.FieldVersions
	acc domain.Account
	// w is the write as CheckWrite has allowed it: an update or delete of cur
	// by its owner in its status. Callers that change owner or status judge
	// again with those filled in.
	w domain.RowWrite
}

// ownedRow is what the preamble needs of a row: the account that scopes it,
// its owner and its status ("" for notes).
type ownedRow interface {
	domain.Visit | domain.Order | domain.AccountNote
}

func ownership(row any) (accountID, owner, status string) {
	switch r := row.(type) {
	case domain.Visit:
		return r.AccountID, r.RepID, r.Status
	case domain.Order:
		return r.AccountID, r.RepID, r.Status
	case domain.AccountNote:
		return r.AccountID, r.AuthorID, ""
	}
	panic(fmt.Sprintf("ownership of %T", row))
}

// target is the preamble every write to a visit, order or note shares, in this
// order:
//
//  1. Load and lock the row (skipped when prefetch knows it does not exist).
//  2. No row: a delete is already applied, an edit is a vanished row, and an
//     upsert from version 0 is a create, handed to create.
//  3. The row's account: outside the pusher's scope the row is answered as
//     unseen, or as an out-of-scope conflict within the grace period.
//  4. Ownership: CheckWrite of an update or delete of the row as it is.
//
// A nil *existing means the preamble answered the mutation itself (res, err);
// otherwise the caller applies the table's own rules to the row.
func target[T ownedRow](p *pusher, m wire.Mutation, get func(*store.Tx, string, bool) (T, domain.FieldVersions, error),
	create func(wire.Mutation) (wire.MutationResult, error)) (*existing[T], wire.MutationResult, error) {
	if !p.mayExist(m.Table, m.ID) {
		res, err := p.noRow(m, create)
		return nil, res, err
	}
	cur, fv, err := get(p.tx, m.ID, true)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		res, err := p.noRow(m, create)
		return nil, res, err
	}
	if err != nil {
		return nil, wire.MutationResult{}, err
	}
	accountID, owner, status := ownership(cur)
	acc, err := p.rowAccount(accountID)
	if err != nil {
		res, err := p.settle(m, err)
		return nil, res, err
	}
	w := domain.RowWrite{Table: m.Table, Kind: domain.WriteUpdate, PrevOwner: owner, Owner: owner,
		PrevStatus: status, Status: status}
	if m.Op == store.OpDelete {
		w.Kind = domain.WriteDelete
	}
	if err := domain.CheckWrite(p.actor(), w); err != nil {
		return nil, wire.MutationResult{}, err
	}
	return &existing[T]{cur: cur, fv: fv, acc: acc, w: w}, wire.MutationResult{}, nil
}

// noRow answers a mutation of a row that does not exist: a delete is already
// applied, an edit of a row is a vanished row, an upsert from version 0 is a
// create.
func (p *pusher) noRow(m wire.Mutation, create func(wire.Mutation) (wire.MutationResult, error)) (wire.MutationResult, error) {
	switch {
	case m.Op == store.OpDelete:
		return wire.MutationResult{Status: wire.StatusApplied, Version: m.BaseVersion}, nil // already gone
	case m.BaseVersion > 0:
		return p.vanished(m)
	}
	return create(m)
}

// rowAccount loads the account of an existing row for a write: outside the
// pusher's scope the row is answered as unseen (errUnseen), unless a rep had
// the account within the grace period (errOutOfScope).
func (p *pusher) rowAccount(accountID string) (domain.Account, error) {
	acc, err := p.accountFor(accountID, "account_id")
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return acc, errUnseen
	}
	return acc, err
}

// errUnseen marks an existing row outside the pusher's scope.
var errUnseen = errors.New("row outside the pusher's scope")

// settle turns the scope errors of rowAccount into their answers; other
// errors pass.
func (p *pusher) settle(m wire.Mutation, err error) (wire.MutationResult, error) {
	if errors.Is(err, errUnseen) {
		return p.unseen(m)
	}
	// nil: the record keeps the mutation as sent; the server's row is not the
	// device's change.
	return p.outOfScope(m, err, nil)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// errOutOfScope marks a write against an account the rep lost recently: it becomes
// a conflict for the account's current managers instead of a rejection.
type errOutOfScope struct{ account domain.Account }

func (errOutOfScope) Error() string { return "account left the writer's scope" }

// account loads an account the actor may write against. An account out of scope
// is not found (its existence is not leaked), unless a rep had it within the
// grace period: then errOutOfScope.
func (p *pusher) accountFor(id string, field string) (domain.Account, error) {
	notFound := domain.Invalid(domain.FieldError{Field: field, Message: "unknown account"})
	notFound.Code = domain.CodeNotFound
	notFound.Message = "account not found"
	if !domain.IsUUID(id) {
		return domain.Account{}, domain.Invalid(domain.FieldError{Field: field, Message: "must be a UUID"})
	}
	acc, cached := p.accounts[id]
	if !cached {
		var err error
		acc, _, err = store.GetAccount(p.tx, id, false)
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return domain.Account{}, notFound
		}
		if err != nil {
			return domain.Account{}, err
		}
		p.accounts[id] = acc
	}
	if p.scope.Sees(domain.TableAccounts, domain.AccountKeys(acc.TerritoryID, acc.OwnerID)) {
		return acc, nil
	}
	if p.a.Role == domain.RoleRep {
		had, err := store.HadAccountAccess(p.tx, p.a.UserID, acc.ID, p.tx.Now().Add(-p.e.cfg.ScopeGrace))
		if err != nil {
			return domain.Account{}, err
		}
		if had {
			return domain.Account{}, errOutOfScope{account: acc}
		}
	}
	return domain.Account{}, notFound
}

func rowJSON(v any) json.RawMessage {
	b, _ := domain.AppendJSON(nil, v) // domain rows always encode
	return b
}

func applied(version int64, row any) wire.MutationResult {
	return wire.MutationResult{Status: wire.StatusApplied, Version: version, Row: rowJSON(row)}
}

// conflict records an open conflict and answers with the server's current row.
func (p *pusher) conflict(m wire.Mutation, acc *domain.Account, reason string, deviceRow, serverRow any, serverVersion int64) (wire.MutationResult, error) {
	id := newID()
	c := store.ConflictRecord{ID: id, Tbl: m.Table, RowID: m.ID, Status: store.ConflictOpen, Reason: reason,
		UserID: p.a.UserID, DeviceID: p.a.DeviceID, DeviceRow: deviceRowText(m, deviceRow),
		ServerRow: store.JSONText(serverRow), CreatedAt: p.tx.Now()}
	if acc != nil {
		c.AccountID, c.TerritoryID = &acc.ID, &acc.TerritoryID
	}
	if err := store.CreateConflict(p.tx, c); err != nil {
		return wire.MutationResult{}, err
	}
	res := wire.MutationResult{Status: wire.StatusConflict, Version: serverVersion, ConflictID: id, Reason: reason}
	if serverRow != nil {
		res.Row = rowJSON(serverRow)
	}
	return res, nil
}

// autoResolved keeps the record of what a merge replaced, so no write is lost
// even when the merge decided for one side.
func (p *pusher) autoResolved(m wire.Mutation, acc domain.Account, out domain.MergeOutcome, deviceRow, serverRow any) error {
	if len(out.ServerLost) == 0 && len(out.DeviceLost) == 0 {
		return nil
	}
	reason := "merged"
	if len(out.ServerLost) > 0 {
		reason += fmt.Sprintf("; device value kept for %v, server value replaced", out.ServerLost)
	}
	if len(out.DeviceLost) > 0 {
		reason += fmt.Sprintf("; server value kept for %v, device value not applied", out.DeviceLost)
	}
	auto, now := store.ResolutionAuto, p.tx.Now()
	c := store.ConflictRecord{ID: newID(), Tbl: m.Table, RowID: m.ID, AccountID: &acc.ID, TerritoryID: &acc.TerritoryID,
		Status: store.ConflictResolved, Reason: reason, UserID: p.a.UserID, DeviceID: p.a.DeviceID,
		DeviceRow: deviceRowText(m, deviceRow), ServerRow: store.JSONText(serverRow), Resolution: &auto,
		ResolvedAt: &now, CreatedAt: now}
	return store.CreateConflict(p.tx, c)
}

// deviceRowText is what the device tried to write: the patched row when there is
// one, else the raw mutation (a delete, or a write against a vanished row).
func deviceRowText(m wire.Mutation, deviceRow any) string {
	if deviceRow != nil {
		if s := store.JSONText(deviceRow); s != nil {
			return *s
		}
	}
	return string(rowJSON(m))
}

// outOfScope turns errOutOfScope into the contract's conflict, other errors pass.
func (p *pusher) outOfScope(m wire.Mutation, err error, deviceRow any) (wire.MutationResult, error) {
	var oos errOutOfScope
	if errors.As(err, &oos) {
		return p.conflict(m, &oos.account, "out_of_scope", deviceRow, nil, 0)
	}
	return wire.MutationResult{}, err
}
