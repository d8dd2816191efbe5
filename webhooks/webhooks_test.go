package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/fieldsync/fieldsync/webhooks"
	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The example of the Standard Webhooks reference libraries.
func TestSign_SpecVector(t *testing.T) {
	got, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign = %q, %v", got, err)
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	for a := 1; a <= 6; a++ {
		got = append(got, webhooks.Backoff(a, time.Second, 10*time.Second))
	}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff %v", got)
		}
	}
}

// receiver is a real HTTP endpoint that verifies every signature and
// answers 503 while down.
type receiver struct {
	t      *testing.T
	secret string
	clock  func() time.Time
	mu     sync.Mutex
	down   bool
	tries  []string // webhook-id of every request
	got    []delivered
}

type delivered struct {
	ID, Type, Subject string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	wh, _ := standardwebhooks.NewWebhook(r.secret)
	// The clock of the test is not the wall clock: check the signature and
	// that the timestamp is the sender's, separately.
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
			Order struct {
				ID string `json:"id"`
			} `json:"order"`
			OrderID string `json:"order_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("payload: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id := req.Header.Get("webhook-id")
	r.tries = append(r.tries, id)
	if r.down {
		w.WriteHeader(503)
		return
	}
	r.got = append(r.got, delivered{ID: id, Type: p.Type, Subject: p.Data.Order.ID + p.Data.OrderID})
}

func (r *receiver) set(down bool) { r.mu.Lock(); r.down = down; r.mu.Unlock() }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type env struct {
	db    *store.DB
	clock *clock
	recv  *receiver
	ep    domain.WebhookEndpoint
}

func newEnv(t *testing.T, db *store.DB) *env {
	c := &clock{now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	db.Now = c.Now
	e := &env{db: db, clock: c}
	e.recv = &receiver{t: t, secret: webhooks.NewSecret(), clock: c.Now}
	srv := httptest.NewServer(e.recv)
	t.Cleanup(srv.Close)
	var err error
	e.ep, err = db.CreateWebhookEndpoint(context.Background(), domain.WebhookEndpoint{ID: uuid.NewString(), URL: srv.URL,
		Secret: e.recv.secret, EventTypes: domain.WebhookEventTypes()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// move records an order's status change as the desk does, in its own
// transaction; fail rolls the transaction back after the write.
func (e *env) move(t *testing.T, o *domain.Order, to string, fail bool) {
	t.Helper()
	before := *o
	next := *o
	next.Status, next.Version = to, o.Version+1
	err := e.db.InTx(context.Background(), func(tx *store.Tx) error {
		if err := store.RecordOrderChange(tx, domain.OrderChangeBy{Via: domain.ViaAPI}, &before, next); err != nil {
			return err
		}
		if fail {
			return errors.New("the change fails after its event was written")
		}
		return nil
	})
	if (err != nil) != fail {
		t.Fatalf("move: %v", err)
	}
	if !fail {
		*o = next
	}
	e.clock.add(time.Second)
}

func (e *env) drain(t *testing.T, d *webhooks.Dispatcher) {
	t.Helper()
	for range 100 {
		n, err := d.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("dispatch never drained")
}

func TestDispatcher_AtLeastOnceInOrder(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		opt := webhooks.Options{Backoff: time.Minute, MaxBackoff: 10 * time.Minute, Lease: 30 * time.Second, Timeout: 5 * time.Second}
		d := webhooks.New(db, opt)
		a := domain.Order{ID: uuid.NewString(), Status: domain.OrderDraft, Meta: domain.Meta{Version: 1}}
		b := domain.Order{ID: uuid.NewString(), Status: domain.OrderDraft, Meta: domain.Meta{Version: 1}}

		// The receiver is down for an hour while orders move.
		e.recv.set(true)
		e.move(t, &a, domain.OrderSubmitted, false)
		e.move(t, &b, domain.OrderSubmitted, false)
		e.move(t, &a, domain.OrderConfirmed, false)
		e.move(t, &a, domain.OrderCancelled, true) // rolled back: never sent
		e.move(t, &a, domain.OrderShipped, false)
		for range 8 {
			if _, err := d.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.clock.add(8 * time.Minute)
		}
		if len(e.recv.tries) == 0 {
			t.Fatal("no attempt while the receiver was down")
		}
		// A dispatcher claims the first due delivery and dies before it
		// records anything (the server was killed mid-delivery).
		if _, err := db.ClaimWebhookDeliveries(context.Background(), time.Minute, 1); err != nil {
			t.Fatal(err)
		}
		e.recv.set(false)
		e.drain(t, d) // the killed dispatcher's lease still holds its delivery
		e.clock.add(11 * time.Minute)
		e.drain(t, d)

		want := []delivered{{Type: domain.EventOrderSubmitted, Subject: a.ID}, {Type: domain.EventOrderSubmitted, Subject: b.ID},
			{Type: domain.EventOrderConfirmed, Subject: a.ID}, {Type: domain.EventOrderShipped, Subject: a.ID}}
		got := e.recv.got
		if len(got) != len(want) {
			t.Fatalf("delivered %+v, want %+v", got, want)
		}
		ids := map[string]bool{}
		var aOrder []string
		for _, g := range got {
			if ids[g.ID] {
				t.Errorf("event %s delivered twice after success", g.ID)
			}
			ids[g.ID] = true
			if g.Subject == a.ID {
				aOrder = append(aOrder, g.Type)
			}
		}
		if !slices.Equal(aOrder, []string{domain.EventOrderSubmitted, domain.EventOrderConfirmed, domain.EventOrderShipped}) {
			t.Errorf("order A's events arrived as %v", aOrder)
		}
		for _, id := range e.recv.tries {
			if !ids[id] {
				t.Errorf("an attempt carried id %s of no delivered event (a duplicate must be a retry of the same id)", id)
			}
		}
		list, err := db.ListWebhookDeliveries(context.Background(), store.DeliveryFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, dl := range list {
			// The first event of each order was tried while the receiver was
			// down; the later ones of order A waited behind it.
			first := dl.EventType == domain.EventOrderSubmitted
			if dl.Status != domain.DeliveryDelivered || (first && dl.Attempts < 2) || (!first && dl.Attempts != 1) ||
				dl.LastStatus == nil || *dl.LastStatus != 200 {
				t.Errorf("delivery %+v", dl)
			}
		}
	})
}

func TestDispatcher_GiveUpAndReplay(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		d := webhooks.New(db, webhooks.Options{Backoff: time.Second, MaxAttempts: 2})
		o := domain.Order{ID: uuid.NewString(), Status: domain.OrderSubmitted, Meta: domain.Meta{Version: 2}}
		e.recv.set(true)
		e.move(t, &o, domain.OrderConfirmed, false)
		for range 3 {
			if _, err := d.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.clock.add(time.Minute)
		}
		list, _ := db.ListWebhookDeliveries(context.Background(), store.DeliveryFilter{Limit: 10})
		if len(list) != 1 || list[0].Status != domain.DeliveryFailed || list[0].Attempts != 2 ||
			list[0].LastError == nil || *list[0].LastError != "endpoint answered 503" {
			t.Fatalf("after giving up: %+v", list)
		}
		e.recv.set(false)
		if _, err := db.ReplayWebhookDelivery(context.Background(), list[0].ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t, d)
		if len(e.recv.got) != 1 || e.recv.got[0].ID != list[0].EventID {
			t.Fatalf("replay delivered %+v", e.recv.got)
		}
	})
}

// Several dispatchers at once (several server instances): each event reaches
// the receiver once, whatever the interleaving.
func TestDispatcher_OneInstanceAtATime(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for range 20 {
			o := domain.Order{ID: uuid.NewString(), Status: domain.OrderDraft, Meta: domain.Meta{Version: 1}}
			e.move(t, &o, domain.OrderSubmitted, false)
			e.move(t, &o, domain.OrderConfirmed, false)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := webhooks.New(db, webhooks.Options{Batch: 3})
				for range 100 {
					if _, err := d.RunOnce(context.Background()); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		e.drain(t, webhooks.New(db, webhooks.Options{}))
		seen := map[string]int{}
		for _, id := range e.recv.tries {
			seen[id]++
		}
		if len(seen) != 40 {
			t.Errorf("%d distinct events delivered, want 40", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %s sent %d times", id, n)
			}
		}
	})
}

// TestDispatcher_SendsABatchAtOnce: the deliveries of one claimed batch are
// in flight together. An endpoint holds every request until it has two of
// them (two orders' events) at once; sent one after another, the first would
// wait for the second until its timeout, and the rest of the batch, already
// leased, would wait behind it past its lease.
func TestDispatcher_SendsABatchAtOnce(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		var mu sync.Mutex
		inFlight := 0
		both := make(chan struct{})
		held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight++
			if inFlight == 2 {
				close(both)
			}
			mu.Unlock()
			select {
			case <-both:
				w.WriteHeader(http.StatusNoContent)
			case <-r.Context().Done():
			}
		}))
		defer held.Close()
		if _, err := db.CreateWebhookEndpoint(ctx, domain.WebhookEndpoint{ID: uuid.NewString(), URL: held.URL,
			Secret: webhooks.NewSecret(), EventTypes: domain.WebhookEventTypes()}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			o := domain.Order{ID: uuid.NewString(), Status: domain.OrderDraft, Meta: domain.Meta{Version: 1}}
			e.move(t, &o, domain.OrderSubmitted, false)
		}
		sent := make(chan int, 1)
		go func() {
			n, err := webhooks.New(db, webhooks.Options{}).RunOnce(ctx)
			if err != nil {
				t.Error(err)
			}
			sent <- n
		}()
		select {
		case <-both:
		case <-time.After(time.Minute): // only a broken dispatcher gets here
			t.Fatal("the held endpoint never had both orders' events in flight at once")
		}
		if n := <-sent; n != 4 {
			t.Errorf("%d deliveries taken, want 4 (2 events x 2 endpoints)", n)
		}
	})
}
