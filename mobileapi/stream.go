package mobileapi

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/sync/stream"
	"github.com/gofiber/fiber/v2"
)

// StreamConfig tunes the change streams; zero values take the defaults.
type StreamConfig struct {
	// Heartbeat: how often an idle stream sends a comment line, so proxies
	// keep it open and a dead peer is noticed (default 15 s).
	Heartbeat time.Duration
	// Recheck: how often a stream re-checks its token and its scope even when
	// no notification asked it to (default 30 s).
	Recheck time.Duration
	// Retry: the reconnection delay the stream asks EventSource clients to
	// wait (default 3 s).
	Retry time.Duration
}

func (c StreamConfig) withDefaults() StreamConfig {
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.Recheck <= 0 {
		c.Recheck = 30 * time.Second
	}
	if c.Retry <= 0 {
		c.Retry = 3 * time.Second
	}
	return c
}

// Stream event frames (docs/protocol.md §4.5). None carries row data.
const (
	frameChanges = "event: changes\ndata: {}\n\n"
	framePing    = ": ping\n\n"
	frameRevoked = "event: revoked\ndata: {\"error\":{\"code\":\"unauthorized\",\"message\":\"token revoked\"}}\n\n"
	frameClosing = "event: closing\ndata: {}\n\n"
)

// streamWriteTimeout bounds each write to a stream: a peer that stops reading
// is dropped instead of holding the stream forever.
const streamWriteTimeout = 20 * time.Second

// sseHeaders sets what every event stream answers with: no caching, no
// buffering in proxies (nginx reads X-Accel-Buffering).
func sseHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
}

// openStream subscribes the caller to the hub, or answers 429 past the
// per-user bound.
func openStream(c *fiber.Ctx, d Deps) (*stream.Sub, string, error) {
	p := httpapi.PrincipalOf(c)
	_, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	token = strings.Clone(strings.TrimSpace(token))
	scope, err := d.Scope.Scope(c.UserContext(), p.UserID)
	if err != nil {
		return nil, "", err
	}
	sub, err := d.Hub.Subscribe(p.UserID, p.DeviceID, p.TokenHash, scope)
	if errors.Is(err, stream.ErrTooMany) {
		return nil, "", &auth.RateLimitedError{After: 30 * time.Second,
			Err: domain.Errorf(domain.CodeRateLimited, "at most %d open streams per user", d.Hub.PerUser())}
	}
	return sub, token, err
}

// streamLoop runs one stream until the client goes away, the token stops
// working, or the server shuts down. It calls wake for every wake-up that
// should reach the client and write for heartbeats; either returning false
// (the client is gone) ends the loop.
type streamLoop struct {
	d     Deps
	cfg   StreamConfig
	sub   *stream.Sub
	token string
	w     *bufio.Writer
	conn  net.Conn
}

func (l *streamLoop) write(frame string) bool {
	if l.conn != nil {
		_ = l.conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	}
	if _, err := l.w.WriteString(frame); err != nil {
		return false
	}
	return l.w.Flush() == nil
}

// recheck re-verifies the token and re-resolves the scope. It reports false
// when the token no longer works (revoked device, logged out, deactivated
// user, password or role change: all revoke tokens). A database outage keeps
// the stream: the next check tries again.
func (l *streamLoop) recheck() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.d.Auth.Verify(ctx, l.token); err != nil {
		if domain.ErrorCode(err) == domain.CodeUnauthorized {
			return false
		}
		l.d.Logger.WarnContext(ctx, "stream: re-check token", "err", err)
		return true
	}
	if sc, err := l.d.Scope.Scope(ctx, l.sub.UserID); err == nil {
		l.sub.SetScope(sc)
	} else {
		l.d.Logger.WarnContext(ctx, "stream: re-resolve scope", "err", err)
	}
	return true
}

// run drives the stream. first is the frame sent on connecting; wake is
// called on every notification and returns the frame to send ("" for none)
// and whether to go on.
func (l *streamLoop) run(first string, wake func() (string, bool)) {
	defer l.d.Hub.Unsubscribe(l.sub)
	retry := "retry: " + strconv.Itoa(int(l.cfg.Retry/time.Millisecond)) + "\n"
	if !l.write(retry + first) {
		return
	}
	heartbeat := time.NewTicker(l.cfg.Heartbeat)
	defer heartbeat.Stop()
	check := time.NewTicker(l.cfg.Recheck)
	defer check.Stop()
	for {
		select {
		case <-l.d.Hub.Done():
			l.write(frameClosing)
			return
		case <-l.sub.Ready:
			if l.sub.TakeCheck() && !l.recheck() {
				l.write(frameRevoked)
				return
			}
			frame, ok := wake()
			if !ok || (frame != "" && !l.write(frame)) {
				return
			}
		case <-heartbeat.C:
			if !l.write(framePing) {
				return
			}
		case <-check.C:
			if !l.recheck() {
				l.write(frameRevoked)
				return
			}
		}
	}
}

// stream serves GET /v1/sync/stream: a Server-Sent Events stream that sends
// `changes` whenever a committed write touched the caller's scope, and once on
// connecting (whatever happened while disconnected is then pulled).
func (h syncHandlers) stream(c *fiber.Ctx) error {
	sub, token, err := openStream(c, h.deps)
	if err != nil {
		return err
	}
	sseHeaders(c)
	l := &streamLoop{d: h.deps, cfg: h.deps.Stream.withDefaults(), sub: sub, token: token, conn: c.Context().Conn()}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		l.w = w
		l.run(frameChanges, func() (string, bool) { return frameChanges, true })
	})
	return nil
}
