package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// fetch sends a GET with the given headers and returns the raw answer (never
// decompressed: App.Test does not go through a Transport).
func fetch(t *testing.T, app interface {
	Test(*http.Request, ...int) (*http.Response, error)
}, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("broken gzip: %v", err)
	}
	return out
}

// TestServer_CompressedResponses: a client that accepts gzip gets pull pages,
// the OpenAPI document and dashboard assets gzipped, decoding to exactly the
// plain body; a client that does not (or refuses it with q=0) gets them plain;
// tiny bodies go plain either way.
func TestServer_CompressedResponses(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		planned := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
		for range 20 {
			o.pushOne("rep1", mutation("visits", "upsert", uuid.NewString(), 0,
				map[string]any{"account_id": o.acc1, "planned_at": planned}), "applied")
		}
		bearer := "Bearer " + o.tokens["rep1"]
		o.mirror("rep1").until(func(rows map[string]map[string]wire.Change) bool { return len(rows["visits"]) == 20 })
		for _, path := range []string{"/v1/sync/pull?limit=1000", "/openapi.json", "/dashboard/assets/dashboard.css"} {
			t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
				plainResp, plain := fetch(t, o.srv.App, path, "Authorization", bearer)
				if plainResp.StatusCode != 200 || plainResp.Header.Get("Content-Encoding") != "" {
					t.Fatalf("plain: %d, Content-Encoding %q", plainResp.StatusCode, plainResp.Header.Get("Content-Encoding"))
				}
				if !strings.Contains(plainResp.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("plain answer without Vary: Accept-Encoding: %v", plainResp.Header)
				}
				if len(plain) < 1024 {
					t.Fatalf("body of %d bytes is too small to test compression", len(plain))
				}
				resp, zipped := fetch(t, o.srv.App, path, "Authorization", bearer, "Accept-Encoding", "br;q=1.0, gzip;q=0.8, *;q=0.1")
				if resp.Header.Get("Content-Encoding") != "gzip" {
					t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
				}
				if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("Vary = %q", resp.Header.Get("Vary"))
				}
				if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(zipped)) {
					t.Errorf("Content-Length = %s, body %d bytes", cl, len(zipped))
				}
				if len(zipped) >= len(plain)/2 {
					t.Errorf("gzip body %d bytes for %d plain", len(zipped), len(plain))
				}
				if got := gunzip(t, zipped); !bytes.Equal(got, plain) {
					t.Errorf("decoded body differs from the plain one:\n%s\n%s", got, plain)
				}
				if _, b := fetch(t, o.srv.App, path, "Authorization", bearer, "Accept-Encoding", "gzip;q=0, identity"); !bytes.Equal(b, plain) {
					t.Errorf("gzip;q=0 still got a compressed body")
				}
			})
		}
		t.Run("TinyBodiesPlain", func(t *testing.T) {
			resp, b := fetch(t, o.srv.App, "/healthz", "Accept-Encoding", "gzip")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || len(b) >= 1024 {
				t.Fatalf("healthz: %d, Content-Encoding %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Encoding"), len(b))
			}
			resp, b = fetch(t, o.srv.App, "/v1/me", "Accept-Encoding", "gzip") // 401: an error body
			if resp.StatusCode != 401 || resp.Header.Get("Content-Encoding") != "" {
				t.Fatalf("error body: %d, Content-Encoding %q: %s", resp.StatusCode, resp.Header.Get("Content-Encoding"), b)
			}
		})
	})
}
