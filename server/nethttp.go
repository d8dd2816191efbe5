package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/attachments"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
)

// serveHTTP runs a net/http handler (tusd) inside a Fiber route. Unlike
// Fiber's adaptor, which reads the whole body into memory first, the handler
// reads the request body straight from the connection (the server streams
// bodies), so a 10 MB upload costs a buffer, not 10 MB. Error answers that
// are not JSON (tusd's own, plain text) are rewritten into the contract's
// error body. A non-empty path replaces the URL's path (tusd reads an
// upload's id from a path stripped of its base path).
func serveHTTP(c *fiber.Ctx, ctx context.Context, h http.Handler, path string) error {
	u, err := url.ParseRequestURI(c.OriginalURL())
	if err != nil {
		return domain.Errorf(domain.CodeBadRequest, "malformed request URI")
	}
	if path != "" {
		u.Path, u.RawPath = path, ""
	}
	var body io.Reader = http.NoBody
	cl := int64(c.Request().Header.ContentLength())
	switch stream := c.Context().RequestBodyStream(); {
	case stream != nil && cl != 0:
		body = stream
	case cl > 0:
		body = bytes.NewReader(c.Request().Body())
	}
	if cl < 0 {
		cl = -1 // chunked or unknown
		if c.Request().Header.ContentLength() == -2 {
			cl = 0
		}
	}
	w := &fiberWriter{c: c, conn: c.Context().Conn(), header: http.Header{}}
	// Another request for the same upload stops this one by failing its body
	// read (attachments.WithInterrupt); a no-op once this one is over.
	ctx = attachments.WithInterrupt(ctx, func() { _ = w.SetReadDeadline(time.Now()) })
	r := (&http.Request{Method: c.Method(), URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(body), ContentLength: cl, Host: string(c.Request().Host()),
		RemoteAddr: c.Context().RemoteAddr().String(), RequestURI: c.OriginalURL()}).WithContext(ctx)
	c.Request().Header.VisitAll(func(k, v []byte) { r.Header.Add(string(k), string(v)) })
	h.ServeHTTP(w, r)
	w.release()
	return w.finish()
}

// fiberWriter collects a net/http response for Fiber. The handlers it serves
// answer with headers and short bodies only.
type fiberWriter struct {
	c      *fiber.Ctx
	header http.Header
	status int
	body   bytes.Buffer

	// conn is the request's connection, taken while the request runs: tusd
	// may set deadlines from a goroutine of its own after the handler
	// returned (when the request's context ends), when Fiber has released
	// c and fasthttp may serve the next request on conn. mu and done make
	// those late calls no-ops.
	conn     net.Conn
	mu       sync.Mutex
	done     bool
	deadline bool // a deadline was set: cleared again on release
}

func (w *fiberWriter) Header() http.Header { return w.header }

func (w *fiberWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *fiberWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// SetReadDeadline lets tusd bound and interrupt its body reads
// (http.ResponseController): it stops an upload whose lock another request
// for the same upload asks for, after a dropped connection.
func (w *fiberWriter) SetReadDeadline(t time.Time) error {
	return w.setDeadline(w.conn.SetReadDeadline, t)
}

func (w *fiberWriter) SetWriteDeadline(t time.Time) error {
	return w.setDeadline(w.conn.SetWriteDeadline, t)
}

func (w *fiberWriter) setDeadline(set func(time.Time) error, t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil // the request is over; conn may be serving another
	}
	w.deadline = true
	return set(t)
}

// release ends the writer's hold on the connection once the handler has
// returned, and clears any deadline tusd set on it (a deadline in the past
// interrupts a body read), so that it does not cut the connection's next
// request.
func (w *fiberWriter) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.deadline {
		_ = w.conn.SetDeadline(time.Time{})
	}
}

func (w *fiberWriter) finish() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 400 && !strings.HasPrefix(w.header.Get("Content-Type"), "application/json") {
		b, err := tusErrorBody(w.status, w.body.String())
		if err != nil {
			return err
		}
		w.header.Set("Content-Type", "application/json")
		w.body.Reset()
		w.body.Write(b)
	}
	for k, vs := range w.header {
		if k == "Content-Length" {
			continue // fasthttp sets it from the body
		}
		for _, v := range vs {
			w.c.Response().Header.Add(k, v)
		}
	}
	w.c.Status(w.status)
	if w.body.Len() > 0 {
		return w.c.Send(bytes.Clone(w.body.Bytes()))
	}
	return nil
}

// tusCodes maps the statuses tusd answers with to the contract's codes.
var tusCodes = map[int]domain.Code{
	http.StatusBadRequest:            domain.CodeBadRequest,
	http.StatusForbidden:             domain.CodeForbidden,
	http.StatusNotFound:              domain.CodeNotFound,
	http.StatusGone:                  domain.CodeNotFound,
	http.StatusConflict:              domain.CodeConflict, // Upload-Offset is not the server's
	http.StatusPreconditionFailed:    domain.CodeBadRequest,
	http.StatusRequestEntityTooLarge: domain.CodeTooLarge,
	http.StatusUnsupportedMediaType:  domain.CodeUnsupportedMediaType,
	http.StatusLocked:                domain.CodeConflict,
	http.StatusMethodNotAllowed:      domain.CodeMethodNotAllowed,
}

// tusErrorBody turns a plain-text tusd error ("ERR_CODE: message") into the
// contract's body for the same status.
func tusErrorBody(status int, text string) ([]byte, error) {
	code, ok := tusCodes[status]
	if !ok {
		// A status the contract has no code for is the server's fault (tusd
		// answers 500 when the blob store or staging fails): the client gets
		// the contract's internal error, the log gets tusd's reason.
		return nil, fmt.Errorf("upload failed: tusd answered %d: %s", status, strings.TrimSpace(text))
	}
	msg := strings.TrimSpace(text)
	if _, m, found := strings.Cut(msg, ": "); found {
		msg = m
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}
