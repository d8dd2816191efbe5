package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"golang.org/x/crypto/bcrypt"
)

// erpReceiver is the ERP's webhook endpoint: a real HTTP server that
// verifies every Standard Webhooks signature, and that the test makes fail
// (503), hang after taking an event in (the sender is killed before it hears
// back), or take events in.
type erpReceiver struct {
	t      *testing.T
	secret string
	clock  func() time.Time

	mu       sync.Mutex
	mode     string   // "down", "hang" or "up"
	attempts []string // webhook-id of every request
	taken    []taken  // events taken in (answered 200, or hung after)
	changed  chan struct{}
	hung     chan struct{} // closed when a request hangs
	release  chan struct{} // closed to end hung requests
}

type taken struct{ ID, Type, Order string }

func (r *erpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	wh, _ := standardwebhooks.NewWebhook(r.secret)
	// The test's clock is not the wall clock: the signature is checked, and
	// the timestamp is checked against the test's clock.
	if err := wh.VerifyIgnoringTimestamp(body, req.Header); err != nil {
		r.t.Errorf("bad signature: %v", err)
		w.WriteHeader(400)
		return
	}
	if ts := req.Header.Get("webhook-timestamp"); ts != strconv.FormatInt(r.clock().Unix(), 10) {
		r.t.Errorf("webhook-timestamp %s, clock %d", ts, r.clock().Unix())
	}
	var p struct {
		Type string `json:"type"`
		Data struct {
			Order struct{ ID string } `json:"order"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("payload: %v", err)
	}
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	mode := r.mode
	r.attempts = append(r.attempts, id)
	if mode != "down" {
		r.taken = append(r.taken, taken{ID: id, Type: p.Type, Order: p.Data.Order.ID})
	}
	r.mu.Unlock()
	r.notify()
	switch mode {
	case "down":
		w.WriteHeader(503)
	case "hang":
		close(r.hung)
		<-r.release
	}
}

func (r *erpReceiver) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *erpReceiver) set(mode string) { r.mu.Lock(); r.mode = mode; r.mu.Unlock() }

// await waits until ok holds of what the receiver saw. The dispatcher polls
// every second; the bound only stops a test that would otherwise hang.
func (r *erpReceiver) await(what string, ok func(attempts []string, taken []taken) bool) {
	r.t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		r.mu.Lock()
		done := ok(slices.Clone(r.attempts), slices.Clone(r.taken))
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("the receiver never saw %s: attempts %v, taken %v", what, r.attempts, r.taken)
		}
	}
}

// awaitDelivery waits until the newest delivery satisfies ok.
func awaitDelivery(t *testing.T, db *store.DB, ok func(domain.WebhookDelivery) bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		list, err := db.ListWebhookDeliveries(context.Background(), store.DeliveryFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && ok(list[0]) {
			return
		}
	}
	t.Fatal("the delivery never reached the expected state")
}

func allDelivered(t *testing.T, db *store.DB) bool {
	list, err := db.ListWebhookDeliveries(context.Background(), store.DeliveryFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.Status != domain.DeliveryDelivered {
			return false
		}
	}
	return true
}

// testClock is the store's clock, moved by the test (backoffs, leases).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// running is a server serving on a loopback port until stop (a kill: its
// context ends, in-flight webhook deliveries are abandoned unrecorded).
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func serveUntilStopped(t *testing.T, srv *server.Server) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ctx, ln) }()
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestWebhooks_KilledMidDeliveryAndRestarted: the ERP's receiver is down
// (503) when the desk confirms an order; it comes back, takes the retry in,
// and the server is killed before it hears the answer; while it is down the
// ERP ships the order and the desk confirms another (through the services,
// as another instance would); a new server on the same database delivers
// everything. Nothing is lost, the duplicate is a retry with the same
// webhook-id, and one order's events arrive in order.
func TestWebhooks_KilledMidDeliveryAndRestarted(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		o := newOffice(t, db)
		clk := &testClock{now: time.Now().UTC().Truncate(time.Second)}
		db.Now = clk.Now
		recv := &erpReceiver{t: t, clock: clk.Now, mode: "down", changed: make(chan struct{}, 1),
			hung: make(chan struct{}), release: make(chan struct{})}
		hs := httptest.NewServer(recv)
		defer hs.Close()
		defer close(recv.release) // before Close, which waits for hung requests
		var ep domain.WebhookEndpoint
		o.as("ops", "POST", "/v1/admin/webhooks", `{"url":"`+hs.URL+`","event_types":["order.confirmed","order.shipped"]}`, 201, &ep)
		recv.secret = ep.Secret
		key := o.newKey("ERP")
		a, b := o.submittedOrder("rep1", o.acc1), o.submittedOrder("rep1", o.acc1)

		first := serveUntilStopped(t, o.srv)
		o.transition("coord1", a.ID, map[string]any{"to": "confirmed", "expected_version": 2}, 200)
		recv.await("a failed attempt", func(at []string, _ []taken) bool { return len(at) == 1 })
		// The failure recorded (its retry scheduled from the clock) before
		// the clock moves past the backoff.
		awaitDelivery(t, db, func(d domain.WebhookDelivery) bool { return d.LastStatus != nil && *d.LastStatus == 503 })

		recv.set("hang")
		clk.add(time.Minute) // past the backoff: the retry is due
		<-recv.hung
		first.stop(t) // killed while the receiver holds the event

		ctx := context.Background()
		v := int64(2)
		if _, err := backoffice.NewOrderDesk(db).Transition(ctx, domain.Caller{UserID: o.coord1, Role: domain.RoleCoordinator},
			b.ID, backoffice.TransitionInput{To: domain.OrderConfirmed, ExpectedVersion: &v}); err != nil {
			t.Fatal(err)
		}
		at := clk.Now().Add(-time.Hour)
		if _, err := backoffice.NewERPImport(db).Report(ctx, domain.Integration{KeyID: key.ID, Name: key.Name},
			domain.ERPReport{ERPRef: "SHP-A", OrderID: a.ID, Status: domain.OrderShipped, ShippedAt: &at}); err != nil {
			t.Fatal(err)
		}

		recv.set("up")
		cfg := server.DefaultConfig()
		cfg.BcryptCost = bcrypt.MinCost
		restarted, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		clk.add(5 * time.Minute) // past the dead server's lease
		second := serveUntilStopped(t, restarted)
		defer second.stop(t)
		recv.await("every event", func(_ []string, tk []taken) bool { return len(tk) == 4 })
		awaitDelivery(t, db, func(domain.WebhookDelivery) bool { return allDelivered(t, db) })

		deliveries, err := db.ListWebhookDeliveries(ctx, store.DeliveryFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		events := map[string]string{} // webhook-id -> type, of every queued event
		for _, d := range deliveries {
			events[d.EventID] = d.EventType
			if d.Status != domain.DeliveryDelivered {
				t.Errorf("delivery %+v", d)
			}
		}
		if len(events) != 3 {
			t.Fatalf("queued %v, want a's confirmation and shipping and b's confirmation", events)
		}
		recv.mu.Lock()
		defer recv.mu.Unlock()
		for _, id := range recv.attempts {
			if events[id] == "" {
				t.Errorf("attempt with id %s of no event", id)
			}
		}
		seen := map[string]int{}
		var ofA, aIDs []string
		for _, tk := range recv.taken {
			seen[tk.ID]++
			if tk.Order == a.ID {
				ofA, aIDs = append(ofA, tk.Type), append(aIDs, tk.ID)
			}
		}
		for id, typ := range events {
			if seen[id] == 0 {
				t.Errorf("%s %s never taken in", typ, id)
			}
		}
		// a's confirmation twice (the retry of the killed attempt, same id),
		// then its shipping, which waited behind it.
		if want := []string{domain.EventOrderConfirmed, domain.EventOrderConfirmed, domain.EventOrderShipped}; !slices.Equal(ofA, want) {
			t.Errorf("order a's events taken in as %v, want %v", ofA, want)
		}
		if len(aIDs) == 3 && (aIDs[0] != aIDs[1] || aIDs[1] == aIDs[2]) {
			t.Errorf("the duplicate is not a retry of the same id: %+v", recv.taken)
		}
	})
}
