package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// org is the "one-region" named fixture (fixtures.OneRegion) with an engine:
// region R with territories T1 and T2, rep1 in T1, rep2 in T2, a manager of
// R, accounts acc1 and acc1b in T1 and acc2 in T2, an active product. Its
// other rows (rep3, the desk, ops, rep1's key account in T2, two more
// products) stand by.
type org struct {
	db                *store.DB
	eng               *engine.Engine
	region, t1, t2    string
	rep1, rep2, mgr   string
	acc1, acc2, acc1b string
	product           string
}

func newOrg(t *testing.T, db *store.DB) *org { return newOrgTB(t, db) }

// uuidFrom derives a stable UUID from s (fuzz inputs need fresh, valid ids).
func uuidFrom(s string) string { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(s)).String() }

func newOrgTB(t testing.TB, db *store.DB) *org {
	t.Helper()
	f, err := fixtures.NewOneRegion(context.Background(), db, fixtures.NamedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &org{db: db, eng: engine.New(db, engine.Config{Currency: "EUR"}, nil, nil),
		region: f.Region, t1: f.T1, t2: f.T2, rep1: f.Rep1, rep2: f.Rep2, mgr: f.Mgr,
		acc1: f.A1, acc1b: f.A1b, acc2: f.A2, product: f.P1}
}

func (o *org) write(t testing.TB, fn func(tx *store.Tx, now time.Time) error) {
	t.Helper()
	if err := o.db.InTx(context.Background(), func(tx *store.Tx) error { return fn(tx, tx.Now()) }); err != nil {
		t.Fatal(err)
	}
}

func (o *org) actor(user string) domain.Caller {
	role := domain.RoleRep
	if user == o.mgr {
		role = domain.RoleManager
	}
	return domain.Caller{UserID: user, Role: role, DeviceID: "dev-" + user[:8]}
}

// mirror applies pull pages the way docs/protocol.md §4.1 tells a device to.
type mirror struct {
	rows    map[string]map[string]wire.Change // table -> id -> last upsert
	cursor  string
	deletes []wire.Change
	resets  int
}

func newMirror() *mirror { return &mirror{rows: map[string]map[string]wire.Change{}} }

func (m *mirror) apply(resp wire.PullResponse) {
	if resp.Reset {
		m.resets++
		m.rows = map[string]map[string]wire.Change{}
	}
	for _, c := range resp.Changes {
		if m.rows[c.Table] == nil {
			m.rows[c.Table] = map[string]wire.Change{}
		}
		switch c.Op {
		case "delete":
			m.deletes = append(m.deletes, c)
			delete(m.rows[c.Table], c.ID)
		case "upsert":
			if old, ok := m.rows[c.Table][c.ID]; !ok || old.Version <= c.Version {
				m.rows[c.Table][c.ID] = c
			}
		}
	}
	m.cursor = resp.Cursor
}

func (m *mirror) has(table, id string) bool { _, ok := m.rows[table][id]; return ok }

// syncAll pulls until has_more is false, with a small page size to exercise paging.
func (o *org) syncAll(t *testing.T, m *mirror, user string) {
	t.Helper()
	for i := 0; i < 10000; i++ {
		resp, err := o.eng.Pull(context.Background(), o.actor(user), m.cursor, 7)
		if err != nil {
			t.Fatalf("pull: %v", err)
		}
		if len(resp.Changes) > 7 {
			t.Fatalf("page of %d changes over limit 7", len(resp.Changes))
		}
		m.apply(resp)
		if !resp.HasMore {
			return
		}
	}
	t.Fatal("pull never finished")
}

func (o *org) push(t *testing.T, user string, muts ...wire.Mutation) []wire.MutationResult {
	t.Helper()
	resp, err := o.eng.Push(context.Background(), o.actor(user), wire.PushRequest{Mutations: muts})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return resp.Results
}

func mut(table, op, id string, base int64, row any) wire.Mutation {
	var raw json.RawMessage
	if row != nil {
		raw, _ = json.Marshal(row)
	}
	return wire.Mutation{MutationID: uuid.NewString(), Table: table, Op: op, ID: id, BaseVersion: base, Row: raw}
}

// scopeRows lists what user may see, straight from the tables: the expected
// content of a converged mirror (table -> id -> version).
func (o *org) scopeRows(t *testing.T, user string) map[string]map[string]int64 {
	t.Helper()
	scope, err := o.eng.Scope(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int64{}
	for _, table := range domain.SyncedTables {
		var ids []string
		if err := o.db.Gorm.Table(table).Pluck("id", &ids).Error; err != nil {
			t.Fatal(err)
		}
		rows, err := store.FetchRows(o.db.Autocommit(context.Background()), table, ids)
		if err != nil {
			t.Fatal(err)
		}
		for id, r := range rows {
			if scope.Sees(table, r.Keys) {
				if out[table] == nil {
					out[table] = map[string]int64{}
				}
				out[table][id] = r.Version
			}
		}
	}
	return out
}

func (m *mirror) versions() map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for table, rows := range m.rows {
		for id, c := range rows {
			if out[table] == nil {
				out[table] = map[string]int64{}
			}
			out[table][id] = c.Version
		}
	}
	return out
}

func assertConverged(t *testing.T, o *org, m *mirror, user string) {
	t.Helper()
	want, got := o.scopeRows(t, user), m.versions()
	for table, rows := range want {
		for id, v := range rows {
			if got[table][id] != v {
				t.Errorf("%s %s: mirror has version %d, server %d", table, id, got[table][id], v)
			}
		}
	}
	for table, rows := range got {
		for id := range rows {
			if _, ok := want[table][id]; !ok {
				t.Errorf("%s %s: in the mirror but outside the scope", table, id)
			}
		}
	}
}
