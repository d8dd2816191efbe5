package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// TestPush_NoWriteLost interleaves, at random, offline edits from two devices
// of one rep (pushed with whatever base_version each device last saw, resent
// now and then as after a lost response), the order desk's transitions, and
// ops moving an account out of the rep's territory and back. Afterwards every
// attempted write must be in the data, in a merged row or in a conflict record
// (docs/protocol.md §4.2), and no order exists twice.
func TestPush_NoWriteLost(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			testdb.Dialects(t, func(t *testing.T, db *store.DB) {
				w := newWorld(t, db, seed)
				for step := range 200 {
					w.step(step)
				}
				w.check()
			})
		})
	}
}

// attempt is one pushed mutation and what the server answered.
type attempt struct {
	step   int
	m      wire.Mutation
	fields map[string]json.RawMessage // the patch, for upserts
	res    wire.MutationResult
}

// device is what one device of the rep last saw: row id -> table and version.
type device struct {
	actor domain.Caller
	known map[string]knownRow
	sent  []wire.Mutation
	first map[string]wire.MutationResult // mutation id -> first answer
}

type knownRow struct {
	table   string
	version int64
}

type world struct {
	t        *testing.T
	o        *org
	rnd      *rand.Rand
	desk     *backoffice.OrderDesk
	coord    domain.Caller
	devices  [2]*device
	attempts []attempt
	created  map[string]string // row id -> table, for creates applied
	moved    bool              // acc1b is in t2, out of the rep's scope
}

func newWorld(t *testing.T, db *store.DB, seed uint64) *world {
	o := newOrg(t, db)
	w := &world{t: t, o: o, rnd: rand.New(rand.NewPCG(seed, 0x5eed)), desk: backoffice.NewOrderDesk(db),
		coord: domain.Caller{UserID: uuid.NewString(), Role: domain.RoleCoordinator}, created: map[string]string{}}
	o.write(t, func(tx *store.Tx, now time.Time) error {
		_, err := store.CreateUser(tx, store.UserRecord{Email: w.coord.UserID + "@x.io", PasswordHash: "x",
			User: domain.User{ID: w.coord.UserID, Name: "Desk", Role: domain.RoleCoordinator}})
		return err
	})
	for i := range w.devices {
		w.devices[i] = &device{actor: domain.Caller{UserID: o.rep1, Role: domain.RoleRep, DeviceID: fmt.Sprintf("device-%d", i)},
			known: map[string]knownRow{}, first: map[string]wire.MutationResult{}}
	}
	return w
}

func (w *world) step(step int) {
	d := w.devices[w.rnd.IntN(2)]
	switch r := w.rnd.IntN(100); {
	case r < 10:
		w.sync(d)
	case r < 22:
		w.create(step, d)
	case r < 80:
		w.edit(step, d)
	case r < 85:
		w.replay(d)
	case r < 95:
		w.transition()
	default:
		w.reassign()
	}
}

// sync refreshes what a device knows from the server's rows of the rep's
// accounts (a pull, without the paging the pull tests cover).
func (w *world) sync(d *device) {
	d.known = map[string]knownRow{}
	for _, table := range []string{domain.TableVisits, domain.TableOrders, domain.TableAccountNotes} {
		var rows []struct {
			ID      string
			Version int64
		}
		q := w.o.db.Gorm.Table(table).Select("id, version").Where("account_id IN ?", w.repAccounts())
		if table == domain.TableAccountNotes {
			// Forks of a note both sides rewrote are left alone, so that the
			// check finds each device body the merge forked.
			q = q.Where("conflict_of IS NULL")
		} else {
			q = q.Where("rep_id = ?", w.o.rep1)
		}
		if err := q.Scan(&rows).Error; err != nil {
			w.t.Fatal(err)
		}
		for _, r := range rows {
			d.known[r.ID] = knownRow{table: table, version: r.Version}
		}
	}
}

func (w *world) repAccounts() []string {
	if w.moved {
		return []string{w.o.acc1}
	}
	return []string{w.o.acc1, w.o.acc1b}
}

func (w *world) account() string {
	if w.rnd.IntN(2) == 0 {
		return w.o.acc1
	}
	return w.o.acc1b // possibly moved away: a conflict, not a rejection
}

func (w *world) at(step, minutes int) string {
	return time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC).Add(time.Duration(step*60+minutes) * time.Minute).Format(time.RFC3339)
}

func (w *world) lines(q int) []map[string]any {
	return []map[string]any{{"product_id": w.o.product, "quantity": q}}
}

// newID draws row ids from the seeded source: edits pick rows in id order, so
// a seed replays the same run.
func (w *world) newID() string {
	var b uuid.UUID
	for i := range b {
		b[i] = byte(w.rnd.Uint32())
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return b.String()
}

func (w *world) create(step int, d *device) {
	id := w.newID()
	var m wire.Mutation
	switch w.rnd.IntN(3) {
	case 0:
		m = mut("visits", "upsert", id, 0, map[string]any{"account_id": w.account(), "planned_at": w.at(step, 0)})
	case 1:
		m = mut("orders", "upsert", id, 0, map[string]any{"account_id": w.account(), "lines": w.lines(1 + w.rnd.IntN(5))})
	default:
		m = mut("account_notes", "upsert", id, 0, map[string]any{"account_id": w.account(), "body": fmt.Sprintf("note %d", step)})
	}
	if res := w.push(step, d, m); res.Status == wire.StatusApplied {
		d.known[id] = knownRow{table: m.Table, version: res.Version}
		w.created[id] = m.Table
	}
}

// edit changes (or now and then deletes) a row the device knows, from the
// version it knows.
func (w *world) edit(step int, d *device) {
	ids := make([]string, 0, len(d.known))
	for id := range d.known {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return
	}
	slices.Sort(ids)
	id := ids[w.rnd.IntN(len(ids))]
	k := d.known[id]
	var row map[string]any
	switch k.table {
	case domain.TableVisits:
		row = w.visitEdit(step)
	case domain.TableOrders:
		row = []map[string]any{{"note": fmt.Sprintf("note %d", step)}, {"lines": w.lines(1 + w.rnd.IntN(9))},
			{"status": "submitted"}, {"status": "cancelled"}}[w.rnd.IntN(4)]
	default:
		row = map[string]any{"body": fmt.Sprintf("body %d", step)}
	}
	m := mut(k.table, "upsert", id, k.version, row)
	del := w.rnd.IntN(12) == 0
	if del {
		m = mut(k.table, "delete", id, k.version, nil)
	}
	res := w.push(step, d, m)
	switch {
	case res.Status == wire.StatusApplied && del:
		delete(d.known, id)
	case res.Status == wire.StatusApplied || res.Status == wire.StatusMerged:
		d.known[id] = knownRow{table: k.table, version: res.Version}
	}
}

func (w *world) visitEdit(step int) map[string]any {
	switch w.rnd.IntN(6) {
	case 0:
		return map[string]any{"report": fmt.Sprintf("report %d", step)}
	case 1:
		return map[string]any{"outcome": fmt.Sprintf("o%d", step)}
	case 2:
		return map[string]any{"status": "checked_in", "checked_in_at": w.at(step, 5)}
	case 3:
		return map[string]any{"status": "completed", "checked_in_at": w.at(step, 5), "checked_out_at": w.at(step, 40),
			"report": fmt.Sprintf("visit report %d", step)}
	case 4:
		return map[string]any{"status": "cancelled"}
	}
	return map[string]any{"planned_at": w.at(step, 30)}
}

func (w *world) push(step int, d *device, m wire.Mutation) wire.MutationResult {
	resp, err := w.o.eng.Push(context.Background(), d.actor, wire.PushRequest{Mutations: []wire.Mutation{m}})
	if err != nil {
		w.t.Fatalf("step %d: push: %v", step, err)
	}
	res := resp.Results[0]
	a := attempt{step: step, m: m, res: res}
	if m.Op == store.OpUpsert {
		if err := json.Unmarshal(m.Row, &a.fields); err != nil {
			w.t.Fatal(err)
		}
	}
	w.attempts = append(w.attempts, a)
	d.sent = append(d.sent, m)
	d.first[m.MutationID] = res
	return res
}

// replay resends a mutation the device already sent (a lost response): the
// answer is the first one and nothing changes.
func (w *world) replay(d *device) {
	if len(d.sent) == 0 {
		return
	}
	m := d.sent[w.rnd.IntN(len(d.sent))]
	resp, err := w.o.eng.Push(context.Background(), d.actor, wire.PushRequest{Mutations: []wire.Mutation{m}})
	if err != nil {
		w.t.Fatalf("replay: %v", err)
	}
	got, _ := json.Marshal(resp.Results[0])
	want, _ := json.Marshal(d.first[m.MutationID])
	if string(got) != string(want) {
		w.t.Errorf("replay of %s answered %s, first %s", m.MutationID, got, want)
	}
}

// transition moves a random order on the desk, sometimes from a stale version.
func (w *world) transition() {
	var ids []string
	if err := w.o.db.Gorm.Table("orders").Order("id").Pluck("id", &ids).Error; err != nil {
		w.t.Fatal(err)
	}
	if len(ids) == 0 {
		return
	}
	cur, _, err := store.GetOrder(w.o.db.Autocommit(context.Background()), ids[w.rnd.IntN(len(ids))], false)
	if err != nil {
		w.t.Fatal(err)
	}
	to := []string{"confirmed", "shipped", "delivered", "cancelled", "rejected"}[w.rnd.IntN(5)]
	in := backoffice.TransitionInput{To: to, ExpectedVersion: &cur.Version}
	if w.rnd.IntN(5) == 0 {
		stale := cur.Version - 1
		in.ExpectedVersion = &stale
	}
	if to == "rejected" {
		reason := "no stock"
		in.Reason = &reason
	}
	_, err = w.desk.Transition(context.Background(), w.coord, cur.ID, in)
	switch domain.ErrorCode(err) {
	case domain.CodeVersionConflict, domain.CodeIllegalTransition, domain.CodeValidation:
	default:
		if err != nil {
			w.t.Fatalf("desk transition %s -> %s: %v", cur.Status, to, err)
		}
	}
}

// reassign has ops move acc1b between the rep's territory and another.
func (w *world) reassign() {
	w.o.write(w.t, func(tx *store.Tx, now time.Time) error {
		old, fv, err := store.GetAccount(tx, w.o.acc1b, true)
		if err != nil {
			return err
		}
		next := old
		next.TerritoryID = w.o.t1
		if !w.moved {
			next.TerritoryID = w.o.t2
		}
		_, err = store.UpdateAccount(tx, old, fv, next)
		return err
	})
	w.moved = !w.moved
}

// check verifies the outcome of every attempt and that no order exists twice.
func (w *world) check() {
	counts := map[string]int{}
	for _, a := range w.attempts {
		counts[a.m.Table+" "+a.res.Status+" "+a.res.Reason]++
		switch a.res.Status {
		case wire.StatusApplied, wire.StatusMerged:
			w.checkWritten(a)
		case wire.StatusConflict:
			w.checkConflict(a)
		case wire.StatusRejected:
			// Only ops the rules refuse: a move against a state machine, or a
			// write whose resulting row would be invalid. Never an internal error.
			if c := domain.Code(a.res.Error.Code); c != domain.CodeIllegalTransition && c != domain.CodeValidation {
				w.t.Errorf("step %d: %s %s %s rejected with %s: %s", a.step, a.m.Table, a.m.Op, a.m.Row, c, a.res.Error.Message)
			}
		default:
			w.t.Errorf("step %d: unknown status %q", a.step, a.res.Status)
		}
	}
	w.checkOrders()
	w.t.Logf("outcomes: %v", counts)
}

// checkWritten: each field value the device wrote is in the row now, or a
// later write changed that field (its field version is past the version this
// write produced), or a conflict record of the row holds it (a merge kept the
// other side's value), or, for a note body, the merge forked it into a new
// note. A written row that is gone was deleted later.
func (w *world) checkWritten(a attempt) {
	cur, fv, found := w.current(a.m.Table, a.m.ID)
	if a.m.Op == store.OpDelete {
		if found && a.res.Status == wire.StatusApplied {
			w.t.Errorf("step %d: delete of %s %s applied, but the row exists", a.step, a.m.Table, a.m.ID)
		}
		return
	}
	if !found {
		if !w.deletedLater(a.m.Table, a.m.ID) {
			w.t.Errorf("step %d: %s %s written (%s) but gone without a delete", a.step, a.m.Table, a.m.ID, a.res.Status)
		}
		return
	}
	for field, value := range a.fields {
		switch {
		case field == "account_id": // fixed at create
		case sameField(field, cur[field], value):
		case fv[field] > a.res.Version:
		case w.inConflictRecord(a.m.ID, field, value):
		case a.m.Table == domain.TableAccountNotes && field == "body" && w.forked(a.m.ID, value):
		default:
			w.t.Errorf("step %d: %s %s %s=%s (%s at v%d) lost: row has %s (field v%d)",
				a.step, a.m.Table, a.m.ID, field, value, a.res.Status, a.res.Version, cur[field], fv[field])
		}
	}
}

// checkConflict: the conflict record is open and holds the attempted change.
func (w *world) checkConflict(a attempt) {
	var c store.ConflictRecord
	if err := w.o.db.Gorm.Where("id = ?", a.res.ConflictID).Take(&c).Error; err != nil {
		w.t.Errorf("step %d: conflict %q not found: %v", a.step, a.res.ConflictID, err)
		return
	}
	if c.Status != store.ConflictOpen || c.RowID != a.m.ID || c.Tbl != a.m.Table {
		w.t.Errorf("step %d: conflict record %+v", a.step, c)
	}
	if a.m.Op == store.OpDelete {
		if !strings.Contains(c.DeviceRow, `"op":"delete"`) {
			w.t.Errorf("step %d: conflict of a delete holds %s", a.step, c.DeviceRow)
		}
		return
	}
	dev := deviceFields(c.DeviceRow)
	for field, value := range a.fields {
		if !sameField(field, dev[field], value) {
			w.t.Errorf("step %d: conflict %q on %s %s does not hold %s=%s: %s", a.step, c.Reason, a.m.Table, a.m.ID, field, value, c.DeviceRow)
		}
	}
}

func (w *world) checkOrders() {
	var dup []string
	if err := w.o.db.Gorm.Raw(`SELECT number FROM orders WHERE number IS NOT NULL GROUP BY number HAVING COUNT(*) > 1`).
		Scan(&dup).Error; err != nil {
		w.t.Fatal(err)
	}
	if len(dup) > 0 {
		w.t.Errorf("order numbers used twice: %v", dup)
	}
	var ids []string
	if err := w.o.db.Gorm.Table("orders").Pluck("id", &ids).Error; err != nil {
		w.t.Fatal(err)
	}
	for _, id := range ids {
		if w.created[id] != domain.TableOrders {
			w.t.Errorf("order %s exists without an applied create", id)
		}
	}
	var submitted, numbered int64
	if err := w.o.db.Gorm.Table("orders").Where("submitted_at IS NOT NULL").Count(&submitted).Error; err != nil {
		w.t.Fatal(err)
	}
	if err := w.o.db.Gorm.Table("orders").Where("number IS NOT NULL").Count(&numbered).Error; err != nil {
		w.t.Fatal(err)
	}
	if submitted != numbered {
		w.t.Errorf("%d submitted orders, %d numbered", submitted, numbered)
	}
}

// current returns the row's fields by JSON name and its field versions.
func (w *world) current(table, id string) (map[string]json.RawMessage, domain.FieldVersions, bool) {
	var row any
	var fv domain.FieldVersions
	var err error
	switch table {
	case domain.TableVisits:
		row, fv, err = store.GetVisit(w.o.db.Autocommit(context.Background()), id, false)
	case domain.TableOrders:
		row, fv, err = store.GetOrder(w.o.db.Autocommit(context.Background()), id, false)
	default:
		row, fv, err = store.GetNote(w.o.db.Autocommit(context.Background()), id, false)
	}
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return nil, nil, false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	b, _ := json.Marshal(row)
	out := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &out)
	return out, fv, true
}

func (w *world) deletedLater(table, id string) bool {
	var n int64
	if err := w.o.db.Gorm.Model(&store.ChangeEntry{}).Where("tbl = ? AND row_id = ? AND op = ? AND reason = ?",
		table, id, store.OpDelete, store.ReasonDeleted).Count(&n).Error; err != nil {
		w.t.Fatal(err)
	}
	return n > 0
}

// inConflictRecord: some conflict record of the row holds field=value on the
// device's side or the server's.
func (w *world) inConflictRecord(rowID, field string, value json.RawMessage) bool {
	var cs []store.ConflictRecord
	if err := w.o.db.Gorm.Where("row_id = ?", rowID).Find(&cs).Error; err != nil {
		w.t.Fatal(err)
	}
	for _, c := range cs {
		if sameField(field, deviceFields(c.DeviceRow)[field], value) {
			return true
		}
		if c.ServerRow != nil && sameField(field, deviceFields(*c.ServerRow)[field], value) {
			return true
		}
	}
	return false
}

// forked: a note both sides rewrote keeps the device's body as a new note.
func (w *world) forked(noteID string, body json.RawMessage) bool {
	var bodies []string
	if err := w.o.db.Gorm.Table("account_notes").Where("conflict_of = ?", noteID).Pluck("body", &bodies).Error; err != nil {
		w.t.Fatal(err)
	}
	for _, b := range bodies {
		if sameField("body", json.RawMessage(fmt.Sprintf("%q", b)), body) {
			return true
		}
	}
	return false
}

// deviceFields reads a conflict's row: a row, or a stored mutation's patch.
func deviceFields(s string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	_ = json.Unmarshal([]byte(s), &out)
	if _, ok := out["mutation_id"]; ok {
		row := map[string]json.RawMessage{}
		_ = json.Unmarshal(out["row"], &row)
		return row
	}
	return out
}

// sameField compares a stored value with a sent one as the field means it:
// times as instants, lines by product and quantity (prices are the server's).
func sameField(field string, stored, sent json.RawMessage) bool {
	if stored == nil {
		return false
	}
	switch {
	case strings.HasSuffix(field, "_at"):
		var a, b *time.Time
		if json.Unmarshal(stored, &a) != nil || json.Unmarshal(sent, &b) != nil {
			return false
		}
		return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
	case field == "lines":
		type line struct {
			ProductID string `json:"product_id"`
			Quantity  int64  `json:"quantity"`
		}
		var a, b []line
		if json.Unmarshal(stored, &a) != nil || json.Unmarshal(sent, &b) != nil {
			return false
		}
		return slices.Equal(a, b)
	}
	var a, b any
	if json.Unmarshal(stored, &a) != nil || json.Unmarshal(sent, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}
