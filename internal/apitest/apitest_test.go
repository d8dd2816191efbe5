package apitest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const miniDoc = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},
"components":{"securitySchemes":{"bearer":{"type":"http","scheme":"bearer"}}},
"security":[{"bearer":[]}],
"paths":{"/things":{"post":{"requestBody":{"required":true,"content":{"application/json":{"schema":
  {"type":"object","properties":{"n":{"type":"integer","maximum":5}},"required":["n"]}}}},
  "responses":{"201":{"description":"ok","content":{"application/json":{"schema":
    {"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}}}},
  "400":{"description":"bad"},"401":{"description":"no"}}}}}}`

// TestCheck proves each rule of the checker on a small document.
func TestCheck(t *testing.T) {
	c, err := NewChecker([]byte(miniDoc))
	if err != nil {
		t.Fatal(err)
	}
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	req := func(method, path string, auth bool) *http.Request {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Content-Type", "application/json")
		if auth {
			r.Header.Set("Authorization", "Bearer x")
		}
		return r
	}
	cases := []struct {
		name     string
		r        *http.Request
		reqBody  string
		status   int
		respBody string
		wantErr  string
	}{
		{"Valid", req("POST", "/things", true), `{"n":1}`, 201, `{"id":"a"}`, ""},
		{"UndocumentedStatus", req("POST", "/things", true), `{"n":1}`, 409, `{}`, "status is not supported"},
		{"BodyMismatch", req("POST", "/things", true), `{"n":1}`, 201, `{"id":1}`, "doesn't match"},
		{"AcceptedWhatTheDocumentRejects", req("POST", "/things", true), `{"n":9}`, 201, `{"id":"a"}`, "accepted a request the document rejects"},
		{"AcceptedWithoutToken", req("POST", "/things", false), `{"n":1}`, 201, `{"id":"a"}`, "accepted a request the document rejects"},
		{"RejectedInvalidIsFine", req("POST", "/things", true), `{"n":9}`, 400, ``, ""},
		{"UnknownPath404", req("GET", "/nope", true), ``, 404, `{"error":{"code":"not_found","message":"x"}}`, ""},
		{"UnknownPath200", req("GET", "/nope", true), ``, 200, `{}`, "must answer 404"},
		{"OtherMethod405", req("GET", "/things", true), ``, 405, `{"error":{"code":"method_not_allowed","message":"x"}}`, ""},
		{"OtherMethodNotErrorBody", req("GET", "/things", true), ``, 405, `oops`, "not the contract's error body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(tc.r, []byte(tc.reqBody), tc.status, jsonHdr, []byte(tc.respBody))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestServedDocumentLoads: server/openapi.json compiles for the checker.
func TestServedDocumentLoads(t *testing.T) { Default(t) }

// TestCheck_Gzip: bodies are checked decoded, and a gzipped answer to a client
// that did not ask for gzip is a failure.
func TestCheck_Gzip(t *testing.T) {
	c, err := NewChecker([]byte(miniDoc))
	if err != nil {
		t.Fatal(err)
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.Bytes()
	}
	req := func(acceptGzip bool) *http.Request {
		r := httptest.NewRequest("POST", "/things", nil)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Content-Encoding", "gzip")
		r.Header.Set("Authorization", "Bearer x")
		if acceptGzip {
			r.Header.Set("Accept-Encoding", "gzip")
		}
		return r
	}
	zipped := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}
	if err := c.Check(req(true), gz(`{"n":1}`), 201, zipped, gz(`{"id":"a"}`)); err != nil {
		t.Errorf("gzipped exchange: %v", err)
	}
	if err := c.Check(req(true), gz(`{"n":9}`), 201, zipped, gz(`{"id":"a"}`)); err == nil {
		t.Error("a gzipped request the document rejects was let through")
	}
	if err := c.Check(req(false), gz(`{"n":1}`), 201, zipped, gz(`{"id":"a"}`)); err == nil {
		t.Error("a gzipped answer the client did not ask for was let through")
	}
}
