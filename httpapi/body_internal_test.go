package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

// countingReader counts the bytes its reader handed out.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endlessGzip is a gzip stream of JSON whitespace that never ends: a bomb no
// decoder can inflate to its end, so only a cap lets decodeBody return.
func endlessGzip(t *testing.T) io.Reader {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		chunk := bytes.Repeat([]byte{' '}, 64<<10)
		for {
			if _, err := zw.Write(chunk); err != nil {
				return // the reader gave up: the test is over
			}
		}
	}()
	t.Cleanup(func() { _ = pr.Close() })
	return pr
}

func TestDecodeBody_BombStopsAtTheLimit(t *testing.T) {
	const limit = 4 << 10
	src := &countingReader{r: endlessGzip(t)}
	_, err := decodeBody(src, "gzip", limit)
	if domain.ErrorCode(err) != domain.CodeTooLarge {
		t.Fatalf("err = %v, want too_large", err)
	}
	// Spaces compress about 1000:1: the decoder stops after a few KiB of wire
	// bytes, where an uncapped one would read forever.
	if src.n > 64<<10 {
		t.Errorf("read %d compressed bytes for a %d-byte limit", src.n, limit)
	}
}

func TestDecodeBody_RawStopsAtTheLimit(t *testing.T) {
	const limit = 4 << 10
	src := &countingReader{r: io.MultiReader(bytes.NewReader(make([]byte, 1<<20)))}
	_, err := decodeBody(src, "", limit)
	if domain.ErrorCode(err) != domain.CodeTooLarge {
		t.Fatalf("err = %v, want too_large", err)
	}
	if src.n > limit+1 {
		t.Errorf("read %d bytes for a %d-byte limit", src.n, limit)
	}
}

func TestDecodeBody_ExactlyTheLimit(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bytes.Repeat([]byte{' '}, 100))
	_ = zw.Close()
	for _, tc := range []struct {
		name, enc string
		src       []byte
	}{{"Plain", "", bytes.Repeat([]byte{' '}, 100)}, {"Gzip", "gzip", buf.Bytes()}} {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := decodeBody(bytes.NewReader(tc.src), tc.enc, 100); err != nil || len(b) != 100 {
				t.Errorf("at the limit: %d bytes, %v", len(b), err)
			}
			if _, err := decodeBody(bytes.NewReader(tc.src), tc.enc, 99); domain.ErrorCode(err) != domain.CodeTooLarge {
				t.Errorf("one byte over: %v", err)
			}
		})
	}
}
