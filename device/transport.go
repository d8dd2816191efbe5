package device

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return fmt.Errorf("encode %s %s: %w", method, path, err)
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
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return serverError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
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
// unchanged later: a network failure, a 5xx or a 429. The outbox is intact
// after any of them, and resending is safe.
func IsRetryable(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Retryable()
	}
	var ue *url.Error // what http.Client.Do returns for a network failure
	return errors.As(err, &ue) && !errors.Is(err, context.Canceled)
}
