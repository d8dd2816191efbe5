package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/wire"
)

// client speaks the device API over plain HTTP, the way a phone would, without
// the SDK's local database: the benchmark measures the server, not SQLite.
type client struct {
	base  string
	http  *http.Client
	token string
	// gzipRequests: bodies of 1 KiB or more go gzipped, as the device SDK
	// sends them.
	gzipRequests bool
}

func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
}

func login(ctx context.Context, hc *http.Client, base, email, password, device string) (*client, error) {
	var resp wire.LoginResponse
	c := &client{base: base, http: hc}
	if err := c.do(ctx, http.MethodPost, "/v1/auth/login", wire.LoginRequest{Email: email, Password: password, DeviceID: device}, &resp); err != nil {
		return nil, fmt.Errorf("login %s: %w", device, err)
	}
	c.token = resp.Token
	return c, nil
}

func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	zipped := false
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if c.gzipRequests && len(b) >= 1<<10 {
			if b, err = gzipBody(b); err != nil {
				return err
			}
			zipped = true
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if zipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

func (c *client) pull(ctx context.Context, cursor string, limit int) (wire.PullResponse, error) {
	var resp wire.PullResponse
	q := url.Values{"limit": {fmt.Sprint(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	err := c.do(ctx, http.MethodGet, "/v1/sync/pull?"+q.Encode(), nil, &resp)
	return resp, err
}

// initialSync pulls from nothing until done; it returns the changes received and
// the final cursor.
func (c *client) initialSync(ctx context.Context, limit int) (int, string, error) {
	return c.pullFrom(ctx, "", limit)
}

// pullFrom pulls from cursor until done.
func (c *client) pullFrom(ctx context.Context, cursor string, limit int) (int, string, error) {
	n := 0
	for {
		resp, err := c.pull(ctx, cursor, limit)
		if err != nil {
			return n, cursor, err
		}
		n += len(resp.Changes)
		cursor = resp.Cursor
		if !resp.HasMore {
			return n, cursor, nil
		}
	}
}

// pushVisits pushes batches of 100 visit creates until stop; it returns how many
// mutations were applied.
func (c *client) pushVisits(ctx context.Context, device string, accountIDs []string, stop time.Time, rng *rand.Rand) (int, error) {
	n := 0
	for time.Now().Before(stop) {
		k, err := c.pushBatch(ctx, device, accountIDs, 100, rng)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// latencies collects request durations from many goroutines.
type latencies struct {
	mu gosync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) quantile(q float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	return l.d[min(len(l.d)-1, int(q*float64(len(l.d))))]
}
