package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/gofiber/fiber/v2"
)

func gzipped(s string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return buf.String()
}

// bodyApp is configured as the server is: streamed bodies, the guard first.
func bodyApp(t *testing.T) *fiber.App {
	t.Helper()
	app := fiber.New(fiber.Config{ErrorHandler: httpapi.ErrorHandler(slog.New(slog.DiscardHandler)),
		StreamRequestBody: true, DisablePreParseMultipartForm: true})
	app.Use(httpapi.GuardBody)
	echo := func(c *fiber.Ctx) error {
		var v struct {
			S string `json:"s"`
		}
		if err := httpapi.DecodeJSON(c, &v); err != nil {
			return err
		}
		return c.SendString(v.S)
	}
	app.Post("/small", httpapi.BodyLimit(64), echo)
	app.Post("/default", echo)
	return app
}

func TestReadBody(t *testing.T) {
	app := bodyApp(t)
	long := `{"s":"` + strings.Repeat("x", 100) + `"}`
	bomb := `{"s":"x"}` + strings.Repeat(" ", httpapi.DefaultBodyLimit)
	cases := []struct {
		name, path, body, enc string
		status                int
		code                  domain.Code
		want                  string
	}{
		{"Plain", "/small", `{"s":"hi"}`, "", 200, "", "hi"},
		{"Gzip", "/small", gzipped(`{"s":"hi"}`), "gzip", 200, "", "hi"},
		{"GzipUpperCase", "/small", gzipped(`{"s":"hi"}`), "GZIP", 200, "", "hi"},
		{"Identity", "/small", `{"s":"hi"}`, "identity", 200, "", "hi"},
		{"PlainOverRouteLimit", "/small", long, "", 413, domain.CodeTooLarge, ""},
		{"GzipSmallButDecodedOverRouteLimit", "/small", gzipped(long), "gzip", 413, domain.CodeTooLarge, ""},
		{"DefaultLimitGzipBomb", "/default", gzipped(bomb), "gzip", 413, domain.CodeTooLarge, ""},
		{"MalformedGzip", "/small", "not gzip at all", "gzip", 400, domain.CodeBadRequest, ""},
		{"TruncatedGzip", "/small", gzipped(`{"s":"hi"}`)[:12], "gzip", 400, domain.CodeBadRequest, ""},
		{"Brotli", "/small", "x", "br", 415, domain.CodeUnsupportedMediaType, ""},
		{"Deflate", "/small", "x", "deflate", 415, domain.CodeUnsupportedMediaType, ""},
		{"TwoLayers", "/small", gzipped(gzipped(`{"s":"hi"}`)), "gzip, gzip", 415, domain.CodeUnsupportedMediaType, ""},
		{"UnknownOnRouteWithoutBody", "/nowhere", "x", "compress", 415, domain.CodeUnsupportedMediaType, ""},
	}
	t.Run("UnknownEncodingWithoutBody", func(t *testing.T) {
		app.Get("/get", func(c *fiber.Ctx) error { return c.SendString("ok") })
		if resp, b := call(t, app, "GET", "/get", "", "Content-Encoding", "br"); resp.StatusCode != 200 {
			t.Errorf("a GET naming an encoding but sending no body: %d %s", resp.StatusCode, b)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"Content-Type", "application/json"}
			if tc.enc != "" {
				hdr = append(hdr, "Content-Encoding", tc.enc)
			}
			resp, b := call(t, app, "POST", tc.path, tc.body, hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.status != http.StatusOK {
				if d := errorBody(t, b); d.Code != string(tc.code) {
					t.Errorf("code = %s, want %s", d.Code, tc.code)
				}
			} else if string(b) != tc.want {
				t.Errorf("body = %q, want %q", b, tc.want)
			}
		})
	}
}

// TestBodyLimit_ClientStillSending: a client that sends its whole oversized
// body before reading reads the 413, not a connection reset. The server
// refuses on the declared length before reading a byte; unless it takes the
// rest off the wire, closing the connection resets it under the client.
func TestBodyLimit_ClientStillSending(t *testing.T) {
	app := bodyApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })

	body := `{"s":"` + strings.Repeat("x", 3<<20) + `"}`
	for i := 0; i < 5; i++ {
		resp, err := http.Post("http://"+ln.Addr().String()+"/small", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("try %d: %v, want the 413", i, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("try %d: status %d, want 413", i, resp.StatusCode)
		}
	}
}
