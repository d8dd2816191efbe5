package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Pos is a position in the change log: (xid, seq). On SQLite xid is always 0.
type Pos struct {
	Xid uint64
	Seq int64
}

// Less orders positions as pulls deliver them.
func (p Pos) Less(q Pos) bool { return p.Xid < q.Xid || (p.Xid == q.Xid && p.Seq < q.Seq) }

// LogQuery selects a page of change-log entries.
type LogQuery struct {
	After  Pos
	Upto   *Pos     // inclusive upper bound; nil: up to what is safe to deliver
	Keys   []string // scope keys; nil with All: every key
	All    bool
	Tables []string
	// SkipOutOfScope drops out_of_scope tombstones (organisation-wide scopes never
	// lose a row, so those tombstones mean nothing to them).
	SkipOutOfScope bool
	Limit          int
	// Bound is the Postgres position bound from PullBound: only entries of
	// transactions below it are read. Zero falls back to the snapshot's xmin.
	Bound uint64
	// NaiveSeq orders by seq alone with no xid bound: the broken cursor the
	// README's "Never skipping a change" describes. Only the test that proves the xid bound matters sets it.
	NaiveSeq bool
}

type logRow struct {
	Seq      int64
	XidText  string
	Tbl      string
	RowID    string
	ScopeKey string
	Op       string
	Reason   *string
	Version  int64
}

// ReadLog returns up to q.Limit entries after q.After in delivery order. On
// Postgres only entries of transactions below q.Bound (PullBound) are returned:
// every such transaction has finished, so no entry can later appear behind the
// returned positions. tx should be a repeatable-read transaction so the rows read
// afterwards come from the same snapshot.
func ReadLog(tx *Tx, q LogQuery) ([]ChangeEntry, error) {
	if !q.All && len(q.Keys) == 0 {
		return nil, nil
	}
	var rows []logRow
	var err error
	switch {
	case q.All || q.NaiveSeq:
		err = logScan(tx, q).Scan(&rows).Error
	case tx.dialect == Postgres:
		err = readLogPerKeyPostgres(tx, q, &rows)
	default:
		err = readLogPerKeySQLite(tx, q, &rows)
	}
	if err != nil {
		return nil, fmt.Errorf("read change log: %w", err)
	}
	out := make([]ChangeEntry, len(rows))
	for i, r := range rows {
		xid, _ := strconv.ParseUint(r.XidText, 10, 64)
		out[i] = ChangeEntry{Seq: r.Seq, Xid: xid, Tbl: r.Tbl, RowID: r.RowID, ScopeKey: r.ScopeKey,
			Op: r.Op, Reason: r.Reason, Version: r.Version}
	}
	return out, nil
}

const logColumns = "seq, %s AS xid_text, tbl, row_id, scope_key, op, reason, version"

// logScan is the plain form: one range over the (xid, seq) order, filtered. It
// serves organisation-wide scopes, whose filter keeps almost every entry.
func logScan(tx *Tx, q LogQuery) *gorm.DB {
	xidCol := "0"
	if tx.dialect == Postgres {
		xidCol = "xid::text"
	}
	s := tx.g.Table("change_log").Select(fmt.Sprintf(logColumns, xidCol))
	s = logBounds(tx.dialect, s, q, "")
	if !q.All {
		s = s.Where("scope_key IN ?", q.Keys)
	}
	if q.NaiveSeq {
		s = s.Order("seq")
	} else {
		s = s.Order("xid, seq")
	}
	return s.Limit(q.Limit)
}

// logBounds adds the position bounds and filters shared by both forms; col is
// the table alias prefix ("c." or "").
func logBounds(d Dialect, s *gorm.DB, q LogQuery, col string) *gorm.DB {
	switch {
	case q.NaiveSeq:
		s = s.Where(col+"seq > ?", q.After.Seq)
	case d == Postgres:
		s = s.Where("("+col+"xid, "+col+"seq) > (?::xid8, ?)", strconv.FormatUint(q.After.Xid, 10), q.After.Seq)
		if q.Bound > 0 {
			s = s.Where(col+"xid < ?::xid8", strconv.FormatUint(q.Bound, 10))
		} else {
			s = s.Where(col + "xid < pg_snapshot_xmin(pg_current_snapshot())")
		}
		if q.Upto != nil {
			s = s.Where("("+col+"xid, "+col+"seq) <= (?::xid8, ?)", strconv.FormatUint(q.Upto.Xid, 10), q.Upto.Seq)
		}
	default:
		// xid is always 0 on SQLite; bounding and ordering by (xid, seq) anyway
		// lets the (scope_key, xid, seq) index deliver rows in order.
		s = s.Where("("+col+"xid, "+col+"seq) > (0, ?)", q.After.Seq)
		if q.Upto != nil {
			s = s.Where(col+"seq <= ?", q.Upto.Seq)
		}
	}
	if len(q.Tables) > 0 && len(q.Tables) < len(domain.SyncedTables) {
		s = s.Where(col+"tbl IN ?", q.Tables)
	}
	if q.SkipOutOfScope {
		s = s.Where("("+col+"reason IS NULL OR "+col+"reason <> ?)", ReasonOutOfScope)
	}
	return s
}

// readLogPerKeyPostgres walks the (scope_key, xid, seq) index once per key, each
// walk stopping after Limit entries, and merges the walks. A single
// "scope_key IN (...)" scan would instead collect every remaining entry of the
// scope and sort it on every page, which makes an initial sync quadratic.
func readLogPerKeyPostgres(tx *Tx, q LogQuery, rows *[]logRow) error {
	inner := logBounds(tx.dialect, tx.g.Table("change_log c").Select("c.seq, c.xid, c.tbl, c.row_id, c.scope_key, c.op, c.reason, c.version").
		Where("c.scope_key = k.key"), q, "c.").Order("c.xid, c.seq").Limit(q.Limit)
	return tx.g.Raw(`SELECT e.seq, e.xid::text AS xid_text, e.tbl, e.row_id, e.scope_key, e.op, e.reason, e.version
		FROM unnest(?::text[]) AS k(key) CROSS JOIN LATERAL (?) e
		ORDER BY e.xid, e.seq LIMIT ?`, pgTextArray(q.Keys), inner, q.Limit).Scan(rows).Error
}

// pgTextArray is a Postgres text[] literal: one parameter however many keys, so
// the statement text (and its plan) stays the same.
func pgTextArray(ss []string) string {
	n := 2
	for _, s := range ss {
		n += len(s) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		if strings.ContainsAny(s, `"\`) {
			for j := 0; j < len(s); j++ {
				if s[j] == '"' || s[j] == '\\' {
					b = append(b, '\\')
				}
				b = append(b, s[j])
			}
		} else {
			b = append(b, s...)
		}
		b = append(b, '"')
	}
	return string(append(b, '}'))
}

// readLogPerKeySQLite is the same merge as a UNION ALL of one bounded index walk
// per key.
func readLogPerKeySQLite(tx *Tx, q LogQuery, rows *[]logRow) error {
	parts := make([]string, len(q.Keys))
	args := make([]any, len(q.Keys))
	for i, k := range q.Keys {
		qk := q
		qk.Keys = []string{k}
		stmt := logScan(&Tx{g: tx.g.Session(&gorm.Session{DryRun: true, NewDB: true}), dialect: tx.dialect}, qk).Find(&[]logRow{}).Statement
		parts[i] = "SELECT * FROM (" + stmt.SQL.String() + ")"
		args[i] = stmt.Vars
	}
	var flat []any
	for _, a := range args {
		flat = append(flat, a.([]any)...)
	}
	sql := strings.Join(parts, " UNION ALL ") + " ORDER BY xid_text, seq LIMIT ?"
	return tx.g.Raw(sql, append(flat, q.Limit)...).Scan(rows).Error
}

// PullBound returns the xid below which every transaction that could write to
// this database has finished (see migration 00002). It must run before the
// pull's snapshot is taken, outside its transaction. SQLite needs no bound: 0.
func PullBound(tx *Tx) (uint64, error) {
	if tx.dialect != Postgres {
		return 0, nil
	}
	var s string
	if err := tx.g.Raw("SELECT fieldsync_pull_bound()").Scan(&s).Error; err != nil {
		return 0, fmt.Errorf("pull bound: %w", err)
	}
	b, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("pull bound %q: %w", s, err)
	}
	return b, nil
}

// SnapshotBound is PullBound for a pull whose repeatable-read transaction
// (DB.ReadTx) it opens: it must be the transaction's first statement, so
// that the snapshot it reads is the one every later statement of the pull
// sees. It saves the pull a connection of its own for the bound and a round
// trip, and it reads the backends only when a transaction was running as
// the snapshot was taken (pg_stat_activity, whose view the pull bound
// function reads and re-plans in each backend, cost the pulls of a cold
// server more than the rest of their reads together: docs/benchmarks.md,
// "The empty-pull tail").
//
// The bound is the snapshot's xmax, lowered to every xid the snapshot counts
// as running (pg_snapshot_xip) except those a backend of another database
// still holds when the backends are read, after the snapshot. So every
// transaction of this database below the bound had finished when the
// snapshot was taken, and its entries are visible in it: the guarantee of
// migration 00002, never weaker (a transaction of another database that
// finished between the snapshot and the read of the backends only holds the
// bound back, as does a prepared transaction, which PullBound ignores).
//
// It also makes the rest of the transaction plan its statements
// generically (plan_cache_mode, for this transaction only): a pull's
// statements are index walks keyed by user, scope keys and positions whose
// best plan does not depend on those values, and planning each of them
// anew for its parameters (the first five executions of a prepared
// statement in a backend, and every one after if Postgres keeps choosing
// so) was about two thirds of the database time of the empty pulls after a
// server start, spread over forty backends.
//
// settled=false says the bound was held back by such a finished transaction
// of unknown database: the caller may take a new snapshot and ask again, so
// that a device told of a change once PullBound passed it (the change
// listener) is not served a page without it. SQLite needs no bound: 0, true.
func SnapshotBound(tx *Tx) (bound uint64, settled bool, err error) {
	if tx.dialect != Postgres {
		return 0, true, nil
	}
	var rows []struct {
		Xmax  string
		Xip   *string
		Here  *bool
		Plans string
	}
	// The backends are read only when some xid was running (a one-time
	// filter: an idle database costs no scan of them); act.here is NULL for
	// an xid no backend holds any more.
	if err := tx.g.Raw(`WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
		xip AS MATERIALIZED (SELECT x FROM snap, pg_snapshot_xip(snap.s) x),
		act AS MATERIALIZED (SELECT a.backend_xid::text AS xid,
				a.datid = (SELECT oid FROM pg_database WHERE datname = current_database()) AS here
			FROM pg_stat_get_activity(NULL) a
			WHERE a.backend_xid IS NOT NULL AND EXISTS (SELECT FROM xip))
		SELECT (SELECT pg_snapshot_xmax(s)::text FROM snap) AS xmax, xip.x::text AS xip, act.here,
			set_config('plan_cache_mode', 'force_generic_plan', true) AS plans
		FROM (SELECT) one LEFT JOIN (xip LEFT JOIN act ON act.xid = (xip.x::text::numeric % 4294967296)::text) ON true`).
		Scan(&rows).Error; err != nil {
		return 0, false, fmt.Errorf("pull bound: %w", err)
	}
	if len(rows) == 0 {
		return 0, false, errors.New("pull bound: no snapshot")
	}
	return snapshotBound(rows[0].Xmax, func(yield func(xid string, here *bool) bool) {
		for _, r := range rows {
			if r.Xip != nil && !yield(*r.Xip, r.Here) {
				return
			}
		}
	})
}

// snapshotBound computes SnapshotBound's answer from the snapshot's xmax and
// its running xids, each with whether a backend of this database (true), of
// another one (false) or none (nil) held it when the backends were read.
func snapshotBound(xmax string, running iter.Seq2[string, *bool]) (uint64, bool, error) {
	bound, err := strconv.ParseUint(xmax, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("pull bound: xmax %q: %w", xmax, err)
	}
	held, unknown := bound, bound // lowest xid of this database; of none
	for s, here := range running {
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("pull bound: xid %q: %w", s, err)
		}
		switch {
		case here == nil:
			unknown = min(unknown, x)
		case *here:
			held = min(held, x)
		}
	}
	return min(held, unknown), unknown >= held, nil
}

// Pos returns the position of e.
func (e ChangeEntry) Pos() Pos { return Pos{Xid: e.Xid, Seq: e.Seq} }

// Horizon returns the compaction horizon: cursors at or before it may have missed
// a compacted tombstone and must reset.
func Horizon(tx *Tx) (Pos, error) {
	var h struct {
		Xid int64
		Seq int64
	}
	if err := tx.g.Table("sync_horizon").Where("id = 1").Take(&h).Error; err != nil {
		return Pos{}, fmt.Errorf("read sync horizon: %w", err)
	}
	return Pos{Xid: uint64(h.Xid), Seq: h.Seq}, nil
}

// Compact deletes tombstones older than before and moves the horizon past the
// newest one deleted, so cursors that could have missed one get a reset. It
// returns how many entries it removed.
func Compact(tx *Tx, before time.Time) (int64, error) {
	xidCol := "0"
	if tx.dialect == Postgres {
		xidCol = "xid::text"
	}
	var newest struct {
		XidText string
		Seq     int64
	}
	q := tx.g.Table("change_log").Select(xidCol+" AS xid_text, seq").Where("op = ? AND created_at < ?", OpDelete, before)
	if tx.dialect == Postgres {
		q = q.Order("xid DESC, seq DESC")
	} else {
		q = q.Order("seq DESC")
	}
	if err := q.Limit(1).Scan(&newest).Error; err != nil {
		return 0, fmt.Errorf("find newest tombstone: %w", err)
	}
	if newest.Seq == 0 {
		return 0, nil
	}
	res := tx.g.Where("op = ? AND created_at < ?", OpDelete, before).Delete(&ChangeEntry{})
	if res.Error != nil {
		return 0, fmt.Errorf("compact change log: %w", res.Error)
	}
	xid, _ := strconv.ParseInt(newest.XidText, 10, 64)
	NoteKeys(tx, HorizonNoteKey)
	if err := tx.g.Exec("UPDATE sync_horizon SET xid = ?, seq = ? WHERE id = 1 AND (xid < ? OR (xid = ? AND seq < ?))",
		xid, newest.Seq, xid, xid, newest.Seq).Error; err != nil {
		return 0, fmt.Errorf("move sync horizon: %w", err)
	}
	return res.RowsAffected, nil
}

// ---- scope snapshots

type scopeRow struct {
	ID          int64 `gorm:"primaryKey;autoIncrement"`
	UserID      string
	Fingerprint string
	Scope       string
	CreatedAt   time.Time
}

func (scopeRow) TableName() string { return "sync_scopes" }

type storedScope struct {
	All    bool     `json:"all,omitempty"`
	Keys   []string `json:"keys,omitempty"`
	Tables []string `json:"tables"`
}

// FindScopeID returns the id of the stored snapshot of s for userID, if any. It
// only reads, so a pull can call it inside its read-only snapshot.
func FindScopeID(tx *Tx, userID string, s domain.Scope) (int64, bool, error) {
	var ids []int64
	if err := tx.g.Model(&scopeRow{}).Where("user_id = ? AND fingerprint = ?", userID, s.Fingerprint()).
		Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, false, fmt.Errorf("find scope snapshot: %w", err)
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	return ids[0], true, nil
}

// ScopeID returns the id of the stored snapshot of s for userID, storing it first
// if it is new.
func ScopeID(tx *Tx, userID string, s domain.Scope) (int64, error) {
	fp := s.Fingerprint()
	var r scopeRow
	err := tx.g.Where("user_id = ? AND fingerprint = ?", userID, fp).Take(&r).Error
	if err == nil {
		return r.ID, nil
	}
	if err != gorm.ErrRecordNotFound {
		return 0, fmt.Errorf("find scope snapshot: %w", err)
	}
	b, _ := json.Marshal(storedScope{All: s.All, Keys: s.Keys, Tables: s.Tables}) // plain slices always marshal
	r = scopeRow{UserID: userID, Fingerprint: fp, Scope: string(b), CreatedAt: tx.now}
	if err := tx.g.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return 0, fmt.Errorf("store scope snapshot: %w", err)
	}
	if r.ID == 0 { // lost a race with a concurrent pull of the same user
		if err := tx.g.Where("user_id = ? AND fingerprint = ?", userID, fp).Take(&r).Error; err != nil {
			return 0, fmt.Errorf("find scope snapshot: %w", err)
		}
	}
	return r.ID, nil
}

// LoadScope returns the snapshot id of userID, or found=false when it does not
// exist or belongs to another user.
func LoadScope(tx *Tx, userID string, id int64) (domain.Scope, bool, error) {
	var r scopeRow
	err := tx.g.Where("id = ? AND user_id = ?", id, userID).Take(&r).Error
	if err == gorm.ErrRecordNotFound {
		return domain.Scope{}, false, nil
	}
	if err != nil {
		return domain.Scope{}, false, fmt.Errorf("load scope snapshot: %w", err)
	}
	var s storedScope
	if err := json.Unmarshal([]byte(r.Scope), &s); err != nil {
		return domain.Scope{}, false, nil
	}
	return domain.Scope{All: s.All, Keys: s.Keys, Tables: s.Tables}, true, nil
}

// OldestWriteAge is how long the oldest transaction holding an xid in this
// database has been open: on Postgres it holds back every pull's bound, so
// operators should see it. Zero on SQLite, or with no such transaction.
func OldestWriteAge(tx *Tx) (float64, error) {
	if tx.dialect != Postgres {
		return 0, nil
	}
	var secs float64
	err := tx.g.Raw(`SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(xact_start)), 0)::float8
		FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL`).Scan(&secs).Error
	if err != nil {
		return 0, fmt.Errorf("oldest write transaction: %w", err)
	}
	return secs, nil
}
