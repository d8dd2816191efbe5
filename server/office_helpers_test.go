package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// office is the "two-regions" named fixture (fixtures.TwoRegions) behind a
// real server, everyone signed in with officePassword:
//
//	region R: territories T1 (rep1, coordinator coord1), T2 (rep2); manager mgr
//	region S: territory T3 (rep3); manager mgr2
//	coordAll (no territories: everything), director, ops
//
// with an account in each territory (acc1, acc2, acc3) and one active product.
// Users are named as in the fixture; tokens and ids are keyed by that name.
type office struct {
	*adminEnv
	r, s, t1, t2, t3            string
	acc1, acc2, acc3, product   string
	ids                         map[string]string // name -> user id
	tokens                      map[string]string // name -> token
	rep1, rep2, rep3, mgr, mgr2 string
	coord1, coordAll, director  string
}

const officePassword = "password1"

func newOffice(t *testing.T, db *store.DB) *office {
	t.Helper()
	f, err := fixtures.NewTwoRegions(context.Background(), db, fixtures.NamedOptions{Password: officePassword})
	if err != nil {
		t.Fatal(err)
	}
	o := &office{adminEnv: newServerEnv(t, db), ids: map[string]string{}, tokens: map[string]string{},
		r: f.R, s: f.S, t1: f.T1, t2: f.T2, t3: f.T3, acc1: f.A1, acc2: f.A2, acc3: f.A3, product: f.Product,
		rep1: f.Rep1, rep2: f.Rep2, rep3: f.Rep3, mgr: f.Mgr, mgr2: f.Mgr2,
		coord1: f.Coord1, coordAll: f.CoordAll, director: f.Director}
	for name, u := range f.Users {
		o.ids[name] = u.ID
		o.tokens[name] = o.login(u.Email, officePassword, "dev-"+name)
	}
	o.ops = o.tokens["ops"]
	return o
}

// in returns the office reporting to t, for use inside a subtest.
func (o *office) in(t *testing.T) *office {
	c, env := *o, *o.adminEnv
	env.t = t
	c.adminEnv = &env
	return &c
}

func (o *office) write(fn func(tx *store.Tx, now time.Time) error) {
	o.t.Helper()
	if err := o.db.InTx(context.Background(), func(tx *store.Tx) error { return fn(tx, tx.Now()) }); err != nil {
		o.t.Fatal(err)
	}
}

// as sends a request as the named user; it must answer status; out receives
// the body.
func (o *office) as(who, method, path, body string, status int, out any) []byte {
	o.t.Helper()
	got, b := o.do(method, path, o.tokens[who], body)
	if got != status {
		o.t.Fatalf("%s %s as %s = %d %s, want %d", method, path, who, got, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			o.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

// failsAs sends a request as the named user that must fail with status and code.
func (o *office) failsAs(who, method, path, body string, status int, code domain.Code) wire.ErrorDetail {
	o.t.Helper()
	d := o.fails(method, path, o.tokens[who], body, status)
	if d.Code != string(code) {
		o.t.Fatalf("%s %s as %s: code %s (%s), want %s", method, path, who, d.Code, d.Message, code)
	}
	return d
}

func (o *office) actor(who string) domain.Caller {
	role := domain.RoleRep
	if who == "mgr" || who == "mgr2" {
		role = domain.RoleManager
	}
	return domain.Caller{UserID: o.ids[who], Role: role, DeviceID: "dev-" + who}
}

// push sends mutations from the named user's device straight to the engine.
func (o *office) push(who string, device string, muts ...wire.Mutation) []wire.MutationResult {
	o.t.Helper()
	a := o.actor(who)
	if device != "" {
		a.DeviceID = device
	}
	resp, err := o.srv.Sync.Push(context.Background(), a, wire.PushRequest{Mutations: muts})
	if err != nil {
		o.t.Fatalf("push: %v", err)
	}
	return resp.Results
}

func (o *office) pushOne(who string, m wire.Mutation, want string) wire.MutationResult {
	o.t.Helper()
	r := o.push(who, "", m)[0]
	if r.Status != want {
		o.t.Fatalf("push %s %s as %s: %+v, want %s", m.Table, m.Op, who, r, want)
	}
	return r
}

func mutation(table, op, id string, base int64, row any) wire.Mutation {
	var raw json.RawMessage
	if row != nil {
		raw, _ = json.Marshal(row)
	}
	return wire.Mutation{MutationID: uuid.NewString(), Table: table, Op: op, ID: id, BaseVersion: base, Row: raw}
}

// deviceMirror is a device's copy of a user's scope (table -> id -> last
// upsert), kept by pulling from its cursor.
type deviceMirror struct {
	o      *office
	who    string
	rows   map[string]map[string]wire.Change
	cursor string
}

func (o *office) mirror(who string) *deviceMirror {
	return &deviceMirror{o: o, who: who, rows: map[string]map[string]wire.Change{}}
}

// until pulls until ok holds of the mirror. On Postgres a pull delivers only
// transactions below the cluster's oldest open one, so a long transaction
// elsewhere on the shared test cluster delays what a pull sees (it never loses
// it): the mirror keeps pulling, within a generous bound.
func (m *deviceMirror) until(ok func(rows map[string]map[string]wire.Change) bool) {
	m.o.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := m.o.srv.Sync.Pull(context.Background(), m.o.actor(m.who), m.cursor, 500)
		if err != nil {
			m.o.t.Fatalf("pull: %v", err)
		}
		m.apply(resp)
		if resp.HasMore {
			continue
		}
		if ok(m.rows) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.o.t.Fatalf("%s never pulled the expected rows", m.who)
}

func (m *deviceMirror) apply(resp wire.PullResponse) {
	if resp.Reset {
		m.rows = map[string]map[string]wire.Change{}
	}
	for _, c := range resp.Changes {
		if m.rows[c.Table] == nil {
			m.rows[c.Table] = map[string]wire.Change{}
		}
		if c.Op == store.OpDelete {
			delete(m.rows[c.Table], c.ID)
		} else if old, seen := m.rows[c.Table][c.ID]; !seen || old.Version <= c.Version {
			m.rows[c.Table][c.ID] = c
		}
	}
	m.cursor = resp.Cursor
}

// hasVersion waits until the mirror holds row id of table at version v.
func (m *deviceMirror) hasVersion(table, id string, v int64) wire.Change {
	m.o.t.Helper()
	m.until(func(rows map[string]map[string]wire.Change) bool { return rows[table][id].Version == v })
	return m.rows[table][id]
}

// lacks waits until the mirror does not hold row id of table.
func (m *deviceMirror) lacks(table, id string) {
	m.o.t.Helper()
	m.until(func(rows map[string]map[string]wire.Change) bool { _, has := rows[table][id]; return !has })
}

// draftOrder creates a draft order of the named rep with one line of quantity q.
func (o *office) draftOrder(who, account string, q int) string {
	o.t.Helper()
	id := uuid.NewString()
	o.pushOne(who, mutation("orders", "upsert", id, 0, map[string]any{"account_id": account,
		"lines": []map[string]any{{"product_id": o.product, "quantity": q}}}), wire.StatusApplied)
	return id
}

// submittedOrder creates and submits an order of the named rep; it returns the
// order at version 2.
func (o *office) submittedOrder(who, account string) domain.Order {
	o.t.Helper()
	id := o.draftOrder(who, account, 1)
	r := o.pushOne(who, mutation("orders", "upsert", id, 1, map[string]any{"status": "submitted"}), wire.StatusApplied)
	var ord domain.Order
	if err := json.Unmarshal(r.Row, &ord); err != nil {
		o.t.Fatal(err)
	}
	return ord
}

func (o *office) transition(who, orderID string, body map[string]any, status int) domain.Order {
	o.t.Helper()
	b, _ := json.Marshal(body)
	var ord domain.Order
	o.as(who, "POST", "/v1/orders/"+orderID+"/transition", string(b), status, &ord)
	return ord
}
