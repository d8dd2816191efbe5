package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"time"

	"github.com/fieldsync/fieldsync/wire"
	"github.com/google/uuid"
)

// StreamFigures: one write on one device, the other devices' streams told.
type StreamFigures struct {
	Streams, Rounds, Samples, Missed int
	P50, P99, Max                    time.Duration // push sent -> event received, per stream
	PushP50                          time.Duration // the push request itself
	// AfterP50, AfterP99: from the push's answer (the write committed) to the
	// event; negative when the event came first.
	AfterP50, AfterP99 time.Duration
}

// streamRun measures the change stream (--only stream): opt.Streams devices
// of one rep hold GET /v1/sync/stream open; a further device of the rep
// pushes one visit per round; for each stream, the time from sending the push
// to reading its `changes` event. Rounds are apart by 300 ms, so each event
// belongs to one write; a stream not told within 10 s counts as missed.
func streamRun(ctx context.Context, opt Options) (Result, error) {
	log := opt.Logger
	res := Result{LoadStart: loadAvg()}
	dsn, seeded, drop, err := seededDatabase(ctx, opt.PostgresURL, "fs_bench_stream", opt.Scope, opt.Seed)
	if err != nil {
		return res, err
	}
	defer drop()
	res.ScopeRows = seeded.ScopeRows
	srv, err := startServer(ctx, opt.ServerBinary, dsn, fmt.Sprintf("FIELDSYNC_STREAMS_PER_USER=%d", opt.Streams+10))
	if err != nil {
		return res, err
	}
	defer srv.stop()
	clients, err := loginMany(ctx, srv.base, seeded, opt.Streams, "bench-stream")
	if err != nil {
		return res, err
	}
	writer, err := login(ctx, newHTTPClient(), srv.base, seeded.RepEmail, seeded.Password, "bench-stream-writer")
	if err != nil {
		return res, err
	}
	// One connection per stream, none shared or capped.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	events := make([]chan time.Time, len(clients))
	var ready, ended gosync.WaitGroup
	for i, c := range clients {
		events[i] = make(chan time.Time, 64)
		ready.Add(1)
		ended.Add(1)
		go func() {
			defer ended.Done()
			follow(sctx, hc, srv.base, c.token, events[i], &ready)
		}()
	}
	ready.Wait()
	log.Info("streams open", "streams", len(clients))
	for _, ch := range events { // the event every connection starts with
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			return res, fmt.Errorf("a stream sent no first event")
		}
	}
	f := StreamFigures{Streams: len(clients), Rounds: opt.StreamRounds}
	var lat, after, push latencies
	planned := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	for r := 0; r < opt.StreamRounds; r++ {
		time.Sleep(300 * time.Millisecond)
		row, _ := json.Marshal(map[string]string{"account_id": seeded.AccountIDs[r%len(seeded.AccountIDs)], "planned_at": planned})
		req := wire.PushRequest{DeviceID: "bench-stream-writer", Mutations: []wire.Mutation{{MutationID: uuid.NewString(),
			Table: "visits", Op: "upsert", ID: uuid.NewString(), Row: row}}}
		t0 := time.Now()
		var resp wire.PushResponse
		if err := writer.do(ctx, http.MethodPost, "/v1/sync/push", req, &resp); err != nil {
			return res, err
		}
		t1 := time.Now()
		push.add(t1.Sub(t0))
		deadline := time.After(10 * time.Second)
		for _, ch := range events {
			select {
			case at := <-ch:
				lat.add(at.Sub(t0))
				after.add(at.Sub(t1))
			case <-deadline:
				f.Missed++
			}
		}
	}
	stop()
	ended.Wait()
	f.Samples = len(lat.d)
	f.P50, f.P99, f.Max, f.PushP50 = lat.quantile(0.5), lat.quantile(0.99), lat.quantile(1), push.quantile(0.5)
	f.AfterP50, f.AfterP99 = after.quantile(0.5), after.quantile(0.99)
	res.Stream = f
	res.LoadEnd = loadAvg()
	log.Info("stream", "streams", f.Streams, "rounds", f.Rounds, "p50_ms", ms(f.P50), "p99_ms", ms(f.P99), "max_ms", ms(f.Max), "missed", f.Missed)
	return res, nil
}

// follow holds one stream and sends the arrival time of every `changes`
// event to ch.
func follow(ctx context.Context, hc *http.Client, base, token string, ch chan<- time.Time, ready *gosync.WaitGroup) {
	once := gosync.OnceFunc(ready.Done)
	defer once()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/sync/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	once()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "event: changes") {
			select {
			case ch <- time.Now():
			default:
			}
		}
	}
}
