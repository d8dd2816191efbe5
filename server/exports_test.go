package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/export"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/xuri/excelize/v2"
)

// exportCase is one export and the JSON answer it must match: table names the
// CSV table, rows where its rows are in the JSON body ("" for the body itself,
// a one-row table of totals).
type exportCase struct {
	report, query string
	table, rows   string
}

// jsonCell renders a JSON value as the CSV cell it must appear as.
func jsonCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.Contains(x, "T") {
			return t.UTC().Format(time.RFC3339Nano)
		}
		return export.CSVText(x)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprintf("<%T>", v)
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("json: %v\n%s", err, b)
	}
	return m
}

// jsonRows are the rows of a JSON answer: the array under key, or for "" the
// body with its totals flattened into it.
func jsonRows(m map[string]any, key string) []map[string]any {
	if key == "" {
		row := map[string]any{}
		for k, v := range m {
			row[k] = v
		}
		if tot, ok := m["totals"].(map[string]any); ok {
			for k, v := range tot {
				row[k] = v
			}
		}
		return []map[string]any{row}
	}
	var out []map[string]any
	for _, r := range m[key].([]any) {
		row := r.(map[string]any)
		// The orders report's territories: by_status spread over columns.
		if bs, ok := row["by_status"].([]any); ok {
			for _, x := range bs {
				sa := x.(map[string]any)
				row["count_"+sa["status"].(string)], row["value_cents_"+sa["status"].(string)] = sa["count"], sa["value_cents"]
			}
		}
		out = append(out, row)
	}
	return out
}

func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	return rs
}

// sameAsJSON: every column of the CSV that the JSON rows name holds the JSON
// value, row for row, and there are as many rows.
func sameAsJSON(t *testing.T, what string, rs [][]string, want []map[string]any) {
	t.Helper()
	if len(rs)-1 != len(want) {
		t.Fatalf("%s: %d CSV rows, JSON has %d", what, len(rs)-1, len(want))
	}
	matched := 0
	for i, w := range want {
		for j, col := range rs[0] {
			v, ok := w[col]
			if !ok {
				continue
			}
			matched++
			if got := rs[i+1][j]; got != jsonCell(v) {
				t.Fatalf("%s row %d column %s: CSV %q, JSON %q", what, i+1, col, got, jsonCell(v))
			}
		}
	}
	if len(want) > 0 && matched < len(want)*(len(rs[0])/2) {
		t.Fatalf("%s: only %d cells matched JSON fields; columns %v", what, matched, rs[0])
	}
}

// sameAsCSV: the workbook's sheet holds the CSV file's cells (text without
// the CSV's apostrophe, booleans as 1/0, times as date serials).
func sameAsCSV(t *testing.T, what string, f *excelize.File, sheet string, rs [][]string) {
	t.Helper()
	got, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(got) != len(rs) {
		t.Fatalf("%s: %d rows in the sheet, %d in the CSV", what, len(got), len(rs))
	}
	for i, r := range rs {
		for j, want := range r {
			var cell string
			if j < len(got[i]) {
				cell = got[i][j]
			}
			if _, err := time.Parse(time.RFC3339Nano, want); err == nil && i > 0 {
				if cell == "" {
					t.Fatalf("%s row %d column %s: no date", what, i, rs[0][j])
				}
				continue
			}
			switch want {
			case "true":
				want = "1"
			case "false":
				want = "0"
			}
			if strings.HasPrefix(want, "'") && strings.ContainsRune(export.FormulaPrefixes, rune(want[1])) {
				want = want[1:]
			}
			if cell != want {
				t.Fatalf("%s row %d column %s: sheet %q, CSV %q", what, i, rs[0][j], cell, want)
			}
		}
	}
}

func (e *reportEnv) export(t *testing.T, role domain.Role, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	return apitest.Fiber(t, e.srv.App, req)
}

func TestExports_MatchTheJSONReports(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newReportEnv(t, db)
		kq := "period=2026-03&as_of=2026-03-20"
		cases := []exportCase{
			{"coverage", period, "territories", "territories"},
			{"coverage", period, "reps", "reps"},
			{"coverage", period, "totals", ""},
			{"overdue", period, "overdue", "items"},
			{"orders", period, "territories", "territories"},
			{"orders", period, "by_status", "by_status"},
			{"orders", period, "totals", ""},
			{"sync-health", period, "devices", "items"},
			{"kpis", kq, "territories", "territories"},
			{"kpis", kq, "reps", "reps"},
			{"kpis", kq, "totals", ""},
		}
		csvs := map[string]map[string][][]string{}
		for _, c := range cases {
			jsonPath := "/v1/reports/" + c.report + "?" + c.query
			if c.rows == "items" {
				jsonPath += "&limit=1000"
			}
			status, jb := e.do(t, "GET", jsonPath, e.tokens[domain.RoleDirector], nil)
			if status != 200 {
				t.Fatalf("%s: %d %s", jsonPath, status, jb)
			}
			m := decodeJSON(t, jb)
			if c.rows == "items" && m["next_cursor"] != nil {
				t.Fatalf("%s: more than a page; the test compares one", jsonPath)
			}
			path := "/v1/reports/" + c.report + "/export?" + c.query + "&table=" + c.table
			resp, body := e.export(t, domain.RoleDirector, path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8; header=present" {
				t.Fatalf("%s: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=fieldsync-"+c.report) ||
				!strings.HasSuffix(cd, ".csv") {
				t.Fatalf("%s: Content-Disposition %q", path, cd)
			}
			// Streamed: no length known up front, the body goes in chunks.
			if resp.ContentLength != -1 {
				t.Fatalf("%s: Content-Length %d on a streamed export", path, resp.ContentLength)
			}
			rs := readCSV(t, body)
			want := jsonRows(m, c.rows)
			sameAsJSON(t, path, rs, want)
			if len(want) == 0 && c.report != "sync-health" {
				t.Fatalf("%s: the demo organisation has no rows to compare", path)
			}
			if csvs[c.report] == nil {
				csvs[c.report] = map[string][][]string{}
			}
			csvs[c.report][c.table] = rs
		}

		t.Run("WorkbooksHoldTheSameCells", func(t *testing.T) {
			for report, tables := range csvs {
				q := period
				if report == "kpis" {
					q = kq
				}
				path := "/v1/reports/" + report + "/export?format=xlsx&" + q
				resp, body := e.export(t, domain.RoleDirector, path)
				if resp.StatusCode != 200 || !strings.HasSuffix(resp.Header.Get("Content-Disposition"), ".xlsx") {
					t.Fatalf("%s: %d %v", path, resp.StatusCode, resp.Header)
				}
				f, err := excelize.OpenReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("%s: does not open: %v", path, err)
				}
				if len(f.GetSheetList()) != len(tables) {
					t.Fatalf("%s: sheets %v", path, f.GetSheetList())
				}
				for name, rs := range tables {
					sameAsCSV(t, path+" "+name, f, name, rs)
				}
				_ = f.Close()
			}
		})

		t.Run("TheOrderListIsEveryPageOfGETOrders", func(t *testing.T) {
			var ids []string
			totals := map[string]string{}
			cursor := ""
			for {
				status, b := e.do(t, "GET", "/v1/orders?sort=-total_cents&limit=7&cursor="+url.QueryEscape(cursor), e.tokens[domain.RoleCoordinator], nil)
				if status != 200 {
					t.Fatalf("orders: %d %s", status, b)
				}
				m := decodeJSON(t, b)
				for _, o := range jsonRows(m, "items") {
					ids = append(ids, o["id"].(string))
					totals[o["id"].(string)] = jsonCell(o["total_cents"]) + " " + jsonCell(o["status"]) + " " + jsonCell(o["submitted_at"]) +
						" " + fmt.Sprint(len(o["lines"].([]any)))
				}
				if m["next_cursor"] == nil {
					break
				}
				cursor = m["next_cursor"].(string)
			}
			for _, f := range []string{"csv", "xlsx"} {
				resp, body := e.export(t, domain.RoleCoordinator, "/v1/orders/export?sort=-total_cents&format="+f)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", f, resp.StatusCode, body)
				}
				var rs [][]string
				if f == "csv" {
					rs = readCSV(t, body)
				} else {
					wb, err := excelize.OpenReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					rs, _ = wb.GetRows("orders", excelize.Options{RawCellValue: true})
					_ = wb.Close()
				}
				if len(rs)-1 != len(ids) || len(ids) == 0 {
					t.Fatalf("%s: %d rows, the list has %d orders", f, len(rs)-1, len(ids))
				}
				if strings.Join(rs[0], ",") != strings.Join(append([]string{}, exportOrderColumns...), ",") {
					t.Fatalf("%s: header %v", f, rs[0])
				}
				for i, id := range ids {
					r := rs[i+1]
					if r[0] != id {
						t.Fatalf("%s row %d: order %s, the list has %s", f, i+1, r[0], id)
					}
					if got := r[6] + " " + r[5] + " " + r[8] + " " + r[11]; f == "csv" && got != totals[id] {
						t.Fatalf("row %d: %q, the list has %q", i+1, got, totals[id])
					}
				}
			}
		})

		t.Run("FiltersAndRefusalsAreTheJSONEndpoints", func(t *testing.T) {
			for _, c := range []struct {
				role   domain.Role
				path   string
				status int
			}{
				{domain.RoleCoordinator, "/v1/reports/coverage/export", 403},
				{domain.RoleRep, "/v1/orders/export", 403},
				{domain.RoleDirector, "/v1/reports/coverage/export?format=pdf", 400},
				{domain.RoleDirector, "/v1/reports/coverage/export?table=accounts", 400},
				{domain.RoleDirector, "/v1/reports/coverage/export?from=yesterday", 400},
				{domain.RoleDirector, "/v1/reports/coverage/export?territory_id=" + "7b0e8f4c-1111-4222-8333-944444444444", 404},
				{domain.RoleDirector, "/v1/orders/export?status=lost", 400},
				{domain.RoleDirector, "/v1/reports/kpis/export?period=2026-13", 400},
			} {
				resp, body := e.export(t, c.role, c.path)
				if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
					t.Fatalf("%s as %s: %d %s, want %d with an error body", c.path, c.role, resp.StatusCode, body, c.status)
				}
			}
		})
	})
}

// exportOrderColumns: the order list's columns, as docs/api.md lists them.
var exportOrderColumns = []string{"id", "number", "account_id", "rep_id", "visit_id", "status", "total_cents",
	"currency", "submitted_at", "note", "reason", "line_count", "version", "updated_at"}

func TestExports_DashboardLinks(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newReportEnv(t, db)
		t.Run("NoSessionIs401", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			resp, _ := b.send(t, "GET", "/dashboard/export/reports/coverage", nil)
			if resp.StatusCode != 401 {
				t.Fatalf("no session: %d", resp.StatusCode)
			}
		})
		t.Run("ManagerDownloadsWhatTheAPIAnswers", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			b.signIn(t, "manager@demo.fieldsync.dev", "demo-manager-pass")
			resp, page := b.send(t, "GET", "/dashboard?"+period, nil)
			if resp.StatusCode != 200 || !strings.Contains(page, `href="/dashboard/export/reports/coverage?`) {
				t.Fatalf("the dashboard links no export: %d", resp.StatusCode)
			}
			resp, got := b.send(t, "GET", "/dashboard/export/reports/overdue?"+period, nil)
			_, want := e.export(t, domain.RoleManager, "/v1/reports/overdue/export?"+period)
			if resp.StatusCode != 200 || got != string(want) || resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatalf("dashboard export %d differs from the API's:\n%s\n--\n%s", resp.StatusCode, got, want)
			}
			if resp, _ := b.send(t, "GET", "/dashboard/export/reports/payroll", nil); resp.StatusCode != 404 {
				t.Fatalf("unknown report: %d", resp.StatusCode)
			}
		})
		t.Run("CoordinatorGetsTheOrderListNotCoverage", func(t *testing.T) {
			b := &browser{app: e.srv.App, cookies: map[string]*http.Cookie{}}
			b.signIn(t, "coordinator@demo.fieldsync.dev", "demo-coordinator-pass")
			resp, page := b.send(t, "GET", "/dashboard/desk", nil)
			if resp.StatusCode != 200 || !strings.Contains(page, `href="/dashboard/export/orders`) {
				t.Fatalf("the desk links no export: %d", resp.StatusCode)
			}
			if resp, body := b.send(t, "GET", "/dashboard/export/orders?format=xlsx", nil); resp.StatusCode != 200 {
				t.Fatalf("order list: %d %s", resp.StatusCode, body)
			}
			if resp, _ := b.send(t, "GET", "/dashboard/export/reports/coverage", nil); resp.StatusCode != 403 {
				t.Fatalf("coverage for a coordinator: %d", resp.StatusCode)
			}
		})
	})
}
