package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"gorm.io/gorm"
)

// pushAttempts bounds how often a push transaction that failed for a transient
// reason runs again.
const pushAttempts = 3

// Push applies a device's mutations in order, each all-or-nothing on its own
// (a savepoint each), all in one transaction per request so a batch costs one
// commit. A replayed mutation_id returns its stored result and changes nothing.
// Only an internal failure fails the request; then nothing of it is kept and the
// device resends the batch.
func (e *Engine) Push(ctx context.Context, a domain.Caller, req wire.PushRequest) (wire.PushResponse, error) {
	results := make([]wire.MutationResult, len(req.Mutations))
	apply := func(tx *gorm.DB) error {
		clear(results) // a retried attempt starts over
		// First, before any other lock (store/locks.go): a resend of this
		// request that overlaps it waits here, then reads the results this one
		// stored instead of applying the mutations again. A retry is a new
		// transaction and takes the lock again.
		if err := store.LockDevicePush(tx, a.UserID, a.DeviceID); err != nil {
			return err
		}
		now := e.db.Now()
		scope, err := resolveScope(tx, a.UserID)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(req.Mutations))
		for _, m := range req.Mutations {
			if domain.IsUUID(m.MutationID) {
				ids = append(ids, m.MutationID)
			}
		}
		prior, err := store.PushResults(tx, a.UserID, a.DeviceID, ids)
		if err != nil {
			return err
		}
		p := &pusher{e: e, tx: tx, a: a, scope: scope, now: now, accounts: map[string]domain.Account{}}
		if err := p.prefetch(req.Mutations, prior); err != nil {
			return err
		}
		if e.pushHook != nil {
			e.pushHook(PushLocked, a, nil)
		}
		var fresh []store.PushResult
		for i, m := range req.Mutations {
			if stored, ok := prior[m.MutationID]; ok {
				if err := json.Unmarshal(stored, &results[i]); err != nil {
					return fmt.Errorf("decode stored result of %s: %w", m.MutationID, err)
				}
				continue
			}
			res, err := p.applyOne(i, m)
			if err != nil {
				return err
			}
			results[i] = res
			if !domain.IsUUID(m.MutationID) {
				continue // not a mutation id we can key a replay on
			}
			b := res.AppendJSON(nil)
			fresh = append(fresh, store.PushResult{MutationID: m.MutationID, Result: b})
			prior[m.MutationID] = b
		}
		if err := p.flush(); err != nil {
			return err
		}
		// One insert for the whole batch: results only need to be durable with
		// the writes they describe, which commit together.
		if err := store.SavePushResults(tx, now, a.UserID, a.DeviceID, fresh); err != nil {
			return err
		}
		if err := store.TouchDevice(tx, a.UserID, a.DeviceID, store.DeviceTouch{PushedAt: &now, Pending: req.Pending}); err != nil {
			return err
		}
		if e.pushHook != nil {
			e.pushHook(PushCommit, a, nil)
		}
		return nil
	}
	// A deadlock or serialization failure (two pushes completing visits of the
	// same accounts in opposite orders, say) aborts the whole transaction before
	// anything commits, so the request is applied again from the start, as the
	// device would resend it, instead of answering 500.
	var err error
	for attempt := 1; ; attempt++ {
		err = e.db.Tx(ctx, apply)
		if err == nil || attempt == pushAttempts || !store.IsRetryable(err) || ctx.Err() != nil {
			break
		}
		if e.pushHook != nil {
			e.pushHook(PushRetry, a, err)
		}
	}
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

// pusher applies the mutations of one request.
type pusher struct {
	e     *Engine
	tx    *gorm.DB
	a     domain.Caller
	scope domain.Scope
	now   time.Time
	// accounts caches the accounts read by this request: a batch of visits is
	// usually a day at a handful of customers.
	accounts map[string]domain.Account
	// absent holds "table/id" of rows known not to exist when the request
	// started and not created since: their lookup can be skipped.
	absent map[string]bool
	// deleted holds "table/id" of absent rows whose id was used before (a
	// tombstone is logged): a create of one is a re-creation.
	deleted map[string]bool
	// pendingVisits and pendingLog hold this request's visit creates and their
	// change-log entries, not written yet: they are written in one statement
	// each before any other kind of mutation and at the end of the request.
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
	if err := p.tx.SavePoint(sp).Error; err != nil {
		return wire.MutationResult{}, fmt.Errorf("savepoint: %w", err)
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
	if rerr := p.tx.RollbackTo(sp).Error; rerr != nil {
		return wire.MutationResult{}, fmt.Errorf("rollback to savepoint: %w", rerr)
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
		had, err := store.HadAccountAccess(p.tx, p.a.UserID, acc.ID, p.now.Add(-p.e.cfg.ScopeGrace))
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
		ServerRow: store.JSONText(serverRow), CreatedAt: p.now}
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
	auto := store.ResolutionAuto
	c := store.ConflictRecord{ID: newID(), Tbl: m.Table, RowID: m.ID, AccountID: &acc.ID, TerritoryID: &acc.TerritoryID,
		Status: store.ConflictResolved, Reason: reason, UserID: p.a.UserID, DeviceID: p.a.DeviceID,
		DeviceRow: deviceRowText(m, deviceRow), ServerRow: store.JSONText(serverRow), Resolution: &auto,
		ResolvedAt: &p.now, CreatedAt: p.now}
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
