package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
)

// Bytes on the wire (issue 12): what a rep's phone sends and receives, counted
// on the TCP connection (headers included), with and without compression.

// Bytes counts what went up (requests) and down (responses) a connection.
type Bytes struct{ Up, Down int64 }

// WireFigure is one operation measured plain and compressed.
type WireFigure struct {
	Name          string
	Plain, Zipped Bytes
}

// meter counts the bytes of every connection its dialer opens.
type meter struct{ up, down atomic.Int64 }

func (m *meter) take() Bytes {
	return Bytes{Up: m.up.Swap(0), Down: m.down.Swap(0)}
}

type meteredConn struct {
	net.Conn
	m *meter
}

func (c meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.m.down.Add(int64(n))
	return n, err
}

func (c meteredConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.m.up.Add(int64(n))
	return n, err
}

// meteredLogin logs a device in over a metered connection. compressed: the
// client asks for gzip (Go's transport decodes it) and gzips request bodies
// of 1 KiB or more, as the device SDK does; otherwise everything goes plain.
func meteredLogin(ctx context.Context, base string, s Seeded, device string, compressed bool) (*client, *meter, error) {
	m := &meter{}
	d := &net.Dialer{Timeout: 10 * time.Second}
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		DisableCompression: !compressed,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return meteredConn{Conn: c, m: m}, nil
		},
	}}
	c, err := login(ctx, hc, base, s.RepEmail, s.Password, device)
	if err != nil {
		return nil, nil, err
	}
	c.gzipRequests = compressed
	m.take() // the login is not part of what is measured
	return c, m, nil
}

func gzipBody(b []byte) ([]byte, error) {
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

// visitCreates is a push of n visit creates shaped as the device SDK sends
// them (PlanVisit: account, planned time, status).
func visitCreates(device string, accountIDs []string, n int, results string, rng *rand.Rand) wire.PushRequest {
	req := wire.PushRequest{DeviceID: device, Mutations: make([]wire.Mutation, n), Results: results}
	planned := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	for i := range req.Mutations {
		row, _ := json.Marshal(map[string]string{"account_id": accountIDs[rng.IntN(len(accountIDs))], "planned_at": planned, "status": "planned"})
		req.Mutations[i] = wire.Mutation{MutationID: uuid.NewString(), Table: "visits", Op: "upsert", ID: uuid.NewString(), Row: row}
	}
	return req
}

func (c *client) pushChecked(ctx context.Context, req wire.PushRequest) error {
	var resp wire.PushResponse
	if err := c.do(ctx, http.MethodPost, "/v1/sync/push", req, &resp); err != nil {
		return err
	}
	for _, r := range resp.Results {
		if r.Status != wire.StatusApplied {
			return fmt.Errorf("push result %s: %+v", r.Status, r.Error)
		}
	}
	return nil
}

// wireSizes measures a catch-up of 100 changes and 10,000 pushed visit creates
// (100 pushes of 100), plain and compressed, with full and lean results. It
// writes rows, so it runs after the other measurements.
func wireSizes(ctx context.Context, base string, s Seeded, pushes int, res *Result) error {
	rng := rand.New(rand.NewPCG(11, 12))
	// Catch-up: a device at the end of the log; another pushes 100 visits.
	reader, _, err := meteredLogin(ctx, base, s, "wire-reader", true)
	if err != nil {
		return err
	}
	_, cursor, err := reader.initialSync(ctx, 1000)
	if err != nil {
		return err
	}
	writer, _, err := meteredLogin(ctx, base, s, "wire-writer", false)
	if err != nil {
		return err
	}
	if err := writer.pushChecked(ctx, visitCreates("wire-writer", s.AccountIDs, 100, "", rng)); err != nil {
		return err
	}
	fig := WireFigure{Name: "catch-up of 100 changes (one pull)"}
	for _, compressed := range []bool{false, true} {
		c, m, err := meteredLogin(ctx, base, s, fmt.Sprintf("wire-catchup-%v", compressed), compressed)
		if err != nil {
			return err
		}
		n, _, err := c.pullFrom(ctx, cursor, 1000)
		if err != nil {
			return err
		}
		if n != 100 {
			return fmt.Errorf("catch-up pulled %d changes, want 100", n)
		}
		if compressed {
			fig.Zipped = m.take()
		} else {
			fig.Plain = m.take()
		}
	}
	res.Wire = append(res.Wire, fig)
	for _, results := range []string{wire.ResultsFull, wire.ResultsLean} {
		fig := WireFigure{Name: fmt.Sprintf("%d pushed visit creates (batches of 100), %s results", pushes*100, results)}
		for _, compressed := range []bool{false, true} {
			dev := fmt.Sprintf("wire-push-%s-%v", results, compressed)
			c, m, err := meteredLogin(ctx, base, s, dev, compressed)
			if err != nil {
				return err
			}
			for range pushes {
				if err := c.pushChecked(ctx, visitCreates(dev, s.AccountIDs, 100, results, rng)); err != nil {
					return err
				}
			}
			if compressed {
				fig.Zipped = m.take()
			} else {
				fig.Plain = m.take()
			}
		}
		res.Wire = append(res.Wire, fig)
	}
	return nil
}

// linkSeconds is how long b takes over a link of mbit Mbit/s, both directions
// counted on the same link (a phone's uplink is usually the slower one).
func linkSeconds(b Bytes, mbit float64) float64 {
	return float64(b.Up+b.Down) * 8 / (mbit * 1e6)
}

func writeWire(w io.Writer, r Result) {
	if len(r.Wire) == 0 {
		return
	}
	fmt.Fprintln(w, "\n| bytes on the wire (down / up, headers included) | plain | gzip | at 2 Mbit/s plain → gzip | at 20 Mbit/s plain → gzip |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, f := range r.Wire {
		fmt.Fprintf(w, "| %s | %s / %s | %s / %s | %.1f s → %.1f s | %.2f s → %.2f s |\n", f.Name,
			mb(f.Plain.Down), mb(f.Plain.Up), mb(f.Zipped.Down), mb(f.Zipped.Up),
			linkSeconds(f.Plain, 2), linkSeconds(f.Zipped, 2), linkSeconds(f.Plain, 20), linkSeconds(f.Zipped, 20))
	}
	if r.PullRatePlain > 0 {
		fmt.Fprintf(w, "\nInitial sync via HTTP in the same run (median of 3 each, interleaved): plain %.0f rows/s, gzip %.0f rows/s (%+.0f%%).\n",
			r.PullRatePlain, r.PullRate, 100*(r.PullRate/r.PullRatePlain-1))
	}
}

func mb(n int64) string {
	if n < 100_000 {
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.2f MB", float64(n)/1e6)
}
