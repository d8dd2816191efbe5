package acceptance

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// The oracle answers "which rows, at which version and with which fields, may
// this user hold?" from the tables alone, with its own SQL and the rules as the
// contract states them (docs/protocol.md §2 and §7, docs/api.md "Pull"). It uses
// none of the code it checks: not the store's row readers, not the engine's
// scope, not domain's scope keys. Where it and the server disagree, one of them
// misreads the contract, and the test says so.

// contractFields are the fields of each synced table (docs/protocol.md §7).
var contractFields = map[string][]string{
	"territories":   {"id", "name", "parent_id", "version", "updated_at"},
	"users":         {"id", "name", "role", "territory_ids", "version", "updated_at"},
	"products":      {"id", "sku", "name", "unit_price_cents", "currency", "active", "version", "updated_at"},
	"accounts":      {"id", "name", "territory_id", "owner_id", "class", "status", "address", "phone", "email", "lat", "lng", "version", "updated_at"},
	"visits":        {"id", "account_id", "rep_id", "status", "planned_at", "checked_in_at", "checked_out_at", "check_in_lat", "check_in_lng", "check_in_distance_m", "outcome", "report", "version", "updated_at"},
	"orders":        {"id", "number", "account_id", "rep_id", "visit_id", "status", "lines", "total_cents", "currency", "note", "reason", "submitted_at", "version", "updated_at"},
	"account_notes": {"id", "account_id", "author_id", "body", "conflict_of", "version", "updated_at"},
	"targets": {"id", "territory_id", "rep_id", "period", "period_start", "period_end", "revenue_cents", "visits",
		"new_accounts", "updated_by", "version", "updated_at"},
	"attachments": {"id", "parent_table", "parent_id", "account_id", "kind", "content_type", "size", "sha256",
		"captured_at", "captured_lat", "captured_lng", "caption", "uploader_id", "status", "version", "updated_at"},
}

// oracleScope is what the contract's role table gives one user.
type oracleScope struct {
	all         bool            // director, ops, coordinator without territories
	tables      map[string]bool // tables the role receives
	territories map[string]bool // territory rows visible: visible ∪ their ancestors
	visible     map[string]bool // territories whose accounts and users are visible
	userVisible map[string]bool // users with a territory in visible
	owner       string          // a rep: accounts owned are visible too
	self        string
}

// expectedScope computes user's rows from the tables: the independent twin of
// serverScope's old implementation over store.FetchRows and Engine.Scope.
func (e *env) expectedScope(user string) snapshot {
	e.t.Helper()
	db, err := e.db.Gorm.DB()
	must(e.t, err)
	ctx := context.Background()
	sc := e.oracleScopeOf(ctx, db, user)
	accounts := map[string]bool{} // visible account ids
	members := userTerritories(e.t, ctx, db)
	out := snapshot{}
	for _, table := range domain.SyncedTables {
		out[table] = map[string]versioned{}
		if !sc.tables[table] {
			continue
		}
		for _, row := range queryRows(e.t, ctx, db, table) {
			id := row["id"].(string)
			if !sc.all && !sc.sees(table, row, accounts) {
				continue
			}
			if table == "products" && !sc.all && !truthy(row["active"]) {
				continue // reps and managers: active products only
			}
			if table == "accounts" {
				accounts[id] = true
			}
			if table == "users" { // a list, never null: [] without territories
				row["territory_ids"] = append([]string{}, members[id]...)
			}
			if table == "products" {
				row["active"] = truthy(row["active"])
			}
			if table == "orders" {
				var lines any
				must(e.t, json.Unmarshal([]byte(asString(row["lines"])), &lines))
				row["lines"] = lines
			}
			v := row["version"].(int64)
			b, err := json.Marshal(pick(row, contractFields[table]))
			must(e.t, err)
			out[table][id] = versioned{Version: v, Row: canonical(e.t, b)}
		}
	}
	return out
}

// sees applies the key-free scope rule to one row. Tables are read in
// domain.SyncedTables order, accounts before their visits, orders and notes.
func (s oracleScope) sees(table string, row map[string]any, accounts map[string]bool) bool {
	switch table {
	case "territories":
		return s.territories[row["id"].(string)]
	case "users":
		return row["id"] == s.self || s.userVisible[row["id"].(string)]
	case "products":
		return true
	case "accounts":
		return s.visible[asString(row["territory_id"])] || (s.owner != "" && asString(row["owner_id"]) == s.owner)
	case "targets": // a rep's own target; a territory's, where its accounts are seen
		if rep := asString(row["rep_id"]); rep != "" {
			return rep == s.self
		}
		return s.visible[asString(row["territory_id"])]
	default: // visits, orders, account_notes, attachments: those of visible accounts
		return accounts[asString(row["account_id"])]
	}
}

func (e *env) oracleScopeOf(ctx context.Context, db *sql.DB, user string) oracleScope {
	e.t.Helper()
	var role string
	must(e.t, db.QueryRowContext(ctx, fmt.Sprintf(`SELECT role FROM users WHERE id = '%s'`, user)).Scan(&role))
	members := userTerritories(e.t, ctx, db)
	assigned := members[user]
	s := oracleScope{self: user, tables: map[string]bool{}, territories: map[string]bool{}, visible: map[string]bool{},
		userVisible: map[string]bool{}}
	for _, t := range domain.SyncedTables {
		s.tables[t] = true
	}
	switch role {
	case "director", "ops":
		s.all = true
		return s
	case "coordinator":
		s.tables = map[string]bool{"territories": true, "users": true, "products": true, "accounts": true, "orders": true}
		if len(assigned) == 0 {
			s.all = true
			return s
		}
	case "rep":
		s.owner = user
	}
	parent := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT id, parent_id FROM territories`)
	must(e.t, err)
	for rows.Next() {
		var id string
		var p sql.NullString
		must(e.t, rows.Scan(&id, &p))
		parent[id] = p.String
	}
	must(e.t, rows.Err())
	rows.Close()
	for _, t := range assigned {
		s.visible[t] = true
	}
	if role == "manager" || role == "coordinator" { // the whole subtree below
		for changed := true; changed; {
			changed = false
			for id, p := range parent {
				if p != "" && s.visible[p] && !s.visible[id] {
					s.visible[id], changed = true, true
				}
			}
		}
	}
	for t := range s.visible {
		for id := t; id != ""; id = parent[id] {
			s.territories[id] = true
		}
	}
	for u, ts := range members {
		for _, t := range ts {
			if s.visible[t] {
				s.userVisible[u] = true
			}
		}
	}
	return s
}

// userTerritories maps user id -> sorted territory ids.
func userTerritories(t *testing.T, ctx context.Context, db *sql.DB) map[string][]string {
	out := map[string][]string{}
	rows, err := db.QueryContext(ctx, `SELECT user_id, territory_id FROM user_territories ORDER BY user_id, territory_id`)
	must(t, err)
	defer rows.Close()
	for rows.Next() {
		var u, tr string
		must(t, rows.Scan(&u, &tr))
		out[u] = append(out[u], tr)
	}
	must(t, rows.Err())
	return out
}

// queryRows reads a whole table into maps, column -> driver value.
func queryRows(t *testing.T, ctx context.Context, db *sql.DB, table string) []map[string]any {
	cols := slices.DeleteFunc(slices.Clone(contractFields[table]), func(c string) bool { return c == "territory_ids" })
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table)
	must(t, err)
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		m := map[string]any{}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	must(t, rows.Err())
	return out
}

func pick(row map[string]any, fields []string) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		out[f] = row[f]
	}
	return out
}

func asString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// truthy reads a boolean column: bool on Postgres, 0/1 on SQLite.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case int64:
		return v != 0
	}
	return false
}

// normalized rewrites every string that is a timestamp, in any of the forms the
// drivers and the API write, as RFC 3339 in UTC, and sorts territory_ids, so
// rows from the tables and rows from the API compare as values.
func normalized(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalized(x, k)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = normalized(x, "")
		}
		if key == "territory_ids" {
			slices.SortFunc(v, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		}
		return v
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if ts, err := time.Parse(layout, v); err == nil && len(v) >= 19 {
				return ts.UTC().Format(time.RFC3339Nano)
			}
		}
	}
	return v
}
