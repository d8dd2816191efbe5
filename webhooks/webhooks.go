// Package webhooks delivers the outbox of order and conflict events to the
// endpoints ops registered (the ERP), signed as the Standard Webhooks
// specification says: headers webhook-id (the event's idempotency id, the
// same on every retry), webhook-timestamp (Unix seconds of the attempt) and
// webhook-signature ("v1,<base64 HMAC-SHA256 of id.timestamp.body>" under the
// endpoint's whsec_ secret). Delivery is at least once: an attempt that gets
// no 2xx is retried with exponential backoff; one per subject and endpoint at
// a time, in event order (store/webhooks.go).
package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/fieldsync/fieldsync/store"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The defaults of Options (docs/api.md, "ERP webhooks"). An operator sets
// Timeout and Backoff (FIELDSYNC_WEBHOOK_TIMEOUT, FIELDSYNC_WEBHOOK_BACKOFF).
const (
	DefaultTimeout    = 10 * time.Second
	DefaultBackoff    = 5 * time.Second
	DefaultMaxBackoff = 10 * time.Minute
)

// Options tune a Dispatcher; zero values take the defaults.
type Options struct {
	// Lease is how long a claimed delivery is this dispatcher's: longer than
	// Timeout, so a live dispatcher never loses a delivery it is sending.
	Lease   time.Duration
	Timeout time.Duration
	// Backoff is the wait after the first failed attempt, doubled after each
	// further one up to MaxBackoff. MaxAttempts failed attempts give up (the
	// delivery is failed; ops may replay it).
	Backoff     time.Duration
	MaxBackoff  time.Duration
	MaxAttempts int
	// Batch is how many deliveries one round claims, and so how many
	// requests a dispatcher has in flight at most (RunOnce sends them at
	// once).
	Batch  int
	Client *http.Client
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Lease <= 0 {
		o.Lease = 3 * o.Timeout
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 50 // about 7 hours of retries at the defaults
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Dispatcher sends due deliveries. Several may run, in one process or many.
type Dispatcher struct {
	db  *store.DB
	opt Options
}

func New(db *store.DB, opt Options) *Dispatcher { return &Dispatcher{db: db, opt: opt.withDefaults()} }

// Backoff is the wait before the next attempt after attempts failed ones.
func Backoff(attempts int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// NewSecret returns a fresh signing secret, "whsec_" and 32 random bytes in
// base64 as the specification writes them.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature header of body sent as id at ts.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return wh.Sign(id, ts, body)
}

// RunOnce claims one batch of due deliveries and sends them; it returns how
// many it sent successfully.
//
// A batch's claims are sent at once. They are of distinct subjects (a
// delivery is claimed only when it is the first pending one of its subject
// for its endpoint), so each order's events still go in order. Sent one after
// another, a batch behind a slow endpoint would outlive its lease: its later
// claims, leased but not yet sent, would be claimed and sent by another
// instance too, and one hanging endpoint would hold back every other
// endpoint's deliveries. At once, every attempt ends within the timeout, well
// inside the lease (3 x the timeout).
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	claims, err := d.db.ClaimWebhookDeliveries(ctx, d.opt.Lease, d.opt.Batch)
	if err != nil {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ok   int
		errs []error
	)
	for _, c := range claims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent, err := d.attempt(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			if sent {
				ok++
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ok, ctx.Err() // shutting down: unfinished leases expire and another attempt follows
	}
	return ok, errors.Join(errs...)
}

// attempt sends one claimed delivery and records the outcome: delivered, or
// retried after the backoff, or failed after the last attempt. It reports
// whether the endpoint took the event; an error is the database's, or ctx's
// end, when the outcome is left unrecorded.
func (d *Dispatcher) attempt(ctx context.Context, c store.Claim) (bool, error) {
	status, err := d.send(ctx, c)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var next *time.Time
	msg := ""
	if err != nil {
		msg = err.Error()
		if c.Attempts < d.opt.MaxAttempts {
			t := d.db.Now().Add(Backoff(c.Attempts, d.opt.Backoff, d.opt.MaxBackoff))
			next = &t
		}
		d.opt.Logger.WarnContext(ctx, "webhook delivery failed", "delivery", c.ID, "event", c.EventID,
			"endpoint", c.EndpointID, "attempt", c.Attempts, "err", msg)
	}
	if ferr := d.db.FinishWebhookDelivery(ctx, c.ID, err == nil, status, msg, next); ferr != nil {
		return false, ferr
	}
	return err == nil, nil
}

// Run sends due deliveries every interval until ctx ends, draining the
// backlog between ticks.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := d.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.opt.Logger.WarnContext(ctx, "webhook dispatch", "err", err)
			}
			if err != nil || n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// send makes one attempt; a 2xx answer is success.
func (d *Dispatcher) send(ctx context.Context, c store.Claim) (int, error) {
	ts := d.db.Now()
	sig, err := Sign(c.Secret, c.EventID, ts, c.Payload)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Payload))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Fieldsync-Webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, c.EventID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := d.opt.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
