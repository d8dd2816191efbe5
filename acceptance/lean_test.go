package acceptance

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

// pushRecorder keeps the decoded push responses a device received and whether
// they came gzipped.
type pushRecorder struct {
	mu      sync.Mutex
	results []wire.MutationResult
	gzipped int
}

func (r *pushRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != "/v1/sync/push" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	body := raw
	zipped := resp.Header.Get("Content-Encoding") == "gzip"
	if zipped {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	var page wire.PushResponse
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.results = append(r.results, page.Results...)
	if zipped {
		r.gzipped++
	}
	r.mu.Unlock()
	return resp, nil
}

// TestPush_LeanResults: applied results carry only the fields the device did
// not send (docs/protocol.md §4.2), and the device rebuilds from them exactly
// the row the server holds, for creates of every kind and for updates, before
// any pull brings the rows back.
func TestPush_LeanResults(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rec := &pushRecorder{}
		rep1 := e.synced(e.rep1, withTransport(rec))
		check := func(what string) {
			t.Helper()
			want, got := e.serverScope(rep1.UserID()), mirrorOf(t, rep1)
			if d := diff(want, got); len(d) > 0 {
				t.Fatalf("%s: device rows differ from the server's:\n%s", what, strings.Join(d, "\n"))
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.results) == 0 {
				t.Fatalf("%s: no push results recorded", what)
			}
			for _, r := range rec.results {
				if r.Status != wire.StatusApplied || len(r.Row) != 0 || len(r.Fields) == 0 {
					t.Errorf("%s: result %+v, want applied with fields and no row", what, r)
				}
			}
			rec.results = nil
		}
		v, err := rep1.PlanVisit(ctx, e.a1, day)
		must(t, err)
		o, err := rep1.DraftOrder(ctx, e.a1, nil, []domain.OrderLine{{ProductID: e.p1, Quantity: 3}}, "by the door")
		must(t, err)
		_, err = rep1.AddNote(ctx, e.a1, "Closed on Mondays")
		must(t, err)
		_, err = rep1.Push(ctx)
		must(t, err)
		check("creates")
		_, err = rep1.CheckIn(ctx, v.ID, day.Add(time.Hour), 48.85, 2.35)
		must(t, err)
		_, err = rep1.SubmitOrder(ctx, o.ID)
		must(t, err)
		_, err = rep1.Push(ctx)
		must(t, err)
		check("updates")
		// A batch large enough to be gzipped both ways.
		for range 40 {
			_, err = rep1.PlanVisit(ctx, e.a1, day.Add(48*time.Hour))
			must(t, err)
		}
		_, err = rep1.Push(ctx)
		must(t, err)
		if rec.gzipped == 0 {
			t.Error("a push of 40 results came back plain")
		}
		check("a gzipped batch")
	})
}
