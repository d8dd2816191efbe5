package watermelon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/sync/engine"
	"github.com/fieldsync/fieldsync/sync/watermelon"
	"github.com/fieldsync/fieldsync/wire"
)

// org: territory T1 (rep, rep's second device) and T2 (acc2, no rep of ours).
type org struct {
	db         *store.DB
	eng        *engine.Engine
	ad         *watermelon.Adapter
	t1, t2     string
	acc1, acc2 string
	rep        domain.Caller
}

func newOrg(t *testing.T, db *store.DB) *org {
	t.Helper()
	o := &org{db: db, t1: uuid.NewString(), t2: uuid.NewString(), acc1: uuid.NewString(), acc2: uuid.NewString()}
	o.rep = domain.Caller{UserID: uuid.NewString(), Role: domain.RoleRep, DeviceID: "phone-1"}
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		now := db.Now()
		for _, tr := range []domain.Territory{{ID: o.t1, Name: "T1"}, {ID: o.t2, Name: "T2"}} {
			if _, err := store.CreateTerritory(tx.At(now), tr); err != nil {
				return err
			}
		}
		if _, err := store.CreateUser(tx.At(now), store.UserRecord{Email: "rep@example.com", PasswordHash: "x",
			User: domain.User{ID: o.rep.UserID, Name: "rep", Role: domain.RoleRep, TerritoryIDs: []string{o.t1}}}); err != nil {
			return err
		}
		for id, terr := range map[string]string{o.acc1: o.t1, o.acc2: o.t2} {
			if _, err := store.CreateAccount(tx.At(now), domain.Account{ID: id, Name: "Account", TerritoryID: terr,
				Class: domain.ClassA, Status: domain.AccountActive}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	o.restart()
	return o
}

// restart builds a new engine and adapter over the same database, as a
// restarted server would.
func (o *org) restart() {
	o.eng = engine.New(o.db, engine.Config{}, nil, nil)
	o.ad = watermelon.New(o.eng, o.db)
}

// answer is a decoded pull answer.
type answer struct {
	Changes map[string]struct {
		Created []map[string]any `json:"created"`
		Updated []map[string]any `json:"updated"`
		Deleted []string         `json:"deleted"`
	} `json:"changes"`
	Timestamp int64  `json:"timestamp"`
	Strategy  string `json:"experimentalStrategy"`
}

func (o *org) pull(t *testing.T, a domain.Caller, last int64) answer {
	t.Helper()
	settle(t, o.db)
	res, err := o.ad.Pull(context.Background(), a, watermelon.PullRequest{LastPulledAt: last})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := res.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var ans answer
	if err := json.Unmarshal(buf.Bytes(), &ans); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	return ans
}

func (ans answer) ids(table string) []string {
	var out []string
	for _, r := range ans.Changes[table].Updated {
		out = append(out, r["id"].(string))
	}
	return out
}

func (ans answer) row(table, id string) map[string]any {
	for _, r := range ans.Changes[table].Updated {
		if r["id"] == id {
			return r
		}
	}
	return nil
}

func (o *org) push(t *testing.T, a domain.Caller, last int64, changes string) watermelon.PushResult {
	t.Helper()
	var req watermelon.PushRequest
	req.LastPulledAt = last
	if err := json.Unmarshal([]byte(changes), &req.Changes); err != nil {
		t.Fatal(err)
	}
	res, err := o.ad.Push(context.Background(), a, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// settle waits until a pull can deliver every committed change (Postgres
// delivers only below the bound of running transactions, and other tests on
// the cluster may hold it back for a moment).
func settle(t *testing.T, db *store.DB) {
	t.Helper()
	if db.Dialect != store.Postgres {
		return
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		bound, err := store.PullBound(db.Autocommit(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		var behind int64
		if err := db.Gorm.Raw(`SELECT count(*) FROM change_log WHERE xid >= ?::xid8`,
			strconv.FormatUint(bound, 10)).Scan(&behind).Error; err != nil {
			t.Fatal(err)
		}
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("change log stayed undeliverable for 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func visitCreate(id, account string) string {
	return fmt.Sprintf(`{"id":%q,"_status":"created","_changed":"","account_id":%q,"rep_id":"","status":"planned","planned_at":1795420800000,"checked_in_at":null,"report":"","version":0,"updated_at":0}`, id, account)
}

// Every change committed while pulls run reaches the app exactly once, in the
// pull after it commits or a later one, across a server restart: the numbers
// stand for engine cursors stored in the database.
func TestPull_NumbersNeverSkipNorRepeat(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		first := o.pull(t, o.rep, 0)
		if first.Timestamp <= 0 || !slices.Equal(first.ids("accounts"), []string{o.acc1}) {
			t.Fatalf("first sync: timestamp %d, accounts %v", first.Timestamp, first.ids("accounts"))
		}
		const writers, perWriter = 4, 15
		var wg sync.WaitGroup
		created := make(chan string, writers*perWriter)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := domain.Caller{UserID: o.rep.UserID, Role: domain.RoleRep, DeviceID: fmt.Sprintf("writer-%d", w)}
				for range perWriter {
					id := uuid.NewString()
					m := wire.Mutation{MutationID: uuid.NewString(), Table: "visits", Op: "upsert", ID: id,
						Row: json.RawMessage(fmt.Sprintf(`{"account_id":%q,"planned_at":"2026-11-23T08:00:00Z"}`, o.acc1))}
					if _, err := o.eng.Push(context.Background(), a, wire.PushRequest{Mutations: []wire.Mutation{m}}); err != nil {
						t.Error(err)
					}
					created <- id
				}
			}()
		}
		seen := map[string]int{}
		last := first.Timestamp
		record := func(ans answer) {
			for _, id := range ans.ids("visits") {
				seen[id]++
			}
			last = ans.Timestamp
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			res, err := o.ad.Pull(context.Background(), o.rep, watermelon.PullRequest{LastPulledAt: last})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := res.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			var ans answer
			if err := json.Unmarshal(buf.Bytes(), &ans); err != nil {
				t.Fatal(err)
			}
			record(ans)
		}
		o.restart()
		record(o.pull(t, o.rep, last))
		close(created)
		n := 0
		for id := range created {
			n++
			if seen[id] != 1 {
				t.Errorf("visit %s arrived %d times", id, seen[id])
			}
		}
		if n != writers*perWriter || len(seen) != n {
			t.Errorf("created %d, seen %d distinct", n, len(seen))
		}
		if again := o.pull(t, o.rep, last); len(again.ids("visits")) != 0 || again.Timestamp != last {
			t.Errorf("idle pull: %d visits, timestamp %d (was %d)", len(again.ids("visits")), again.Timestamp, last)
		}
	})
}

// The same push sent twice changes nothing the second time and answers the
// same; the numbers a pull gives are the user's own.
func TestPush_SentTwiceIsIdempotent(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		ts := o.pull(t, o.rep, 0).Timestamp
		good, bad := uuid.NewString(), uuid.NewString()
		changes := fmt.Sprintf(`{"visits":{"created":[%s,%s],"updated":[],"deleted":[]}}`,
			visitCreate(good, o.acc1), visitCreate(bad, o.acc2))
		first := o.push(t, o.rep, ts, changes)
		second := o.push(t, o.rep, ts, changes)
		want := map[string][]string{"visits": {bad}}
		if fmt.Sprint(first.RejectedIDs) != fmt.Sprint(want) || fmt.Sprint(second.RejectedIDs) != fmt.Sprint(want) {
			t.Fatalf("rejected: first %v, second %v; want %v", first.RejectedIDs, second.RejectedIDs, want)
		}
		next := o.pull(t, o.rep, ts)
		if v := next.row("visits", good); v == nil || v["version"] != float64(1) || v["planned_at"] != float64(1795420800000) {
			t.Fatalf("created visit after two pushes: %v", v)
		}
		if !slices.Contains(next.Changes["visits"].Deleted, bad) {
			t.Errorf("the rejected create is not deleted on the device: %v", next.Changes["visits"].Deleted)
		}
		// A number this user was never given: a replacement sync.
		if ans := o.pull(t, o.rep, next.Timestamp+1000); ans.Strategy != "replacement" || len(ans.ids("accounts")) != 1 {
			t.Errorf("unknown number: strategy %q, accounts %v", ans.Strategy, ans.ids("accounts"))
		}
	})
}

// A record pushed through the adapter gets the answer the same mutation gets
// from /v1/sync/push: the same engine, permissions and policies.
func TestPush_SamePermissionsAsSyncPush(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		ts := o.pull(t, o.rep, 0).Timestamp
		cases := []struct {
			name     string
			table    string
			record   string // the WatermelonDB record
			mutation wire.Mutation
		}{
			{"contact field", "accounts",
				fmt.Sprintf(`{"id":%q,"_status":"updated","_changed":"phone","phone":"+49 1"}`, o.acc1),
				wire.Mutation{Table: "accounts", Op: "upsert", ID: o.acc1, BaseVersion: 1, Row: json.RawMessage(`{"phone":"+49 2"}`)}},
			{"account name", "accounts",
				fmt.Sprintf(`{"id":%q,"_status":"updated","_changed":"name","name":"Mine"}`, o.acc1),
				wire.Mutation{Table: "accounts", Op: "upsert", ID: o.acc1, BaseVersion: 1, Row: json.RawMessage(`{"name":"Mine"}`)}},
			{"visit on a foreign account", "visits", visitCreate(uuid.NewString(), o.acc2),
				wire.Mutation{Table: "visits", Op: "upsert", ID: uuid.NewString(), Row: json.RawMessage(fmt.Sprintf(`{"account_id":%q,"planned_at":"2026-11-23T08:00:00Z"}`, o.acc2))}},
			{"territory", "territories", fmt.Sprintf(`{"id":%q,"_status":"updated","_changed":"name","name":"Mine"}`, o.t1),
				wire.Mutation{Table: "territories", Op: "upsert", ID: o.t1, BaseVersion: 1, Row: json.RawMessage(`{"name":"Mine"}`)}},
		}
		for _, c := range cases {
			section := "updated"
			if bytes.Contains([]byte(c.record), []byte(`"created"`)) {
				section = "created"
			}
			res := o.push(t, o.rep, ts, fmt.Sprintf(`{%q:{%q:[%s]}}`, c.table, section, c.record))
			c.mutation.MutationID = uuid.NewString()
			v1, err := o.eng.Push(context.Background(), o.rep, wire.PushRequest{Mutations: []wire.Mutation{c.mutation}})
			if err != nil {
				t.Fatal(err)
			}
			rejected := len(res.RejectedIDs[c.table]) > 0
			if want := v1.Results[0].Status == wire.StatusRejected; rejected != want {
				t.Errorf("%s: rejected by the adapter %v, /v1/sync/push answered %s", c.name, rejected, v1.Results[0].Status)
			}
		}
	})
}

// A note both sides rewrote is merged by the notes policy, not overwritten:
// the device edited it before its last pull brought the other edit in.
func TestPush_EditBeforeThePullIsConcurrent(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		ts := o.pull(t, o.rep, 0).Timestamp
		note := uuid.NewString()
		o.push(t, o.rep, ts, fmt.Sprintf(`{"account_notes":{"created":[{"id":%q,"_status":"created","_changed":"","account_id":%q,"body":"first"}]}}`, note, o.acc1))
		ts = o.pull(t, o.rep, ts).Timestamp
		// Another device of the same rep rewrites the note.
		other := o.rep
		other.DeviceID = "phone-2"
		ts2 := o.pull(t, other, 0).Timestamp
		o.push(t, other, ts2, fmt.Sprintf(`{"account_notes":{"updated":[{"id":%q,"_status":"updated","_changed":"body","body":"theirs"}]}}`, note))
		// Our device edited offline; its synchronize() pulls (WatermelonDB
		// keeps our body), then pushes at the new number.
		ts = o.pull(t, o.rep, ts).Timestamp
		o.push(t, o.rep, ts, fmt.Sprintf(`{"account_notes":{"updated":[{"id":%q,"_status":"updated","_changed":"body","body":"ours"}]}}`, note))
		next := o.pull(t, o.rep, ts)
		bodies := map[string]bool{}
		for _, r := range next.Changes["account_notes"].Updated {
			bodies[r["body"].(string)] = true
		}
		if !bodies["theirs"] || !bodies["ours"] {
			t.Errorf("both bodies must survive (server keeps its body, ours becomes a copy): %v", bodies)
		}
	})
}

// A correction (here: drop a rejected create) is carried by every pull until
// the app pulls from the number of an answer that carried it, so a lost
// answer does not lose it.
func TestPull_ResendsUntilApplied(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		ts := o.pull(t, o.rep, 0).Timestamp
		bad := uuid.NewString()
		o.push(t, o.rep, ts, fmt.Sprintf(`{"visits":{"created":[%s]}}`, visitCreate(bad, o.acc2)))
		lost := o.pull(t, o.rep, ts) // the app never applies this answer
		again := o.pull(t, o.rep, ts)
		for i, ans := range []answer{lost, again} {
			if !slices.Contains(ans.Changes["visits"].Deleted, bad) {
				t.Fatalf("pull %d from %d does not drop the rejected create: %v", i, ts, ans.Changes["visits"].Deleted)
			}
		}
		if after := o.pull(t, o.rep, again.Timestamp); slices.Contains(after.Changes["visits"].Deleted, bad) {
			t.Errorf("the correction is sent again after the app applied it")
		}
	})
}

// A pull from before a compaction is answered as a replacement sync: the
// whole scope, the app deleting what it does not hold.
func TestPull_CompactionIsReplacement(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		ts := o.pull(t, o.rep, 0).Timestamp
		note := uuid.NewString()
		o.push(t, o.rep, ts, fmt.Sprintf(`{"account_notes":{"created":[{"id":%q,"_status":"created","_changed":"","account_id":%q,"body":"gone soon"}]}}`, note, o.acc1))
		o.push(t, o.rep, ts, fmt.Sprintf(`{"account_notes":{"deleted":[%q]}}`, note))
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			n, err := store.Compact(tx, db.Now().Add(time.Hour))
			if err == nil && n == 0 {
				err = fmt.Errorf("nothing compacted")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ans := o.pull(t, o.rep, ts)
		if ans.Strategy != "replacement" || !slices.Equal(ans.ids("accounts"), []string{o.acc1}) {
			t.Errorf("after compaction: strategy %q, accounts %v", ans.Strategy, ans.ids("accounts"))
		}
		if len(ans.Changes["account_notes"].Deleted) != 0 {
			t.Errorf("a replacement lists no deletes: %v", ans.Changes["account_notes"].Deleted)
		}
	})
}
