package device

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// Cursor is the pull cursor the mirror is current to ("" before the first pull).
func (c *Client) Cursor(ctx context.Context) (string, error) {
	return getMeta(c.db.WithContext(ctx), metaCursor)
}

// Rows returns the local view of every row of a synced table, id -> row JSON.
func (c *Client) Rows(ctx context.Context, table string) (map[string]json.RawMessage, error) {
	rows, err := c.mirror(ctx, table, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(rows))
	for _, r := range rows {
		out[r.ID] = json.RawMessage(r.Row)
	}
	return out, nil
}

// RowVersions returns the server version of every row of a synced table (0 for
// a row created here and not yet acknowledged).
func (c *Client) RowVersions(ctx context.Context, table string) (map[string]int64, error) {
	rows, err := c.mirror(ctx, table, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Version
	}
	return out, nil
}

// mirror reads a table's rows in display order; filter narrows the query.
func (c *Client) mirror(ctx context.Context, table string, filter func(*gorm.DB) *gorm.DB) ([]mirrorRow, error) {
	if !domain.IsSyncedTable(table) {
		return nil, domain.Errorf(domain.CodeUnknownTable, "unknown table %q", table)
	}
	q := c.db.WithContext(ctx).Table(table).Where("row <> ''") // not the rows deleted here
	if filter != nil {
		q = filter(q)
	}
	order := "sort_key, id"
	if table == domain.TableOrders || table == domain.TableAccountNotes {
		order = "sort_key DESC, id" // newest first
	}
	var rows []mirrorRow
	if err := q.Order(order).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return rows, nil
}

func byAccount(accountID string) func(*gorm.DB) *gorm.DB {
	if accountID == "" {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB { return q.Where("account_id = ?", accountID) }
}

func byID(id string) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB { return q.Where("id = ?", id) }
}

// list decodes a table's rows into T.
func list[T any](ctx context.Context, c *Client, table string, filter func(*gorm.DB) *gorm.DB) ([]T, error) {
	rows, err := c.mirror(ctx, table, filter)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal([]byte(r.Row), &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", table, r.ID, err)
		}
	}
	return out, nil
}

// one decodes one row into T, or answers not_found.
func one[T any](ctx context.Context, c *Client, table, id string) (T, error) {
	rows, err := list[T](ctx, c, table, byID(id))
	if err != nil {
		var zero T
		return zero, err
	}
	if len(rows) == 0 {
		var zero T
		return zero, domain.Errorf(domain.CodeNotFound, "no %s row %s on this device", table, id)
	}
	return rows[0], nil
}

// Accounts lists the accounts in scope, by name.
func (c *Client) Accounts(ctx context.Context) ([]domain.Account, error) {
	return list[domain.Account](ctx, c, domain.TableAccounts, nil)
}

func (c *Client) Account(ctx context.Context, id string) (domain.Account, error) {
	return one[domain.Account](ctx, c, domain.TableAccounts, id)
}

// Visits lists an account's visits ("" for all), by planned time.
func (c *Client) Visits(ctx context.Context, accountID string) ([]domain.Visit, error) {
	return list[domain.Visit](ctx, c, domain.TableVisits, byAccount(accountID))
}

// VisitsOn lists the visits planned on the calendar day that contains day, in
// day's location (a rep's day is a local day: pass a time in the rep's zone),
// by planned time: every visit in scope, so a rep also sees the visits of the
// other reps of their territories. Cancelled and completed visits are
// included; filter on Status for what is still to do.
func (c *Client) VisitsOn(ctx context.Context, day time.Time) ([]domain.Visit, error) {
	y, m, d := day.Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, day.Location())
	to := from.AddDate(0, 0, 1) // not +24h: a day of a DST change has 23 or 25
	return list[domain.Visit](ctx, c, domain.TableVisits, func(q *gorm.DB) *gorm.DB {
		// sort_key is planned_at in UTC at a fixed width (sortableTime).
		return q.Where("sort_key >= ? AND sort_key < ?", sortableTime(from.Format(time.RFC3339Nano)),
			sortableTime(to.Format(time.RFC3339Nano)))
	})
}

// TodaysVisits lists the signed-in user's own visits planned today in the
// device's local time zone (the day of Options.Clock in time.Local), by
// planned time, whatever their status.
func (c *Client) TodaysVisits(ctx context.Context) ([]domain.Visit, error) {
	all, err := c.VisitsOn(ctx, c.opt.Clock().In(time.Local))
	if err != nil {
		return nil, err
	}
	me := c.UserID()
	own := all[:0]
	for _, v := range all {
		if v.RepID == me {
			own = append(own, v)
		}
	}
	return own, nil
}

func (c *Client) Visit(ctx context.Context, id string) (domain.Visit, error) {
	return one[domain.Visit](ctx, c, domain.TableVisits, id)
}

// Orders lists the orders in scope, most recently changed first.
func (c *Client) Orders(ctx context.Context) ([]domain.Order, error) {
	return list[domain.Order](ctx, c, domain.TableOrders, nil)
}

func (c *Client) Order(ctx context.Context, id string) (domain.Order, error) {
	return one[domain.Order](ctx, c, domain.TableOrders, id)
}

// Notes lists an account's notes ("" for all), most recently changed first.
func (c *Client) Notes(ctx context.Context, accountID string) ([]domain.AccountNote, error) {
	return list[domain.AccountNote](ctx, c, domain.TableAccountNotes, byAccount(accountID))
}

func (c *Client) Note(ctx context.Context, id string) (domain.AccountNote, error) {
	return one[domain.AccountNote](ctx, c, domain.TableAccountNotes, id)
}

// Products lists the catalogue, by name.
func (c *Client) Products(ctx context.Context) ([]domain.Product, error) {
	return list[domain.Product](ctx, c, domain.TableProducts, nil)
}

func (c *Client) Territories(ctx context.Context) ([]domain.Territory, error) {
	return list[domain.Territory](ctx, c, domain.TableTerritories, nil)
}

func (c *Client) Users(ctx context.Context) ([]domain.User, error) {
	return list[domain.User](ctx, c, domain.TableUsers, nil)
}
