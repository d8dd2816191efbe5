package backoffice

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// writer applies a conflict's resolution to its row, in the resolver's
// transaction: within the resolver's territories, and only as a write both the
// resolver and the conflict's original writer may make.
type writer struct {
	tx       *store.Tx
	resolver domain.Caller
	reach    domain.Visibility // the resolver's
	origin   origin
	currency string
	// conflictID is the conflict being resolved, for the order history.
	conflictID string
}

// origin is the conflict's original writer as the rules see them now: their
// current role, the territories they reach, and the account the conflict was
// recorded against (which the push already judged they could write to, or had
// until lately).
type origin struct {
	actor   domain.Caller
	reach   domain.Visibility
	account *string
}

// originOf loads the original writer of rec. A writer who no longer exists
// has no role, so no write passes their rules: only keep_server remains.
func originOf(tx *store.Tx, rec store.ConflictRecord) (origin, error) {
	o := origin{account: rec.AccountID}
	v, err := store.LoadVisibility(tx, store.VisibilityQuery{UserID: rec.UserID})
	if err != nil || !v.Found {
		return o, err
	}
	o.actor, o.reach = domain.Caller{UserID: v.UserID, Role: v.Role}, v
	return o, nil
}

// sees reports whether the writer could write against acc: the conflict's own
// account, or one of their territories, or one they own.
func (o origin) sees(acc domain.Account) bool {
	return (o.account != nil && *o.account == acc.ID) || o.reach.Sees(acc.TerritoryID) ||
		(acc.OwnerID != nil && *acc.OwnerID == o.actor.UserID)
}

// owner is the user a row the resolution creates belongs to: a rep's rows are
// the rep's whatever the recorded row says (docs/protocol.md §4.2: rep_id and
// author_id from a rep are the server's), others' as recorded.
func (w writer) owner(recorded string) string {
	if w.origin.actor.Role == domain.RoleRep {
		return w.origin.actor.UserID
	}
	return recorded
}

// check applies the rules of both sides to the write (domain.CheckResolution).
func (w writer) check(rw domain.RowWrite) error {
	if err := domain.CheckResolution(w.resolver, w.origin.actor, rw); err != nil {
		return err
	}
	return nil
}

// checkCreate adds, for a row the resolution creates, the writer's scope: the
// resolver reaches the account, and the writer must have been able to write
// against it too.
func (w writer) checkCreate(rw domain.RowWrite, acc domain.Account) error {
	if !w.origin.sees(acc) {
		return domain.Errorf(domain.CodeForbidden, "the resolution is a write its writer may not make: the account is not theirs")
	}
	return w.check(rw)
}

// target is the write a resolution asks for: delete the row, or apply patch to
// it (creating the row when it does not exist).
type target struct {
	table, id string
	del       bool
	patch     json.RawMessage
}

// resolve performs the resolution and returns the row as it then is.
func (w writer) resolve(rec store.ConflictRecord, in ResolveInput) (json.RawMessage, error) {
	t := target{table: rec.Tbl, id: rec.RowID}
	switch in.Resolution {
	case KeepServer:
		return w.current(t)
	case Custom:
		t.patch = in.Row
	case TakeDevice:
		var err error
		if t, err = deviceTarget(rec); err != nil {
			return nil, err
		}
	}
	var row any
	var err error
	switch t.table {
	case domain.TableVisits:
		row, err = w.visit(t)
	case domain.TableOrders:
		row, err = w.order(t)
	case domain.TableAccountNotes:
		row, err = w.note(t)
	case domain.TableAccounts:
		row, err = w.account(t)
	default:
		return nil, domain.Errorf(domain.CodeForbidden, "conflicts on %s cannot be resolved here", t.table)
	}
	if err != nil || row == nil {
		return nil, err
	}
	return json.Marshal(row)
}

// current is the row as the server has it, or nil when it does not exist.
func (w writer) current(t target) (json.RawMessage, error) {
	rows, err := store.FetchRows(w.tx, t.table, []string{t.id})
	if err != nil {
		return nil, err
	}
	if r, ok := rows[t.id]; ok {
		return r.JSON, nil
	}
	return nil, nil
}

// deviceTarget recovers the device's change from a conflict record. A stored
// mutation (a delete, or a write against a vanished row) is replayed as sent.
// A stored row is compared with the server row of the time: the fields that
// differ are what the device changed, and only those are applied to the row as
// it is now, so nothing the server changed since is rolled back. Without a
// server row the device row is a create.
func deviceTarget(rec store.ConflictRecord) (target, error) {
	t := target{table: rec.Tbl, id: rec.RowID}
	dev, err := objectFields([]byte(rec.DeviceRow))
	if err != nil {
		return t, fmt.Errorf("conflict %s device row: %w", rec.ID, err)
	}
	if _, ok := dev["mutation_id"]; ok {
		var m wire.Mutation
		if err := json.Unmarshal([]byte(rec.DeviceRow), &m); err != nil {
			return t, fmt.Errorf("conflict %s mutation: %w", rec.ID, err)
		}
		t.del, t.patch = m.Op == store.OpDelete, m.Row
		return t, nil
	}
	if rec.ServerRow == nil {
		t.patch = json.RawMessage(rec.DeviceRow)
		return t, nil
	}
	srv, err := objectFields([]byte(*rec.ServerRow))
	if err != nil {
		return t, fmt.Errorf("conflict %s server row: %w", rec.ID, err)
	}
	diff := map[string]json.RawMessage{}
	for k, v := range dev {
		if k != "version" && k != "updated_at" && !bytes.Equal(v, srv[k]) {
			diff[k] = v
		}
	}
	t.patch, err = json.Marshal(diff)
	return t, err
}

func objectFields(b []byte) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// withoutUnchanged drops the keys of patch whose value the row already has, so
// that a whole row sent back (a create recorded as a full row, a custom body
// copied from the conflict) does not trip over fields that may not change.
func withoutUnchanged(patch json.RawMessage, row any) json.RawMessage {
	p, err := objectFields(patch)
	if err != nil {
		return patch // ApplyPatch reports what is wrong with it
	}
	cur, err := json.Marshal(row)
	if err != nil {
		return patch
	}
	c, err := objectFields(cur)
	if err != nil {
		return patch
	}
	for k, v := range p {
		if cv, ok := c[k]; ok && bytes.Equal(bytes.TrimSpace(v), cv) {
			delete(p, k)
		}
	}
	out, err := json.Marshal(p)
	if err != nil {
		return patch
	}
	return out
}

func ignoring(keys ...string) map[string]bool {
	m := map[string]bool{"id": true, "version": true, "updated_at": true}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// inReach loads the account of a row; outside the resolver's reach the row is
// not found, so its existence does not leak.
func inReach(tx *store.Tx, r domain.Visibility, accountID, what string) (domain.Account, error) {
	acc, err := accountInReach(tx, r, accountID)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return acc, domain.Errorf(domain.CodeNotFound, "%s not found", what)
	}
	return acc, err
}

// checkUser reports a field error unless id names a user with one of roles.
func checkUser(tx *store.Tx, field, id string, roles ...domain.Role) error {
	bad := domain.Invalid(domain.FieldError{Field: field, Message: "must be an existing user who may own this row"})
	if !domain.IsUUID(id) {
		return bad
	}
	u, err := store.GetUser(tx, id, false)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return bad
	}
	if err != nil {
		return err
	}
	for _, r := range roles {
		if u.Role == r {
			return nil
		}
	}
	return bad
}
