package server_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

type wmdbAnswer struct {
	Changes map[string]struct {
		Created []map[string]any `json:"created"`
		Updated []map[string]any `json:"updated"`
		Deleted []string         `json:"deleted"`
	} `json:"changes"`
	Timestamp int64  `json:"timestamp"`
	Strategy  string `json:"experimentalStrategy"`
}

// The WatermelonDB endpoints over HTTP, every exchange checked against
// /openapi.json: a first sync, a push and its replay, the next pull, and bad
// parameters answered 400 with the contract's body.
func TestWatermelon_HTTP(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		var first wmdbAnswer
		o.as("rep1", "GET", "/v1/watermelon/sync?last_pulled_at=null&schema_version=3&migration=null", "", 200, &first)
		accounts := first.Changes["accounts"]
		if first.Timestamp < 1 || len(accounts.Updated) != 1 || accounts.Updated[0]["id"] != o.acc1 || len(accounts.Deleted) != 0 {
			t.Fatalf("first sync: %+v", first)
		}
		if _, isNumber := accounts.Updated[0]["updated_at"].(float64); !isNumber {
			t.Errorf("updated_at is not a number: %v", accounts.Updated[0]["updated_at"])
		}
		visit, foreign := uuid.NewString(), uuid.NewString()
		body := fmt.Sprintf(`{"changes":{"visits":{"created":[
			{"id":%q,"_status":"created","_changed":"","account_id":%q,"status":"planned","planned_at":1795420800000},
			{"id":%q,"_status":"created","_changed":"","account_id":%q,"status":"planned","planned_at":1795420800000}],
			"updated":[],"deleted":[]}},"lastPulledAt":%d}`, visit, o.acc1, foreign, o.acc2, first.Timestamp)
		path := fmt.Sprintf("/v1/watermelon/sync?last_pulled_at=%d", first.Timestamp)
		for range 2 {
			var res struct {
				Rejected map[string][]string `json:"experimentalRejectedIds"`
			}
			o.as("rep1", "POST", path, body, 200, &res)
			if !slices.Equal(res.Rejected["visits"], []string{foreign}) {
				t.Errorf("rejected: %v, want the visit on a foreign account", res.Rejected)
			}
		}
		var next wmdbAnswer
		o.as("rep1", "GET", path, "", 200, &next)
		visits := next.Changes["visits"]
		if len(visits.Updated) != 1 || visits.Updated[0]["id"] != visit || visits.Updated[0]["version"] != float64(1) {
			t.Errorf("next pull: visits %+v", visits.Updated)
		}
		if !slices.Equal(visits.Deleted, []string{foreign}) {
			t.Errorf("next pull: the rejected create is not deleted: %v", visits.Deleted)
		}
		for _, bad := range []string{"last_pulled_at=-1", "last_pulled_at=soon", "schema_version=x", "migration=%7Bnope"} {
			o.failsAs("rep1", "GET", "/v1/watermelon/sync?"+bad, "", 400, domain.CodeBadRequest)
		}
		o.failsAs("rep1", "POST", path, `{"changes":{"visits":{"created":[],"moved":[]}}}`, 400, domain.CodeBadRequest)
		o.failsAs("", "GET", "/v1/watermelon/sync", "", 401, domain.CodeUnauthorized)
	})
}

// The streamed answer is gzipped when the client takes gzip, as every other
// answer is.
func TestWatermelon_Gzip(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		req := httptest.NewRequest("GET", "/v1/watermelon/sync", nil)
		req.Header.Set("Authorization", "Bearer "+o.tokens["rep1"])
		req.Header.Set("Accept-Encoding", "gzip")
		resp, raw := apitest.Fiber(t, o.srv.App, req)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("body is not gzip: %v", err)
		}
		b, err := io.ReadAll(zr)
		if err != nil || !json.Valid(b) {
			t.Fatalf("gunzip: %v %q", err, b)
		}
	})
}
