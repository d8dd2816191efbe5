package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/apitest"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/wire"
	"github.com/gofiber/fiber/v2"
)

// syncBuffer is a log sink the server may write to from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type srvEnv struct {
	t   *testing.T
	s   *server.Server
	log *syncBuffer
}

func newSrvEnv(t *testing.T, db *store.DB) *srvEnv {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.BcryptCost = 4
	log := &syncBuffer{}
	s, err := server.New(cfg, db, slog.New(slog.NewJSONHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &srvEnv{t: t, s: s, log: log}
}

type srvResp struct {
	status int
	header http.Header
	body   []byte
}

func (e *srvEnv) call(method, path string, body io.Reader, hdr ...string) srvResp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if strings.HasPrefix(path, "/test/") { // routes a test adds are not the API
		resp, err := e.s.App.Test(req, -1)
		if err != nil {
			e.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return srvResp{status: resp.StatusCode, header: resp.Header, body: b}
	}
	resp, b := apitest.Fiber(e.t, e.s.App, req)
	return srvResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantContractError checks the status and that the body is exactly the
// contract's error envelope, leaking nothing internal.
func wantContractError(t *testing.T, r srvResp, status int, code domain.Code) wire.ErrorDetail {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	var env wire.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error.Code != string(code) || env.Error.Message == "" {
		t.Fatalf("body = %s (%v), want a contract error with code %s", r.body, err, code)
	}
	for _, leak := range []string{"goroutine", ".go:", "/work/", "runtime", "SELECT", "sql", "boom"} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("error body leaks %q: %s", leak, r.body)
		}
	}
	if r.header.Get("X-Request-ID") == "" && status != 413 { // 413 is answered before any middleware
		t.Error("error response without X-Request-ID")
	}
	return env.Error
}

// serveReal serves e on a loopback listener until the test ends.
func serveReal(t *testing.T, e *srvEnv) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func TestServer_Errors(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newSrvEnv(t, db)
		e.s.App.Get("/test/panic", func(*fiber.Ctx) error { panic("boom: secret state") })
		e.s.App.Get("/test/fail", func(*fiber.Ctx) error { return errors.New("boom: SELECT password_hash FROM users") })
		login := "/v1/auth/login"
		cases := []struct {
			name, method, path, body string
			status                   int
			code                     domain.Code
		}{
			{"UnknownRoute", "GET", "/v1/nope", "", 404, domain.CodeNotFound},
			{"UnknownRoot", "GET", "/", "", 404, domain.CodeNotFound},
			{"WrongMethod", "GET", login, "", 405, domain.CodeMethodNotAllowed},
			{"WrongMethodPut", "PUT", "/v1/me", "", 405, domain.CodeMethodNotAllowed},
			{"MalformedJSON", "POST", login, `{"email": "a@b.c",`, 400, domain.CodeBadRequest},
			{"UnknownField", "POST", login, `{"email":"a@b.c","admin":true}`, 400, domain.CodeBadRequest},
			{"WrongType", "POST", login, `{"email":["a@b.c"]}`, 400, domain.CodeBadRequest},
			{"EmptyBody", "POST", login, ``, 400, domain.CodeBadRequest},
			{"Invalid", "POST", login, `{"email":"a@b.c"}`, 422, domain.CodeValidation},
			{"MissingToken", "GET", "/v1/me", "", 401, domain.CodeUnauthorized},
			{"Panic", "GET", "/test/panic", "", 500, domain.CodeInternal},
			{"InternalError", "GET", "/test/fail", "", 500, domain.CodeInternal},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := wantContractError(t, e.call(tc.method, tc.path, strings.NewReader(tc.body)), tc.status, tc.code)
				if tc.status == 500 && got.Message != "internal error" {
					t.Errorf("500 message = %q", got.Message)
				}
			})
		}
		t.Run("OversizeBody", func(t *testing.T) {
			// The login route refuses an oversize body from its Content-Length,
			// before reading it, and closes the connection: a client still writing
			// the body may see a reset instead of the answer. fasthttp reads up to
			// 8 KiB of a streamed body before any handler runs, so announce 3 MiB,
			// send exactly 8 KiB + 1 (all of which the server reads), and read
			// what the server says.
			u, err := url.Parse(serveReal(t, e))
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", login, u.Host, 3<<20,
				strings.Repeat(" ", 8<<10+1))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			wantContractError(t, srvResp{status: resp.StatusCode, header: resp.Header, body: b}, 413, domain.CodeTooLarge)
		})
		t.Run("PanicStackIsLogged", func(t *testing.T) {
			logs := e.log.String()
			if !strings.Contains(logs, `"msg":"panic"`) || !strings.Contains(logs, "goroutine") ||
				!strings.Contains(logs, "password_hash") {
				t.Errorf("the log lacks the panic stack or the real error:\n%s", logs)
			}
		})
	})
}

func TestServer_RequestID(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newSrvEnv(t, db)
		if r := e.call("GET", "/healthz", nil, "X-Request-ID", "abc-123"); r.header.Get("X-Request-ID") != "abc-123" {
			t.Errorf("echoed id = %q", r.header.Get("X-Request-ID"))
		}
		r := e.call("GET", "/healthz", nil, "X-Request-ID", "bad id\twith spaces")
		if id := r.header.Get("X-Request-ID"); id == "" || strings.Contains(id, " ") {
			t.Errorf("an unsafe id was not replaced: %q", id)
		}
		if !strings.Contains(e.log.String(), `"request_id":"abc-123"`) {
			t.Errorf("access log lacks the request id:\n%s", e.log.String())
		}
	})
}

func TestServer_Health(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newSrvEnv(t, db)
		for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
			if r := e.call("GET", path, nil); r.status != 200 || string(r.body) != want {
				t.Errorf("%s: %d %s", path, r.status, r.body)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		wantContractError(t, e.call("GET", "/readyz", nil), 503, domain.CodeUnavailable)
		if r := e.call("GET", "/healthz", nil); r.status != 200 {
			t.Errorf("healthz with the database down: %d", r.status)
		}
	})
}

func TestServer_Metrics(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newSrvEnv(t, db)
		e.call("GET", "/healthz", nil)
		e.call("GET", "/v1/me", nil)
		e.call("GET", "/v1/admin/users/6f9619ff-8b86-d011-b42d-00c04fc964ff", nil)
		e.call("GET", "/no/such/route/123", nil)
		e.s.Metrics.PushResults.WithLabelValues("applied").Add(3)
		e.s.Metrics.SyncChanges.Add(7)
		r := e.call("GET", "/metrics", nil)
		if r.status != 200 {
			t.Fatalf("metrics: %d", r.status)
		}
		body := string(r.body)
		for _, want := range []string{
			`fieldsync_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
			`fieldsync_http_requests_total{method="GET",route="/v1/me",status="401"} 1`,
			`fieldsync_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
			`fieldsync_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1`,
			`fieldsync_push_results_total{status="applied"} 3`,
			`fieldsync_sync_changes_total 7`,
			`fieldsync_conflicts_opened_total 0`,
			`fieldsync_oldest_transaction_age_seconds`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(body, "6f9619ff") || strings.Contains(body, "/no/such") {
			t.Error("metrics hold raw paths; labels must be route templates")
		}
	})
}

// TestServer_GracefulShutdown serves on a real listener and cancels while a
// request is in flight: the request still completes and Serve returns cleanly.
func TestServer_GracefulShutdown(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newSrvEnv(t, db)
		started, release := make(chan struct{}), make(chan struct{})
		e.s.App.Get("/test/slow", func(c *fiber.Ctx) error {
			close(started)
			<-release
			return c.SendString("done")
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		served := make(chan error, 1)
		go func() { served <- e.s.Serve(ctx, ln) }()

		type result struct {
			status int
			body   string
			err    error
		}
		got := make(chan result, 1)
		go func() {
			resp, err := http.Get("http://" + ln.Addr().String() + "/test/slow")
			if err != nil {
				got <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			got <- result{status: resp.StatusCode, body: string(b), err: err}
		}()
		<-started
		cancel()
		close(release)
		r := <-got
		if r.err != nil || r.status != 200 || r.body != "done" {
			t.Errorf("in-flight request: %+v", r)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
			t.Error("server still accepts connections after shutdown")
		}
	})
}
