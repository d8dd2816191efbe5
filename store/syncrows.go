package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// CurrentRow is a synced row as it is now: its wire JSON, its version and the
// scope keys it has now (for dependents, the keys of its account).
type CurrentRow struct {
	Version int64
	JSON    json.RawMessage
	Keys    []string
}

// FetchRows loads the current rows of table with the given ids, keyed by id. Ids
// of rows that no longer exist are absent from the result. It is the hot path of
// every pull, so it scans columns explicitly instead of through the ORM's
// reflection, and passes the ids as one array parameter on Postgres.
func FetchRows(tx *Tx, table string, ids []string) (map[string]CurrentRow, error) {
	out := make(map[string]CurrentRow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	f, ok := fetchers[table]
	if !ok {
		return nil, fmt.Errorf("fetch rows: unknown table %q", table)
	}
	var territories map[string][]string
	if table == domain.TableUsers {
		// A user row carries its territory ids: load them first so each row is
		// encoded once, complete.
		var err error
		if territories, err = userTerritories(tx, ids); err != nil {
			return nil, err
		}
	}
	where, arg := idFilter(tx, ids)
	cols := f.columns
	if f.dependent {
		// The account's keys come in the same statement, not in one more
		// round trip per table (issue 17 point 5).
		cols += ", (SELECT a.territory_id FROM accounts a WHERE a.id = " + table + ".account_id)" +
			", (SELECT a.owner_id FROM accounts a WHERE a.id = " + table + ".account_id)"
	}
	rows, err := tx.g.Raw("SELECT "+cols+" FROM "+table+" WHERE "+where, arg).Rows()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var accTerritory, accOwner *string
		var s scanner = rows
		if f.dependent {
			s = withExtra{rows, []any{&accTerritory, &accOwner}}
		}
		id, _, row, keys, err := f.scan(s)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", table, err)
		}
		if f.dependent && accTerritory != nil {
			keys = domain.AccountKeys(*accTerritory, accOwner)
		}
		if u, ok := row.(domain.User); ok {
			u.TerritoryIDs = territories[id]
			if u.TerritoryIDs == nil {
				u.TerritoryIDs = []string{}
			}
			row, keys = u, domain.UserRowKeys(id, u.TerritoryIDs)
		}
		b, err := domain.AppendJSON(nil, row)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", table, err)
		}
		out[id] = CurrentRow{Version: versionOf(row), JSON: b, Keys: keys}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", table, err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", table, err)
	}
	return out, nil
}

// withExtra scans a row's columns and then extra ones appended to its select
// list (a dependent row's account keys).
type withExtra struct {
	s     scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.s.Scan(append(dest, w.extra...)...) }

// userTerritories returns the territory ids of each of the users, sorted.
func userTerritories(tx *Tx, ids []string) (map[string][]string, error) {
	var links []userTerritoryRow
	if err := tx.g.Where("user_id IN ?", ids).Order("territory_id").Find(&links).Error; err != nil {
		return nil, fmt.Errorf("fetch users: %w", err)
	}
	out := map[string][]string{}
	for _, l := range links {
		out[l.UserID] = append(out[l.UserID], l.TerritoryID)
	}
	return out, nil
}

// idFilter matches ids: one array parameter on Postgres (a short statement
// however many ids), an IN list on SQLite.
func idFilter(tx *Tx, ids []string) (string, any) {
	if tx.dialect == Postgres {
		return "id = ANY(?::uuid[])", pgTextArray(ids)
	}
	return "id IN ?", ids
}

func versionOf(row any) int64 {
	switch r := row.(type) {
	case domain.Territory:
		return r.Version
	case domain.Product:
		return r.Version
	case domain.Account:
		return r.Version
	case domain.User:
		return r.Version
	case domain.Visit:
		return r.Version
	case domain.Order:
		return r.Version
	case domain.AccountNote:
		return r.Version
	case domain.Target:
		return r.Version
	case domain.Attachment:
		return r.Version
	}
	return 0
}

type scanner interface{ Scan(dest ...any) error }

// fetcher reads one table's rows: the columns to select and how to scan one
// row into its domain type, its account (for dependents) and its own keys.
type fetcher struct {
	columns string
	scan    func(scanner) (id, accountID string, row any, keys []string, err error)
	// dependent: the rows hang off an account (account_id) and have its keys.
	dependent bool
}

var fetchers = map[string]fetcher{
	domain.TableTerritories: {"id, name, parent_id, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r territoryRow
			err := s.Scan(&r.ID, &r.Name, &r.ParentID, &r.Version, &r.UpdatedAt)
			return r.ID, "", r.domain(), []string{domain.TerritoryRowKey(r.ID)}, err
		}, false},
	domain.TableUsers: {"id, name, role, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r userRow
			err := s.Scan(&r.ID, &r.Name, &r.Role, &r.Version, &r.UpdatedAt)
			return r.ID, "", r.record(nil).User, nil, err
		}, false},
	domain.TableProducts: {"id, sku, name, unit_price_cents, currency, active, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r productRow
			err := s.Scan(&r.ID, &r.SKU, &r.Name, &r.UnitPriceCents, &r.Currency, &r.Active, &r.Version, &r.UpdatedAt)
			return r.ID, "", r.domain(), domain.ProductKeys(r.Active), err
		}, false},
	domain.TableAccounts: {"id, name, territory_id, owner_id, class, status, address, phone, email, lat, lng, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r accountRow
			err := s.Scan(&r.ID, &r.Name, &r.TerritoryID, &r.OwnerID, &r.Class, &r.Status, &r.Address, &r.Phone,
				&r.Email, &r.Lat, &r.Lng, &r.Version, &r.UpdatedAt)
			return r.ID, "", r.domain(), domain.AccountKeys(r.TerritoryID, r.OwnerID), err
		}, false},
	domain.TableVisits: {"id, account_id, rep_id, status, planned_at, checked_in_at, checked_out_at, check_in_lat, check_in_lng, check_in_distance_m, outcome, report, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r visitRow
			err := s.Scan(&r.ID, &r.AccountID, &r.RepID, &r.Status, &r.PlannedAt, &r.CheckedInAt, &r.CheckedOutAt,
				&r.CheckInLat, &r.CheckInLng, &r.CheckInDistanceM, &r.Outcome, &r.Report, &r.Version, &r.UpdatedAt)
			return r.ID, r.AccountID, r.domain(), nil, err
		}, true},
	domain.TableOrders: {"id, number, account_id, rep_id, visit_id, status, lines, total_cents, currency, note, reason, submitted_at, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r orderRow
			err := s.Scan(&r.ID, &r.Number, &r.AccountID, &r.RepID, &r.VisitID, &r.Status, &r.Lines, &r.TotalCents,
				&r.Currency, &r.Note, &r.Reason, &r.SubmittedAt, &r.Version, &r.UpdatedAt)
			return r.ID, r.AccountID, r.domain(), nil, err
		}, true},
	domain.TableAccountNotes: {"id, account_id, author_id, body, conflict_of, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r noteRow
			err := s.Scan(&r.ID, &r.AccountID, &r.AuthorID, &r.Body, &r.ConflictOf, &r.Version, &r.UpdatedAt)
			return r.ID, r.AccountID, r.domain(), nil, err
		}, true},
	domain.TableTargets: {"id, territory_id, rep_id, period, period_start, period_end, revenue_cents, visits, new_accounts, updated_by, version, updated_at",
		func(s scanner) (string, string, any, []string, error) {
			var r targetRow
			err := s.Scan(&r.ID, &r.TerritoryID, &r.RepID, &r.Period, &r.PeriodStart, &r.PeriodEnd, &r.RevenueCents,
				&r.Visits, &r.NewAccounts, &r.UpdatedBy, &r.Version, &r.UpdatedAt)
			t := r.domain()
			return r.ID, "", t, domain.TargetKeys(t), err
		}, false},
	domain.TableAttachments: {attachmentColumns, scanAttachment, true},
}

// ---- push idempotency

type pushResultRow struct {
	UserID     string `gorm:"primaryKey"`
	DeviceID   string `gorm:"primaryKey"`
	MutationID string `gorm:"primaryKey"`
	Result     string
	CreatedAt  time.Time
}

func (pushResultRow) TableName() string { return "push_results" }

// PushResults returns the stored results of the given mutation ids of a device,
// keyed by mutation id.
func PushResults(tx *Tx, userID, deviceID string, mutationIDs []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(mutationIDs) == 0 {
		return out, nil
	}
	var rows []pushResultRow
	if err := tx.g.Where("user_id = ? AND device_id = ? AND mutation_id IN ?", userID, deviceID, mutationIDs).
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read push results: %w", err)
	}
	for _, r := range rows {
		out[r.MutationID] = json.RawMessage(r.Result)
	}
	return out, nil
}

// PushResult is the stored answer to one mutation.
type PushResult struct {
	MutationID string
	Result     []byte
}

// SavePushResults records the results of a request's mutations for replays, in
// multi-row INSERT statements built by hand: GORM's CreateInBatches reflected
// over every row, a tenth of a push's server CPU for 100 creates. A result
// already stored (a resend racing its original) is kept, as before.
func SavePushResults(tx *Tx, userID, deviceID string, results []PushResult) error {
	err := insertIgnoringConflicts(tx, "push_results (user_id, device_id, mutation_id, result, created_at)", 5, results,
		func(args []any, r PushResult) []any {
			return append(args, userID, deviceID, r.MutationID, string(r.Result), tx.now)
		})
	if err != nil {
		return fmt.Errorf("save push results: %w", err)
	}
	return nil
}

// ExistingIDs returns which of ids exist in table. Push asks once per request,
// so a batch of creates does not cost a lookup per row.
func ExistingIDs(tx *Tx, table string, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if _, ok := fetchers[table]; !ok {
		return nil, fmt.Errorf("existing ids: unknown table %q", table)
	}
	where, arg := idFilter(tx, ids)
	var found []string
	if err := tx.g.Raw("SELECT id FROM "+table+" WHERE "+where, arg).Scan(&found).Error; err != nil {
		return nil, fmt.Errorf("existing %s: %w", table, err)
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}
