package server_test

import (
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// TestServer_DatabaseDownIs503: with the database gone (the pool closed under
// the server: no timing involved), every route that needs it answers 503
// unavailable with Retry-After and the contract's body, not 500 internal: a
// client should retry later, it did nothing wrong.
func TestServer_DatabaseDownIs503(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		cases := []struct{ name, who, method, path, body string }{
			{"Login", "", "POST", "/v1/auth/login", `{"email":"rep1@example.com","password":"password1","device_id":"d"}`},
			{"Me", "rep1", "GET", "/v1/me", ""},
			{"Pull", "rep1", "GET", "/v1/sync/pull", ""},
			{"Push", "rep1", "POST", "/v1/sync/push", `{"mutations":[{"mutation_id":"` + uuid.NewString() + `","table":"account_notes","op":"upsert","id":"` +
				uuid.NewString() + `","base_version":0,"row":{"account_id":"` + o.acc1 + `","body":"hi"}}]}`},
			{"Plan", "mgr", "POST", "/v1/visits", `{"account_id":"` + o.acc1 + `","rep_id":"` + o.rep1 + `","planned_at":"2026-11-24T08:30:00Z"}`},
			{"AdminCreate", "ops", "POST", "/v1/admin/territories", `{"name":"N"}`},
			{"OrderDesk", "coordAll", "GET", "/v1/orders", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := o.call(tc.method, tc.path, tc.who, tc.body)
				wantContractError(t, r, 503, domain.CodeUnavailable)
				if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
					t.Errorf("Retry-After = %q, want a number of seconds", r.header.Get("Retry-After"))
				}
			})
		}
	})
}

// call sends a request as the named user ("" for none) and keeps the headers.
func (o *office) call(method, path, who, body string) srvResp {
	o.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok := o.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := o.srv.App.Test(req, -1)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	return srvResp{status: resp.StatusCode, header: resp.Header, body: b}
}
