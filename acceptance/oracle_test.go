package acceptance

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// snapshot is a whole mirror: table -> id -> row, with the row's version.
type snapshot map[string]map[string]versioned

type versioned struct {
	Version int64
	Row     string // canonical JSON: keys sorted, whitespace dropped
}

// serverScope is the oracle: every row user may hold, straight from the tables
// and the scope rules of the contract, at its current version. It is computed
// by expectedScope (scope_oracle_test.go) with its own queries, not by the
// store's row readers or the engine's scope, which are what it checks.
func (e *env) serverScope(user string) snapshot {
	e.t.Helper()
	return e.expectedScope(user)
}

// mirrorOf reads a device's whole mirror.
func mirrorOf(t *testing.T, c *device.Client) snapshot {
	t.Helper()
	ctx := context.Background()
	out := snapshot{}
	for _, table := range domain.SyncedTables {
		rows, err := c.Rows(ctx, table)
		must(t, err)
		versions, err := c.RowVersions(ctx, table)
		must(t, err)
		out[table] = map[string]versioned{}
		for id, row := range rows {
			out[table][id] = versioned{Version: versions[id], Row: canonical(t, row)}
		}
	}
	return out
}

func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("row is not JSON: %s", raw)
	}
	b, _ := json.Marshal(normalized(v, "")) // maps marshal with sorted keys
	return string(b)
}

// diff lists how got differs from want, one line per row, empty when equal.
func diff(want, got snapshot) []string {
	var out []string
	for _, table := range domain.SyncedTables {
		for id, w := range want[table] {
			g, ok := got[table][id]
			switch {
			case !ok:
				out = append(out, "missing "+table+"/"+id)
			case g.Version != w.Version:
				out = append(out, "stale "+table+"/"+id)
			case g.Row != w.Row:
				out = append(out, "differs "+table+"/"+id+":\n\twant "+w.Row+"\n\tgot  "+g.Row)
			}
		}
		for id := range got[table] {
			if _, ok := want[table][id]; !ok {
				out = append(out, "extra "+table+"/"+id)
			}
		}
	}
	sort.Strings(out)
	return out
}

// mirrorsEqual fails unless two devices hold identical mirrors.
func mirrorsEqual(t *testing.T, a, b *device.Client) {
	t.Helper()
	if d := diff(mirrorOf(t, a), mirrorOf(t, b)); len(d) > 0 {
		t.Errorf("mirrors differ:\n%s", strings.Join(d, "\n"))
	}
}

// converged fails unless the device holds exactly its user's scope, each row
// at the server's current version.
func (e *env) converged(c *device.Client) {
	e.t.Helper()
	want := e.serverScope(c.UserID())
	if d := diff(want, mirrorOf(e.t, c)); len(d) > 0 {
		e.t.Errorf("device of %s is not its scope:\n%s", e.email[c.UserID()], strings.Join(d, "\n"))
	}
	if rowCount(want) == 0 {
		e.t.Error("the oracle is empty: the test proves nothing")
	}
}

func rowCount(s snapshot) int {
	n := 0
	for _, rows := range s {
		n += len(rows)
	}
	return n
}

// recorder is an HTTP transport that keeps every pull page a device received.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	got  []wire.Change
}

func newRecorder() *recorder { return &recorder{base: http.DefaultTransport} }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil || req.URL.Path != "/v1/sync/pull" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	plain := b
	if resp.Header.Get("Content-Encoding") == "gzip" { // the device asks for it
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			plain, _ = io.ReadAll(zr)
		}
	}
	var page wire.PullResponse
	if err := json.Unmarshal(plain, &page); err == nil {
		r.mu.Lock()
		r.got = append(r.got, page.Changes...)
		r.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// take returns the changes received since the last take.
func (r *recorder) take() []wire.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// deletesOf maps table/id -> reason of the deletes among changes.
func deletesOf(changes []wire.Change) map[string]string {
	out := map[string]string{}
	for _, c := range changes {
		if c.Op == "delete" {
			out[c.Table+"/"+c.ID] = c.Reason
		}
	}
	return out
}

// upsertsOf maps table/id -> version of the upserts among changes.
func upsertsOf(changes []wire.Change) map[string]int64 {
	out := map[string]int64{}
	for _, c := range changes {
		if c.Op == "upsert" {
			out[c.Table+"/"+c.ID] = c.Version
		}
	}
	return out
}

func splitKey(key string) (table, id string) {
	table, id, _ = strings.Cut(key, "/")
	return table, id
}

// pullGuard fails a device's pulls after max pages, so a server that answers
// has_more (or reset) forever fails the test instead of hanging it.
type pullGuard struct {
	base  http.RoundTripper
	mu    sync.Mutex
	pages int
	max   int
}

func (g *pullGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/v1/sync/pull" {
		g.mu.Lock()
		g.pages++
		over := g.pages > g.max
		g.mu.Unlock()
		if over {
			return nil, fmt.Errorf("pull guard: more than %d pages: the pull never finishes", g.max)
		}
	}
	return g.base.RoundTrip(req)
}
