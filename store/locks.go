package store

import (
	"fmt"
	"slices"

	"github.com/fieldsync/fieldsync/domain"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Lock order. Every transaction that writes synced rows takes its locks in this
// order, so two of them can wait for each other only one way and never deadlock:
//
//  1. the device's push lock (LockDevicePush), pushes only;
//  2. accounts, in id order, each at the strongest strength the transaction
//     will need (LockAccounts): NO KEY UPDATE for an account it changes, SHARE
//     for one whose dependents it writes (see accountLock);
//  3. the synced rows it changes (visits, orders, notes), FOR UPDATE.
//
// A transaction that learns an account only from a row (the order desk, a
// conflict resolution) reads the row without a lock first, locks the account,
// then locks the row: a row keeps its account for life.
//
// Order numbers come from a sequence on Postgres (NextOrderNumber), which
// takes no row lock, so submits do not queue on one counter row.

// LockDevicePush serialises the pushes of one device: it waits until no other
// transaction holds the lock of (userID, deviceID) and holds it until the
// caller's transaction ends. Taken first in a push transaction (and again by
// every retry of it, which is a new transaction), it makes an overlapping
// resend of a push read the results the first attempt stored instead of
// applying the mutations a second time. On SQLite every write transaction
// already holds the database's single write lock from its start.
func LockDevicePush(tx *Tx, userID, deviceID string) error {
	if tx.dialect != Postgres {
		return nil
	}
	// A 64-bit hash: two devices sharing a key only wait for each other.
	if err := tx.g.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
		"fieldsync.push\x1f"+userID+"\x1f"+deviceID).Error; err != nil {
		return fmt.Errorf("lock pushes of device %s: %w", deviceID, err)
	}
	return nil
}

// AccountLock is the strength at which a transaction locks an account.
type AccountLock int

const (
	// LockShare: the transaction writes rows scoped by the account (accountLock).
	LockShare AccountLock = iota + 1
	// LockWrite: the transaction updates the account row itself.
	LockWrite
)

// LockAccounts locks the accounts in want at their strengths, in id order, and
// returns those that exist keyed by id. Consecutive ids of equal strength share
// one statement; the locks of each are taken in id order because the row
// locking of SELECT … ORDER BY … FOR … happens after the sort.
func LockAccounts(tx *Tx, want map[string]AccountLock) (map[string]domain.Account, error) {
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make(map[string]domain.Account, len(ids))
	for start := 0; start < len(ids); {
		end := start + 1
		for end < len(ids) && want[ids[end]] == want[ids[start]] {
			end++
		}
		// Scanned by hand, as pulls scan accounts: GORM's Find reflected over
		// every column of every row, a sixth of a push's allocations.
		f := fetchers[domain.TableAccounts]
		rows, err := accountLockAt(tx, want[ids[start]]).Table("accounts").Select(f.columns).
			Where("id IN ?", ids[start:end]).Order("id").Rows()
		if err != nil {
			return nil, fmt.Errorf("lock accounts: %w", err)
		}
		for rows.Next() {
			id, _, row, _, err := f.scan(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("lock accounts: %w", err)
			}
			out[id] = row.(domain.Account)
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("lock accounts: %w", err)
		}
		start = end
	}
	return out, nil
}

func accountLockAt(tx *Tx, l AccountLock) *gorm.DB {
	return accountLock(tx, l == LockWrite)
}

// noKeyUpdate is the lock an UPDATE that leaves the key alone takes anyway:
// taken up front it does not conflict with the key-share locks of foreign key
// checks, so a transaction that later inserts a visit of the account does not
// have to wait for it.
var noKeyUpdate = clause.Locking{Strength: "NO KEY UPDATE"}

// RowRef is what a push needs to know of an existing row before it takes any
// lock: the account that scopes it and, for a visit, whether it is completed
// (changing a completed visit rewrites its account's report row).
type RowRef struct {
	AccountID string
	Completed bool
}

// RowRefs returns, for those of ids that exist in table, their RowRef, read
// without a lock: an account of a row never changes, so the caller can lock
// the account first and the row after it. An account is its own account.
func RowRefs(tx *Tx, table string, ids []string) (map[string]RowRef, error) {
	out := make(map[string]RowRef, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var cols string
	switch table {
	case "visits":
		cols = "id, account_id, status"
	case "orders", "account_notes":
		cols = "id, account_id, ''"
	case "accounts":
		cols = "id, id, ''"
	default:
		return nil, fmt.Errorf("row refs: unsupported table %q", table)
	}
	where, arg := idFilter(tx, ids)
	rows, err := tx.g.Raw("SELECT "+cols+" FROM "+table+" WHERE "+where, arg).Rows()
	if err != nil {
		return nil, fmt.Errorf("read %s refs: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, acc, status string
		if err := rows.Scan(&id, &acc, &status); err != nil {
			return nil, fmt.Errorf("read %s refs: %w", table, err)
		}
		out[id] = RowRef{AccountID: acc, Completed: status == "completed"}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s refs: %w", table, err)
	}
	return out, nil
}

// LockRows locks the rows of table with the given ids FOR UPDATE, in id order
// (Postgres; SQLite's write lock covers them).
func LockRows(tx *Tx, table string, ids []string) error {
	if len(ids) == 0 || tx.dialect != Postgres {
		return nil
	}
	switch table {
	case "visits", "orders", "account_notes":
	default:
		return fmt.Errorf("lock rows: unsupported table %q", table)
	}
	where, arg := idFilter(tx, ids)
	var got []string
	if err := tx.g.Raw("SELECT id FROM "+table+" WHERE "+where+" ORDER BY id FOR UPDATE", arg).Scan(&got).Error; err != nil {
		return fmt.Errorf("lock %s: %w", table, err)
	}
	return nil
}

// LockReportAccounts locks the report rows (migration 00004) of the given
// accounts in account order. A visit completed, or a completed visit changed,
// rewrites its account's report row from a trigger, at the time of the write:
// a push completing visits at two accounts in one order and another push in the
// other order deadlocked on these rows. Taken up front they are taken in one
// order. SQLite has one writer and nothing to order.
func LockReportAccounts(tx *Tx, accountIDs []string) error {
	if len(accountIDs) == 0 || tx.dialect != Postgres {
		return nil
	}
	var got []string
	if err := tx.g.Raw("SELECT account_id FROM report_accounts WHERE account_id = ANY(?::uuid[]) ORDER BY account_id FOR UPDATE",
		pgTextArray(accountIDs)).Scan(&got).Error; err != nil {
		return fmt.Errorf("lock report rows: %w", err)
	}
	return nil
}

// LockAccountOf share-locks the account of an existing row of table (visits,
// orders, account_notes) before the caller locks the row itself, as push does
// (see the lock order above). A missing row or account is no error here: the
// caller's own lookups report it.
func LockAccountOf(tx *Tx, table, id string) error {
	if !domain.IsUUID(id) {
		return nil
	}
	refs, err := RowRefs(tx, table, []string{id})
	if err != nil {
		return err
	}
	ref, ok := refs[id]
	if !ok {
		return nil
	}
	_, err = LockAccounts(tx, map[string]AccountLock{ref.AccountID: LockShare})
	return err
}
