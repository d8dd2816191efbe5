package device

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// ServerError is a non-2xx answer of the server. It unwraps to the *domain.Error
// of the contract's error body, so domain.ErrorCode(err) works on it.
type ServerError struct {
	Status     int
	Err        *domain.Error
	RetryAfter time.Duration // from a 429's Retry-After, if any
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("server answered %d: %v", e.Status, e.Err)
}

func (e *ServerError) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed later unchanged:
// rate limiting and server-side failures.
func (e *ServerError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// CodeNetwork is the code (domain.ErrorCode) of a NetworkError. It is the
// device's own: the server never sends it.
const CodeNetwork domain.Code = "network"

// NetworkError is a request that got no complete answer: no connection, a
// timeout, a connection cut while the answer was read. The server may or may
// not have acted on it (a push may have been applied); resending is safe, since
// pushes are idempotent. It unwraps both to the transport's error (a *url.Error,
// a net.Error) and to a *domain.Error of code CodeNetwork, so
// domain.ErrorCode(err) reports "network", never "internal".
type NetworkError struct {
	Op  string // "POST /v1/sync/push"
	Err error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("%s: network: %v", e.Op, e.Err) }

func (e *NetworkError) Unwrap() []error {
	return []error{e.Err, &domain.Error{Code: CodeNetwork, Message: e.Err.Error()}}
}

// IsNetworkError reports whether err is (or wraps) a NetworkError.
func IsNetworkError(err error) bool {
	var ne *NetworkError
	return errors.As(err, &ne)
}

// errNotLoggedIn is returned by calls that need a token when there is none.
var errNotLoggedIn = domain.Errorf(domain.CodeUnauthorized, "not logged in")

// call sends one request with the stored token (if any) and decodes a 2xx JSON
// answer into out (nil: ignore the body). body is sent as is when it is []byte,
// otherwise JSON-encoded.
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	return c.callWith(ctx, c.currentToken(), method, path, body, out)
}

func (c *Client) callWith(ctx context.Context, token, method, path string, body, out any) error {
	var rd io.Reader
	zipped := false
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return fmt.Errorf("encode %s %s: %w", method, path, err)
			}
		}
		if len(b) >= gzipRequestMin {
			if z, err := gzipBytes(b); err == nil && len(z) < len(b) {
				b, zipped = z, true
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, rd)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if zipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("Accept", "application/json")
	// Asked for explicitly (not left to http.Transport, which does it only for
	// its own transport and not for a caller's RoundTripper), so decoded here.
	req.Header.Set("Accept-Encoding", "gzip")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	op := method + " " + path
	resp, err := c.http.Do(req)
	if err != nil {
		return &NetworkError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	if err := gunzipBody(resp); err != nil {
		return &NetworkError{Op: op, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return serverError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		if errors.As(err, &syntax) || errors.As(err, &typ) {
			return fmt.Errorf("decode %s: %w", op, err) // the server's answer is wrong
		}
		return &NetworkError{Op: op, Err: err} // cut short: EOF, reset, timeout
	}
	return nil
}

// gzipRequestMin: request bodies this long or longer go gzipped (the server
// decodes them within the same limits, docs/api.md "Compression"). Below it
// the gzip framing and header eat most of the saving. A push of one visit
// create is about 250 bytes; a batch of 100 is about 26 KB, 7 KB gzipped.
const gzipRequestMin = 1 << 10

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gunzipBody replaces a gzipped response body by its decoding.
func gunzipBody(resp *http.Response) error {
	if !strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		return nil
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return fmt.Errorf("gzip response: %w", err)
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{zr, resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	return nil
}

func serverError(resp *http.Response) error {
	se := &ServerError{Status: resp.StatusCode}
	var body wire.ErrorBody
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code == "" {
		se.Err = domain.Errorf(codeForStatus(resp.StatusCode), "%s", http.StatusText(resp.StatusCode))
	} else {
		se.Err = &domain.Error{Code: domain.Code(body.Error.Code), Message: body.Error.Message, Fields: body.Error.Fields}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		se.RetryAfter = time.Duration(s) * time.Second
	}
	return se
}

// codeForStatus names a status that came without the contract's body (a proxy
// in between, say).
func codeForStatus(status int) domain.Code {
	switch status {
	case http.StatusBadRequest:
		return domain.CodeBadRequest
	case http.StatusUnauthorized:
		return domain.CodeUnauthorized
	case http.StatusForbidden:
		return domain.CodeForbidden
	case http.StatusNotFound:
		return domain.CodeNotFound
	case http.StatusRequestEntityTooLarge:
		return domain.CodeTooLarge
	case http.StatusTooManyRequests:
		return domain.CodeRateLimited
	}
	return domain.CodeUnavailable
}

// IsRetryable reports whether err (from Sync or another call) is worth retrying
// unchanged later: a network failure (NetworkError), a 5xx or a 429. The
// outbox is intact after any of them, and resending is safe. A call the caller
// cancelled is not retryable.
func IsRetryable(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Retryable()
	}
	return IsNetworkError(err) && !errors.Is(err, context.Canceled)
}
