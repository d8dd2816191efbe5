package server_test

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

type openAPIOp struct {
	Planned   bool                       `json:"x-fieldsync-planned"`
	Responses map[string]json.RawMessage `json:"responses"`
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPI_MatchesRoutes keeps /openapi.json true: every registered route is
// documented, every documented operation is registered, and an operation marked
// x-fieldsync-planned must not be registered (drop the mark when it ships).
func TestOpenAPI_MatchesRoutes(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newSrvEnv(t, db)
		r := e.call("GET", "/openapi.json", nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
		}
		var doc openAPIDoc
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatalf("openapi.json is not JSON: %v", err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
			t.Errorf("openapi = %q, want 3.0.x", doc.OpenAPI)
		}
		registered := map[string]bool{}
		for _, rt := range e.s.App.GetRoutes(true) {
			if rt.Method == "HEAD" {
				continue // Fiber adds HEAD for every GET
			}
			// Fiber's routing is not strict about a trailing slash; the document
			// names the canonical path without it (GET /dashboard).
			path := rt.Path
			if len(path) > 1 {
				path = strings.TrimSuffix(path, "/")
			}
			registered[strings.ToLower(rt.Method)+" "+fiberParam.ReplaceAllString(path, "{$1}")] = true
		}
		documented := map[string]bool{}
		var problems []string
		for path, ops := range doc.Paths {
			for method, raw := range ops {
				if method == "parameters" || strings.HasPrefix(method, "x-") {
					continue
				}
				key := method + " " + path
				var op openAPIOp
				if err := json.Unmarshal(raw, &op); err != nil || len(op.Responses) == 0 {
					problems = append(problems, key+": operation without responses")
				}
				documented[key] = true
				switch {
				case op.Planned && registered[key]:
					problems = append(problems, key+": registered but still marked x-fieldsync-planned")
				case !op.Planned && !registered[key]:
					problems = append(problems, key+": documented but not registered")
				}
			}
		}
		for key := range registered {
			if !documented[key] {
				problems = append(problems, key+": registered but missing from openapi.json")
			}
		}
		sort.Strings(problems)
		for _, p := range problems {
			t.Error(p)
		}
		for _, ref := range regexp.MustCompile(`"\$ref":\s*"#/components/([a-zA-Z]+)/([A-Za-z0-9_]+)"`).FindAllStringSubmatch(string(r.body), -1) {
			if _, ok := doc.Components[ref[1]][ref[2]]; !ok {
				t.Errorf("dangling $ref #/components/%s/%s", ref[1], ref[2])
			}
		}
	})
}

// TestOpenAPI_CommonResponses keeps the answers every route family can give
// documented as routes are added: 500 everywhere, 401 where a token is
// needed, 404 where a path names a row, 413 and 415 wherever a body is
// accepted, 422 on every API write and 503 (database down) on every route
// that reads the database.
func TestOpenAPI_CommonResponses(t *testing.T) {
	var doc struct {
		Security []map[string][]string `json:"security"`
		Paths    map[string]map[string]struct {
			Security    *[]map[string][]string     `json:"security"`
			Parameters  []struct{ In string }      `json:"parameters"`
			Responses   map[string]json.RawMessage `json:"responses"`
			RequestBody json.RawMessage            `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIBytes(t), &doc); err != nil {
		t.Fatal(err)
	}
	noDatabase := map[string]bool{"get /healthz": true, "get /metrics": true, "get /openapi.json": true,
		"get /dashboard/assets/{name}": true}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := method + " " + path
			want := []string{"500"}
			if op.Security == nil || len(*op.Security) > 0 {
				want = append(want, "401")
			}
			for _, p := range op.Parameters {
				if p.In == "path" {
					want = append(want, "404")
					break
				}
			}
			if method == "post" || method == "patch" || method == "delete" {
				want = append(want, "413", "415")
				if strings.HasPrefix(path, "/v1/") && path != "/v1/auth/logout" {
					want = append(want, "422")
				}
			}
			if !noDatabase[key] {
				want = append(want, "503")
			}
			for _, code := range want {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s: no %s response", key, code)
				}
			}
		}
	}
}

func openAPIBytes(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
