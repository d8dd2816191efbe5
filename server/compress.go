package server

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	gosync "sync"

	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/gzip"
)

// Responses are gzipped when the client accepts it (docs/api.md "Compression").
// Phones on weak links pay per megabyte; a pull page of JSON rows shrinks about
// eightfold. Only gzip is offered: it is what mobile HTTP stacks (OkHttp,
// NSURLSession, Go's net/http) send and decode by default, and at level 1 it
// costs the server little (docs/benchmarks.md "Bytes on the wire").

// compressMinBytes: below this a body goes plain. Headers and the gzip framing
// (18 bytes) make compressing a few hundred bytes cost more than it saves.
const compressMinBytes = 1 << 10

// compressor gzips response bodies at one level, reusing writers.
type compressor struct {
	level int
	pool  gosync.Pool // *gzip.Writer
	bufs  gosync.Pool // *bytes.Buffer
}

func newCompressor(level int) (*compressor, error) {
	if _, err := gzip.NewWriterLevel(nil, level); err != nil {
		return nil, fmt.Errorf("gzip level %d: %w", level, err)
	}
	return &compressor{level: level}, nil
}

// handler compresses what the handlers below it wrote. Errors pass through
// untouched: their bodies are small and rendered further out (observe).
func (z *compressor) handler(c *fiber.Ctx) error {
	if err := c.Next(); err != nil {
		return err
	}
	resp := c.Response()
	if c.Method() == fiber.MethodHead || resp.IsBodyStream() || len(resp.Header.Peek(fiber.HeaderContentEncoding)) > 0 ||
		!compressibleType(resp.Header.ContentType()) {
		return nil
	}
	body := resp.Body()
	if len(body) < compressMinBytes {
		return nil
	}
	// The same URL answers differently by Accept-Encoding from here on: caches
	// must key on it, whichever answer this one is.
	resp.Header.Add(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if !acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		return nil
	}
	buf, _ := z.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer z.bufs.Put(buf)
	buf.Reset()
	zw, _ := z.pool.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(buf, z.level) // level checked in newCompressor
	} else {
		zw.Reset(buf)
	}
	_, err := zw.Write(body)
	if err == nil {
		err = zw.Close()
	}
	z.pool.Put(zw)
	if err != nil {
		return fmt.Errorf("gzip response: %w", err)
	}
	resp.SetBody(buf.Bytes()) // copies; Content-Length follows the new body
	resp.Header.Set(fiber.HeaderContentEncoding, "gzip")
	// A strong validator names exact bytes: the gzipped body gets its own.
	if etag := resp.Header.Peek(fiber.HeaderETag); len(etag) > 1 && etag[0] == '"' {
		resp.Header.Set(fiber.HeaderETag, string(etag[:len(etag)-1])+`-gzip"`)
	}
	return nil
}

// compressibleType: text and JSON compress well; images and archives do not.
func compressibleType(ct []byte) bool {
	t := string(ct)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case strings.HasPrefix(t, "text/"), strings.HasSuffix(t, "+json"), strings.HasSuffix(t, "+xml"):
		return true
	}
	switch t {
	case fiber.MIMEApplicationJSON, "application/javascript", "application/xml", "image/svg+xml":
		return true
	}
	return false
}

// acceptsGzip reads an Accept-Encoding header (RFC 9110 §12.5.3): gzip, x-gzip
// or * with a q-value above zero.
func acceptsGzip(h string) bool {
	star := false
	for item := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(item, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		ok := qAboveZero(params)
		if name == "*" {
			star = ok
			continue
		}
		return ok // an explicit gzip entry wins over *
	}
	return star
}

func qAboveZero(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(p), "=")
		if found && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
	}
	return true
}

// gzipLevel 1 (best speed) was chosen by measurement on the 2-core machine
// (docs/benchmarks.md "Bytes on the wire"): higher levels shrink pull pages a
// few percent more for several times the CPU.
const gzipLevel = gzip.BestSpeed
