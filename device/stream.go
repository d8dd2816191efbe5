package device

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// FollowOptions tune Follow.
type FollowOptions struct {
	// OnSync receives the outcome of every Sync that Follow runs (optional).
	OnSync func(SyncReport, error)
	// MinBackoff and MaxBackoff bound the wait before reconnecting after a
	// failure (default 1 s and 1 min); the wait doubles per failure, jittered.
	MinBackoff, MaxBackoff time.Duration
	// IdleTimeout: a stream that sends nothing, not even a heartbeat, this
	// long is taken as dead and reopened (default 45 s: three heartbeats).
	IdleTimeout time.Duration
}

// Follow keeps the change stream (docs/protocol.md §4.5) open and runs Sync
// once per connection and whenever the server says changes in the user's
// scope are ready, so the app needs no polling. It reconnects after network
// failures, 5xx and 429 answers (waiting at least Retry-After) with jittered
// exponential backoff. It returns nil when ctx ends, and an error whose
// domain.ErrorCode is unauthorized when the token stops working (log in
// again). A failed Sync is reported to OnSync and retried at the next event.
func (c *Client) Follow(ctx context.Context, opt FollowOptions) error {
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = time.Second
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(time.Minute, opt.MinBackoff)
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = 45 * time.Second
	}
	backoff := opt.MinBackoff
	for {
		connected, wait, err := c.followOnce(ctx, opt)
		if ctx.Err() != nil {
			return nil
		}
		if domain.ErrorCode(err) == domain.CodeUnauthorized {
			return err
		}
		if connected {
			backoff = opt.MinBackoff
		}
		d := max(wait, backoff/2+rand.N(backoff/2+1))
		backoff = min(backoff*2, opt.MaxBackoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// followOnce holds one connection. connected: the stream was opened (the
// backoff starts over); wait: the server's Retry-After, if it sent one.
func (c *Client) followOnce(ctx context.Context, opt FollowOptions) (connected bool, wait time.Duration, err error) {
	token := c.currentToken()
	if token == "" {
		return false, 0, errNotLoggedIn
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/v1/sync/stream", nil)
	if err != nil {
		return false, 0, fmt.Errorf("build stream request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	// The client's timeout bounds whole requests; a stream has no end.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return false, 0, fmt.Errorf("open stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := serverError(resp)
		var se *ServerError
		if errors.As(err, &se) {
			wait = se.RetryAfter
		}
		return false, wait, err
	}
	// A dead peer (no heartbeat within IdleTimeout) ends the request.
	idle := time.AfterFunc(opt.IdleTimeout, cancel)
	defer idle.Stop()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	event := ""
	for sc.Scan() {
		idle.Reset(opt.IdleTimeout)
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case line == "" && event != "":
			switch event {
			case "changes":
				rep, err := c.Sync(ctx)
				if opt.OnSync != nil && ctx.Err() == nil {
					opt.OnSync(rep, err)
				}
				if domain.ErrorCode(err) == domain.CodeUnauthorized {
					return true, 0, err
				}
			case "revoked":
				return true, 0, domain.Errorf(domain.CodeUnauthorized, "token revoked")
			}
			event = ""
		}
	}
	if err := sc.Err(); err != nil {
		return true, 0, fmt.Errorf("read stream: %w", err)
	}
	return true, 0, errors.New("stream ended")
}
