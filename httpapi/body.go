package httpapi

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/gzip"
)

// Request bodies are read here and nowhere else, with a cap on the bytes read
// from the wire and on the bytes decoded from them. The server streams request
// bodies (fiber.Config.StreamRequestBody): fasthttp would otherwise allocate a
// buffer the size of the declared Content-Length before the handler runs, and
// Fiber's c.Body() inflates gzip without any bound. Each route names its limit
// with BodyLimit; a route that names none gets DefaultBodyLimit.

// DefaultBodyLimit caps the body of routes that name no limit of their own:
// the admin and back-office JSON bodies are a few KiB.
const DefaultBodyLimit = 64 << 10

// prefetched is how much of a body fasthttp reads before the handler runs when
// it streams (readBodyWithStreaming); a body that short is already in memory.
const prefetched = 8 << 10

const (
	localBodyLimit = "fieldsync.body_limit"
	localEncoding  = "fieldsync.content_encoding"
	localBodyRead  = "fieldsync.body_read"
)

var errBodyTooLarge = errors.New("body over the limit")

// GuardBody runs for every request, before any handler. It refuses content
// encodings the server cannot decode (415) and takes Content-Encoding out of
// the request, so that only ReadBody, with its caps, ever decodes a body.
// A body that nobody read to its end is still on the connection after the
// handler; the connection is then closed rather than parsed as the next
// request.
func GuardBody(c *fiber.Ctx) error {
	if n := c.Request().Header.ContentLength(); n >= 0 && n <= prefetched {
		c.Request().Body() // already read by fasthttp: this only drops the stream
	}
	var err error
	if cl := c.Request().Header.ContentLength(); cl != 0 && cl != -2 { // -2: no body at all
		err = guardEncoding(c)
	} else {
		c.Request().Header.Del(fiber.HeaderContentEncoding)
	}
	if err == nil {
		err = c.Next()
	}
	if src := c.Context().RequestBodyStream(); src != nil {
		drain(src)
		c.Context().SetConnectionClose()
	}
	return err
}

// drainLimit bounds how much of an unread body GuardBody throws away before
// answering. A client that is still sending a body the server refused (413
// before a byte was read, or 401 on a push) reads the answer only if the
// server took the rest of the body off the wire first: closing a socket with
// unread bytes in its receive buffer sends a reset, and the client sees
// "connection reset" instead of the error it could have acted on. Beyond the
// bound the reset is the answer; the read timeout bounds a slow sender.
const drainLimit = 4 << 20

func drain(src io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(src, drainLimit))
}

func guardEncoding(c *fiber.Ctx) error {
	enc, err := contentEncoding(string(c.Request().Header.Peek(fiber.HeaderContentEncoding)))
	if err != nil {
		return err
	}
	c.Request().Header.Del(fiber.HeaderContentEncoding)
	c.Locals(localEncoding, enc)
	return nil
}

// contentEncoding accepts no encoding, identity and gzip (one layer).
func contentEncoding(h string) (string, error) {
	switch enc := strings.ToLower(strings.TrimSpace(h)); enc {
	case "", "identity":
		return "", nil
	case "gzip", "x-gzip":
		return "gzip", nil
	}
	return "", domain.Errorf(domain.CodeUnsupportedMediaType,
		"unsupported Content-Encoding %q: send the body plain or gzip", truncate(h, 32))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// BodyLimit sets the route's limit on its body, counted both as sent and as
// decoded. A declared Content-Length over it is refused before anything is read.
func BodyLimit(n int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localBodyLimit, n)
		if cl := c.Request().Header.ContentLength(); cl > n {
			return tooLarge(n)
		}
		return c.Next()
	}
}

func tooLarge(n int) error {
	return domain.Errorf(domain.CodeTooLarge, "request body over %d bytes", n)
}

func bodyLimitOf(c *fiber.Ctx) int {
	if n, ok := c.Locals(localBodyLimit).(int); ok {
		return n
	}
	return DefaultBodyLimit
}

// ReadBody reads the request body once, decoding it if it came gzipped, and
// refuses with 413 as soon as either the bytes read or the bytes decoded pass
// the route's limit. The decoded body replaces the request's, so c.Body() and
// c.FormValue() see it afterwards.
func ReadBody(c *fiber.Ctx) ([]byte, error) {
	if read, _ := c.Locals(localBodyRead).(bool); read {
		return c.Request().Body(), nil
	}
	limit := bodyLimitOf(c)
	if cl := c.Request().Header.ContentLength(); cl > limit {
		return nil, tooLarge(limit)
	}
	enc, guarded := c.Locals(localEncoding).(string)
	if !guarded {
		var err error
		if enc, err = contentEncoding(string(c.Request().Header.Peek(fiber.HeaderContentEncoding))); err != nil {
			return nil, err
		}
	}
	src := c.Context().RequestBodyStream()
	if src == nil {
		src = bytes.NewReader(c.Request().Body())
	}
	body, err := decodeBody(src, enc, limit)
	if err != nil {
		return nil, err
	}
	c.Request().Header.Del(fiber.HeaderContentEncoding)
	c.Request().SetBodyRaw(body) // also releases the stream, which was read to its end
	c.Locals(localBodyRead, true)
	return body, nil
}

// decodeBody reads src, gunzipping it if enc says so, with limit on both sides.
func decodeBody(src io.Reader, enc string, limit int) ([]byte, error) {
	var r io.Reader = &capReader{r: src, left: int64(limit)}
	if enc == "gzip" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		defer zr.Close()
		r = &capReader{r: zr, left: int64(limit)}
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, bodyError(err, limit)
	}
	return body, nil
}

func bodyError(err error, limit int) error {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return tooLarge(limit)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Errorf(domain.CodeBadRequest, "malformed gzip body")
	}
	// A connection that broke or timed out mid-body, or a broken deflate stream:
	// either way the body as sent cannot be read.
	return domain.Errorf(domain.CodeBadRequest, "request body could not be read")
}

// capReader passes at most left bytes through and fails with errBodyTooLarge
// on the first byte beyond: the caller stops reading the moment the cap is
// passed, whatever the source would still yield.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errBodyTooLarge
	}
	return n, err
}
