package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
)

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// raw sends body with the given headers and returns the status and body.
func (e *adminEnv) raw(method, path string, body []byte, hdr ...string) (int, []byte) {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.App.Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// TestServer_HostileBodies: every route reads its body within its own limit,
// counted on the wire and decoded, and refuses with the contract's body. A gzip
// bomb is refused with 413 (it was inflated whole before), a compressed push
// within the limit is accepted.
func TestServer_HostileBodies(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newAdminEnv(t, db)
		e.user("rep@example.com", domain.RoleRep)
		rep := e.login("rep@example.com", "password1", "phone")
		spaces := func(n int) []byte { return bytes.Repeat([]byte{' '}, n) }
		push := []byte(`{"device_id":"phone","mutations":[]}`)
		gz := "Content-Encoding"
		bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
		form := url.Values{"email": {"a@b.c"}, "password": {strings.Repeat("p", 5000)}, "csrf": {"x"}}.Encode()
		cases := []struct {
			name, method, path string
			body               []byte
			hdr                []string
			status             int
			code               domain.Code
		}{
			{"LoginGzipBomb", "POST", "/v1/auth/login", gzipBytes(t, spaces(8<<20)), []string{gz, "gzip"}, 413, domain.CodeTooLarge},
			{"LoginOverItsLimit", "POST", "/v1/auth/login", append([]byte(`{"email":"a@b.c","password":"`), spaces(5000)...), nil, 413, domain.CodeTooLarge},
			{"LoginUnknownEncoding", "POST", "/v1/auth/login", []byte(`{}`), []string{gz, "br"}, 415, domain.CodeUnsupportedMediaType},
			{"PushGzipBomb", "POST", "/v1/sync/push", gzipBytes(t, append(push, spaces(2<<20)...)), append([]string{gz, "gzip"}, bearer(rep)...), 413, domain.CodeTooLarge},
			{"PushWithoutTokenIsNotRead", "POST", "/v1/sync/push", gzipBytes(t, spaces(2<<20)), []string{gz, "gzip"}, 401, domain.CodeUnauthorized},
			{"AdminOverDefaultLimit", "POST", "/v1/admin/users", fmt.Appendf(nil, `{"email":"x@y.z","name":"%s"}`, strings.Repeat("n", 70<<10)), bearer(e.ops), 413, domain.CodeTooLarge},
			{"DashboardFormOverItsLimit", "POST", "/dashboard/login", []byte(form), []string{"Content-Type", "application/x-www-form-urlencoded"}, 413, domain.CodeTooLarge},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				status, b := e.raw(tc.method, tc.path, tc.body, tc.hdr...)
				if status != tc.status {
					t.Fatalf("status = %d, want %d: %.200s", status, tc.status, b)
				}
				if d := errorDetail(t, b); d.Code != string(tc.code) {
					t.Errorf("code = %s, want %s", d.Code, tc.code)
				}
			})
		}
		t.Run("GzipPushAccepted", func(t *testing.T) {
			status, b := e.raw("POST", "/v1/sync/push", gzipBytes(t, push), append([]string{gz, "gzip"}, bearer(rep)...)...)
			if status != 200 || !bytes.Contains(b, []byte(`"results"`)) {
				t.Fatalf("gzipped push: %d %s", status, b)
			}
		})
		t.Run("PushAtItsLimitAccepted", func(t *testing.T) {
			body := append(bytes.Clone(push), spaces(wire.MaxPushBodyBytes-len(push))...)
			if status, b := e.raw("POST", "/v1/sync/push", gzipBytes(t, body), append([]string{gz, "gzip"}, bearer(rep)...)...); status != 200 {
				t.Fatalf("a push of exactly 1 MiB decoded: %d %s", status, b)
			}
			body = append(body, ' ')
			if status, b := e.raw("POST", "/v1/sync/push", body, bearer(rep)...); status != 413 {
				t.Fatalf("a push one byte over 1 MiB: %d %s", status, b)
			}
		})
		t.Run("HeadersAndQueryTooLarge", func(t *testing.T) {
			// fasthttp reads the request line and headers into one 4 KiB
			// buffer (ReadBufferSize) and answers 431 when it fills without
			// the headers' end: a long query string is a long request line.
			// The client sends exactly the buffer's 4,096 bytes and then
			// waits: the server has read everything when it answers, so it
			// closes with a FIN after the 431. (A client that sends more is
			// answered the same, but the server closes with bytes unread and
			// the kernel may reset the connection before the client reads.)
			base := serveReal(t, &srvEnv{t: t, s: e.srv})
			addr := strings.TrimPrefix(base, "http://")
			const readBuffer = 4096
			pad := func(prefix string, fill byte) []byte {
				b := []byte(prefix)
				return append(b, bytes.Repeat([]byte{fill}, readBuffer-len(b))...)
			}
			for name, head := range map[string][]byte{
				"header": pad("GET /v1/me HTTP/1.1\r\nHost: "+addr+"\r\nX-Padding: ", 'h'),
				"query":  pad("GET /v1/me?x=", 'q'),
			} {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.Write(head); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				_ = conn.Close()
				if resp.StatusCode != 431 {
					t.Fatalf("4 KiB %s: %d %s", name, resp.StatusCode, b)
				}
				errorDetail(t, b)
			}
		})
	})
}
