package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

// The HTTP fuzz targets send arbitrary path ids, query strings, bodies and
// headers, as every role and with missing or bad tokens, through the whole
// Fiber app on each database. Whatever the input, the server must answer
// below 500, the exchange must match /openapi.json, and the only rows that
// change are rows the caller's role may write (docs/protocol.md §2). Their seed
// corpora run as plain tests; `make fuzz` explores further.

// fuzzWho are the callers a fuzz input picks from (by index).
var fuzzWho = []string{"rep1", "rep2", "coord1", "mgr", "director", "ops", "none", "bogus"}

// fuzzTables are the tables whose rows a caller could write; each is
// snapshotted before and after every request.
var fuzzTables = []string{"territories", "users", "user_territories", "products", "accounts", "visits",
	"orders", "account_notes", "conflicts"}

// fuzzOrg is the "two-regions" named fixture (fixtures.TwoRegions) behind one
// server, the callers of fuzzWho signed in:
//
//	region R: territories T1 (rep1, coord1, account a1), T2 (rep2, account a2);
//	manager mgr of R; region S: territory T3 (account a3), outside every
//	caller's territories; director; ops.
//
// rep1 has a draft order o1 on a1 and an open conflict c1 on it.
type fuzzOrg struct {
	dialect         store.Dialect
	db              *store.DB
	srv             *server.Server
	tokens          map[string]string
	ids             map[string]string // user name -> id
	r, s, t1, t2    string
	t3, a1, a2, a3  string
	product, order1 string
	conflict1       string
}

// fuzzOrgs opens one organisation per available database. The Postgres one is
// skipped (not the whole target) when no cluster is configured and CI does not
// require one.
func fuzzOrgs(f *testing.F) []*fuzzOrg {
	f.Helper()
	var orgs []*fuzzOrg
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		if d == store.Postgres && os.Getenv(testdb.EnvPostgresURL) == "" && os.Getenv("FIELDSYNC_REQUIRE_POSTGRES") != "1" {
			f.Logf("POSTGRES HALF SKIPPED: %s is not set", testdb.EnvPostgresURL)
			continue
		}
		orgs = append(orgs, newFuzzOrg(f, d))
	}
	return orgs
}

func newFuzzOrg(tb testing.TB, d store.Dialect) *fuzzOrg {
	tb.Helper()
	db := testdb.Open(tb, d)
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	f, err := fixtures.NewTwoRegions(context.Background(), db, fixtures.NamedOptions{Password: "password1"})
	if err != nil {
		tb.Fatal(err)
	}
	o := &fuzzOrg{dialect: d, db: db, srv: srv, tokens: map[string]string{"none": "", "bogus": "not-a-token"},
		ids: map[string]string{}, r: f.R, s: f.S, t1: f.T1, t2: f.T2, t3: f.T3, a1: f.A1, a2: f.A2, a3: f.A3,
		product: f.Product, order1: uuid.NewString()}
	for name, u := range f.Users {
		o.ids[name] = u.ID
	}
	for _, who := range fuzzWho {
		if _, ok := f.Users[who]; ok {
			o.tokens[who] = o.login(tb, who)
		}
	}
	// An order of rep1, submitted, confirmed by the desk, then edited by rep1
	// from the submitted version: an open conflict for the coordinator.
	o.pushAs(tb, "rep1", wire.Mutation{MutationID: uuid.NewString(), Table: "orders", Op: "upsert", ID: o.order1,
		Row: json.RawMessage(`{"account_id":"` + o.a1 + `","lines":[{"product_id":"` + o.product + `","quantity":1}]}`)})
	o.pushAs(tb, "rep1", wire.Mutation{MutationID: uuid.NewString(), Table: "orders", Op: "upsert", ID: o.order1,
		BaseVersion: 1, Row: json.RawMessage(`{"status":"submitted"}`)})
	if status, _, b := o.send(tb, "POST", "/v1/orders/"+o.order1+"/transition", "", o.tokens["coord1"],
		`{"to":"confirmed","expected_version":2}`, "application/json", ""); status != 200 {
		tb.Fatalf("fixture confirm: %d %s", status, b)
	}
	conflict := o.pushAs(tb, "rep1", wire.Mutation{MutationID: uuid.NewString(), Table: "orders", Op: "upsert", ID: o.order1,
		BaseVersion: 2, Row: json.RawMessage(`{"note":"call first"}`)})
	o.conflict1 = conflict.Results[0].ConflictID
	if o.conflict1 == "" {
		tb.Fatalf("fixture: no conflict: %+v %+v", conflict.Results[0], conflict.Results[0].Error)
	}
	return o
}

func (o *fuzzOrg) login(tb testing.TB, who string) string {
	tb.Helper()
	body := `{"email":"` + who + `@example.com","password":"password1","device_id":"dev-` + who + `"}`
	status, _, b := o.send(tb, "POST", "/v1/auth/login", "", "", body, "application/json", "")
	var lr wire.LoginResponse
	if status != 200 || json.Unmarshal(b, &lr) != nil {
		tb.Fatalf("fixture login %s: %d %s", who, status, b)
	}
	return lr.Token
}

func (o *fuzzOrg) pushAs(tb testing.TB, who string, m wire.Mutation) wire.PushResponse {
	tb.Helper()
	body, _ := json.Marshal(wire.PushRequest{Mutations: []wire.Mutation{m}})
	status, _, b := o.send(tb, "POST", "/v1/sync/push", "", o.tokens[who], string(body), "application/json", "")
	var pr wire.PushResponse
	if status != 200 || json.Unmarshal(b, &pr) != nil || len(pr.Results) != 1 {
		tb.Fatalf("fixture push: %d %s", status, b)
	}
	return pr
}

// send runs one request through the app; any 5xx or a mismatch with the
// document fails tb.
func (o *fuzzOrg) send(tb testing.TB, method, path, query, token, body, ctype, cenc string) (int, http.Header, []byte) {
	tb.Helper()
	req := &http.Request{Method: method, URL: &url.URL{Scheme: "http", Host: "fieldsync.test", Path: path, RawQuery: query},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Host: "fieldsync.test"}
	if body != "" {
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if cenc != "" {
		req.Header.Set("Content-Encoding", cenc)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := o.srv.App.Test(req, -1)
	if err != nil {
		tb.Fatalf("%s %s?%s: %v", method, path, query, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode >= 500 {
		tb.Errorf("%s: %s %s?%q body %q (Content-Type %q, Content-Encoding %q) -> %d %s",
			o.dialect, method, path, query, body, ctype, cenc, resp.StatusCode, b)
	}
	req.Body = nil
	if err := apitest.Default(tb).Check(req, []byte(body), resp.StatusCode, resp.Header, b); err != nil {
		tb.Errorf("%s: openapi: %v", o.dialect, err)
	}
	return resp.StatusCode, resp.Header, b
}

// snapshot reads every row of the writable tables, keyed "table/key".
func (o *fuzzOrg) snapshot(tb testing.TB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, table := range fuzzTables {
		rows, err := o.db.Gorm.Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			tb.Fatalf("snapshot %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				_ = rows.Close()
				tb.Fatalf("snapshot %s: %v", table, err)
			}
			row := map[string]string{}
			for i, c := range cols {
				switch v := vals[i].(type) {
				case []byte:
					row[c] = string(v)
				case time.Time:
					row[c] = v.UTC().Format(time.RFC3339Nano)
				default:
					row[c] = fmt.Sprint(v)
				}
			}
			key := row["id"]
			if table == "user_territories" {
				key = row["user_id"] + "|" + row["territory_id"]
			}
			b, _ := json.Marshal(row)
			out[table+"/"+key] = string(b)
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		_ = rows.Close()
	}
	return out
}

// rowChange is one row added, changed or removed by a request.
type rowChange struct {
	table, key    string
	before, after map[string]string // nil when absent
}

func (c rowChange) field(name string) string {
	if c.after != nil {
		return c.after[name]
	}
	return c.before[name]
}

func diff(before, after map[string]string) []rowChange {
	var out []rowChange
	decode := func(s string) map[string]string {
		if s == "" {
			return nil
		}
		var m map[string]string
		_ = json.Unmarshal([]byte(s), &m)
		return m
	}
	for k, a := range after {
		if before[k] != a {
			table, key, _ := strings.Cut(k, "/")
			out = append(out, rowChange{table: table, key: key, before: decode(before[k]), after: decode(a)})
		}
	}
	for k, b := range before {
		if _, ok := after[k]; !ok {
			table, key, _ := strings.Cut(k, "/")
			out = append(out, rowChange{table: table, key: key, before: decode(b)})
		}
	}
	return out
}

// scopeAccounts are the accounts each caller may see (and so write, where its
// role writes at all).
func (o *fuzzOrg) scopeAccounts(who string) []string {
	switch who {
	case "rep1", "coord1":
		return []string{o.a1}
	case "rep2":
		return []string{o.a2}
	case "mgr":
		return []string{o.a1, o.a2}
	}
	return nil
}

// mayWrite says whether who may have caused change c (docs/protocol.md §2 and §6).
func (o *fuzzOrg) mayWrite(who string, c rowChange) bool {
	scope := o.scopeAccounts(who)
	inScope := func(account string) bool { return slices.Contains(scope, account) }
	switch who {
	case "ops":
		return slices.Contains([]string{"territories", "users", "user_territories", "products", "accounts"}, c.table)
	case "rep1", "rep2":
		switch c.table {
		case "visits", "orders", "account_notes":
			return inScope(c.field("account_id"))
		case "accounts":
			return inScope(c.key)
		case "conflicts":
			return true // a conflict record is the device's attempt, kept
		}
	case "coord1", "mgr":
		switch c.table {
		case "orders", "visits", "account_notes":
			return inScope(c.field("account_id"))
		case "conflicts":
			return true // resolving one in scope; checked by the route tests
		}
	}
	return false
}

// fuzzRoute is one route family under fuzz.
type fuzzRoute struct {
	method string
	path   func(o *fuzzOrg, id string) string
}

type fuzzSeed struct {
	who         uint8
	id, query   string
	body        string
	ctype, cenc string
}

// fuzzHTTP runs route r with seeds on every database.
func fuzzHTTP(f *testing.F, r fuzzRoute, seeds []fuzzSeed) {
	orgs := fuzzOrgs(f)
	for _, s := range seeds {
		f.Add(s.who, s.id, s.query, s.body, s.ctype, s.cenc)
	}
	f.Fuzz(func(t *testing.T, who uint8, id, query, body, ctype, cenc string) {
		// Only what HTTP/1.1 can carry: a query of URL characters (anything
		// else arrives percent-encoded) and header values without controls.
		for _, s := range []string{query, ctype, cenc} {
			if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' || r >= 0x80 }) {
				t.Skip("not sendable")
			}
		}
		name := fuzzWho[int(who)%len(fuzzWho)]
		for _, o := range orgs {
			before := o.snapshot(t)
			o.send(t, r.method, r.path(o, id), o.expand(query), o.tokens[name], o.expand(body), ctype, cenc)
			for _, c := range diff(before, o.snapshot(t)) {
				if !o.mayWrite(name, c) {
					t.Errorf("%s: %s %s as %s changed %s %s it may not write:\nbefore %v\nafter  %v",
						o.dialect, r.method, r.path(o, id), name, c.table, c.key, c.before, c.after)
				}
			}
		}
	})
}

// fixed is a path without an id.
func fixed(p string) func(*fuzzOrg, string) string { return func(*fuzzOrg, string) string { return p } }

// withID puts the fuzzed id into the path (fixture placeholders expanded).
func withID(prefix, suffix string) func(*fuzzOrg, string) string {
	return func(o *fuzzOrg, id string) string {
		if id == "" {
			id = uuid.Nil.String()
		}
		return prefix + url.PathEscape(o.expand(id)) + suffix
	}
}

// expand replaces the seeds' placeholders (@a1, @rep1, ...) with the ids of
// this organisation's rows.
func (o *fuzzOrg) expand(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return strings.NewReplacer("@order1", o.order1, "@conflict1", o.conflict1, "@a1", o.a1, "@a2", o.a2,
		"@a3", o.a3, "@t1", o.t1, "@t3", o.t3, "@rep1", o.ids["rep1"], "@product", o.product).Replace(s)
}

const jsonCT = "application/json"

// Callers by index in fuzzWho.
const (
	wRep1 uint8 = iota
	wRep2
	wCoord1
	wMgr
	wDirector
	wOps
	wNone
	wBogus
)

func FuzzHTTPLogin(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "POST", path: fixed("/v1/auth/login")}, []fuzzSeed{
		{wNone, "", "", `{"email":"rep1@example.com","password":"password1","device_id":"d1"}`, jsonCT, ""},
		{wNone, "", "", `{"email":"rep1@example.com","password":"wrong","device_id":"d1"}`, jsonCT, ""},
		{wNone, "", "", `{"email":"rep1@example.com","password":"password1"}`, jsonCT, ""},
		{wNone, "", "", `{"email":"rep1@example.com\u0000","password":"password1","device_id":"d\u0000"}`, jsonCT, ""},
		{wNone, "", "", `{"email":1}`, jsonCT, ""},
		{wNone, "", "", `{`, jsonCT, ""},
		{wNone, "", "", ``, "", ""},
		{wBogus, "", "", `{"email":"a@b.c","password":"x","device_id":"d"}`, "text/plain", "gzip"},
		{wRep1, "", "a=%00", `{"email":"ops@example.com","password":"password1","device_id":"` + strings.Repeat("x", 200) + `"}`, jsonCT, ""},
	})
}

func FuzzHTTPPull(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "GET", path: fixed("/v1/sync/pull")}, []fuzzSeed{
		{wRep1, "", "", "", "", ""},
		{wRep1, "", "limit=1", "", "", ""},
		{wRep2, "", "limit=99999999999999999999", "", "", ""},
		{wMgr, "", "limit=-1&cursor=%00", "", "", ""},
		{wRep1, "", "cursor=not-a-cursor&limit=abc", "", "", ""},
		{wDirector, "", "cursor=eyJ2IjoxfQ", "", "", ""},
		{wNone, "", "", "", "", ""},
		{wBogus, "", "limit=10", "", "", ""},
		{wOps, "", "limit=5000&limit=1", "{}", jsonCT, ""},
	})
}

func FuzzHTTPPush(f *testing.F) {
	mut := func(table, op, id, row string) string {
		return `{"mutations":[{"mutation_id":"` + uuid.NewString() + `","table":"` + table + `","op":"` + op +
			`","id":"` + id + `","base_version":0,"row":` + row + `}],"pending":1}`
	}
	visit := `{"account_id":"@a1","planned_at":"2026-11-23T09:00:00Z"}`
	fuzzHTTP(f, fuzzRoute{method: "POST", path: fixed("/v1/sync/push")}, []fuzzSeed{
		{wRep1, "", "", mut("visits", "upsert", uuid.NewString(), visit), jsonCT, ""},
		{wRep1, "", "", mut("nope", "zap", "x", `[]`), jsonCT, ""},
		{wRep1, "", "", mut("visits", "upsert", uuid.NewString(), `{"account_id":"x\u0000","planned_at":"2026-11-23T09:00:00Z"}`), jsonCT, ""},
		{wRep1, "", "", mut("account_notes", "upsert", uuid.NewString(), `{"account_id":"x","body":"\u0000"}`), jsonCT, ""},
		{wRep2, "", "", mut("accounts", "upsert", uuid.Nil.String(), `{"phone":"1"}`), jsonCT, ""},
		{wMgr, "", "", mut("territories", "upsert", uuid.NewString(), `{"name":"x"}`), jsonCT, ""},
		{wDirector, "", "", mut("orders", "delete", uuid.NewString(), `null`), jsonCT, ""},
		{wRep1, "", "", `{"device_id":"other","mutations":[]}`, jsonCT, ""},
		{wRep1, "", "", `{"mutations":[{"mutation_id":null,"table":null,"op":1}]}`, jsonCT, ""},
		{wRep1, "", "", `{"mutations":{}}`, jsonCT, ""},
		{wRep1, "", "", `{"pending":-1}`, jsonCT, ""},
		{wRep1, "", "", `{}`, "text/plain", "br"},
		{wNone, "", "", `{}`, jsonCT, ""},
	})
}

func FuzzHTTPAdmin(f *testing.F) {
	// The id picks the route: the admin family is many routes on few prefixes.
	fuzzHTTP(f, fuzzRoute{method: "POST", path: fixed("/v1/admin/territories")}, []fuzzSeed{
		{wOps, "", "", `{"name":"T9"}`, jsonCT, ""},
		{wOps, "", "", `{"name":"T\u0000"}`, jsonCT, ""},
		{wOps, "", "", `{"name":"T9","parent_id":"` + uuid.NewString() + `"}`, jsonCT, ""},
		{wOps, "", "", `{"name":""}`, jsonCT, ""},
		{wMgr, "", "", `{"name":"T9"}`, jsonCT, ""},
		{wRep1, "", "", `{"name":"T9"}`, jsonCT, ""},
		{wNone, "", "", `{"name":"T9"}`, jsonCT, ""},
	})
}

func FuzzHTTPAdminPatch(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "PATCH", path: withID("/v1/admin/accounts/", "")}, []fuzzSeed{
		{wOps, "@a1", "", `{"territory_id":"@t3"}`, jsonCT, ""},
		{wOps, "@a1", "", `{"phone":"\u0000"}`, jsonCT, ""},
		{wOps, "@a1", "", `{"owner_id":null,"lat":91}`, jsonCT, ""},
		{wOps, "x\x00y", "", `{"name":"n"}`, jsonCT, ""},
		{wOps, "not-a-uuid", "", `{"name":"n"}`, jsonCT, ""},
		{wCoord1, "@a1", "", `{"name":"n"}`, jsonCT, ""},
		{wRep1, "@a1", "", `{"phone":"1"}`, jsonCT, ""},
		{wDirector, "@a3", "", `{"class":"Z"}`, jsonCT, ""},
	})
}

func FuzzHTTPOrders(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "POST", path: withID("/v1/orders/", "/transition")}, []fuzzSeed{
		{wCoord1, "@order1", "", `{"to":"confirmed","expected_version":2}`, jsonCT, ""},
		{wCoord1, "@order1", "", `{"to":"rejected","expected_version":2,"reason":"\u0000"}`, jsonCT, ""},
		{wRep1, "@order1", "", `{"to":"cancelled","expected_version":2}`, jsonCT, ""},
		{wRep2, "@order1", "", `{"to":"cancelled","expected_version":2}`, jsonCT, ""},
		{wMgr, "@order1", "", `{"to":"shipped","expected_version":-1}`, jsonCT, ""},
		{wDirector, "@order1", "", `{"to":"confirmed","expected_version":2}`, jsonCT, ""},
		{wCoord1, "nope", "", `{"to":"confirmed","expected_version":2}`, jsonCT, ""},
		{wCoord1, "", "", `{"to":"x"}`, jsonCT, ""},
		{wCoord1, "@order1", "", `[]`, jsonCT, ""},
	})
}

func FuzzHTTPOrdersDesk(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "GET", path: fixed("/v1/orders")}, []fuzzSeed{
		{wCoord1, "", "", "", "", ""},
		{wCoord1, "", "status=submitted&limit=1", "", "", ""},
		{wCoord1, "", "territory_id=" + uuid.NewString(), "", "", ""},
		{wCoord1, "", "territory_id=%00&status=%00", "", "", ""},
		{wMgr, "", "cursor=%ff%fe&limit=0", "", "", ""},
		{wRep1, "", "", "", "", ""},
		{wNone, "", "", "", "", ""},
	})
}

func FuzzHTTPVisits(f *testing.F) {
	plan := func(account, rep string) string {
		return `{"account_id":"` + account + `","rep_id":"` + rep + `","planned_at":"2026-11-24T09:00:00Z"}`
	}
	fuzzHTTP(f, fuzzRoute{method: "POST", path: fixed("/v1/visits")}, []fuzzSeed{
		{wMgr, "", "", plan("@a1", "@rep1"), jsonCT, ""},
		{wMgr, "", "", plan("@a3", "@rep1"), jsonCT, ""},
		{wMgr, "", "", `{"account_id":"\u0000","rep_id":"x","planned_at":"yesterday"}`, jsonCT, ""},
		{wRep1, "", "", plan("@a1", "@rep1"), jsonCT, ""},
		{wCoord1, "", "", plan("@a1", "@rep1"), jsonCT, ""},
		{wOps, "", "", `{"id":"` + uuid.NewString() + `"}`, jsonCT, ""},
	})
}

func FuzzHTTPConflicts(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "POST", path: withID("/v1/conflicts/", "/resolve")}, []fuzzSeed{
		{wCoord1, "@conflict1", "", `{"resolution":"keep_server"}`, jsonCT, ""},
		{wMgr, "@conflict1", "", `{"resolution":"custom","row":{"note":"\u0000"}}`, jsonCT, ""},
		{wMgr, "@conflict1", "", `{"resolution":"take_device"}`, jsonCT, ""},
		{wRep2, "@conflict1", "", `{"resolution":"keep_server"}`, jsonCT, ""},
		{wRep1, "@conflict1", "", `{"resolution":"custom","row":[]}`, jsonCT, ""},
		{wCoord1, "zzz", "", `{"resolution":"x"}`, jsonCT, ""},
		{wNone, "@conflict1", "", `{}`, jsonCT, ""},
	})
}

func FuzzHTTPConflictList(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "GET", path: fixed("/v1/conflicts")}, []fuzzSeed{
		{wCoord1, "", "status=open", "", "", ""},
		{wRep1, "", "status=resolved&table=orders&limit=1", "", "", ""},
		{wMgr, "", "status=%00&table=%00&cursor=%00", "", "", ""},
		{wDirector, "", "limit=1001", "", "", ""},
		{wNone, "", "", "", "", ""},
	})
}

func FuzzHTTPReports(f *testing.F) {
	fuzzHTTP(f, fuzzRoute{method: "GET", path: withID("/v1/reports/", "")}, []fuzzSeed{
		{wMgr, "coverage", "from=2026-11-01&to=2026-11-30", "", "", ""},
		{wMgr, "coverage", "from=2026-11-30&to=2026-11-01", "", "", ""},
		{wMgr, "overdue", "territory_id=" + uuid.NewString(), "", "", ""},
		{wDirector, "orders", "from=%00&to=2026-13-45", "", "", ""},
		{wCoord1, "orders", "", "", "", ""},
		{wCoord1, "coverage", "", "", "", ""},
		{wRep1, "sync-health", "limit=0", "", "", ""},
		{wMgr, "sync-health", "from=0001-01-01&to=9999-12-31&limit=100000", "", "", ""},
		{wMgr, "nope", "", "", "", ""},
	})
}
