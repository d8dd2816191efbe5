package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestWebhooks_SurviveKill9 runs the ERP webhooks against real `fieldsync
// serve` processes and a real receiver. The receiver fails on purpose (503),
// then holds one request while the process sending it is killed with
// SIGKILL; other processes on the same database (two on Postgres; one at a
// time on SQLite, which refuses a second serve) take over while the ERP ships
// and the desk confirms more orders and the receiver is still down; then it
// comes back. Every event created reaches it; the only repeated webhook-ids
// are retries of one event with the same body; per order the events arrive in
// the order they were created; no event, and no order, is ever sent twice at
// once (one instance at a time); the admin API shows the retried deliveries'
// attempts and last error, and counts exactly the attempts the receiver saw.
//
// The deadlines below only stop a broken run: every wait polls for a state.
func TestWebhooks_SurviveKill9(t *testing.T) {
	for _, tc := range []struct {
		dialect   store.Dialect
		survivors int
	}{{store.Postgres, 2}, {store.SQLite, 1}} {
		t.Run(string(tc.dialect), func(t *testing.T) {
			webhooksSurviveKill9(t, testdb.DSN(t, tc.dialect), tc.survivors)
		})
	}
}

// The dispatcher's settings for the run: a killed process's lease (3 x the
// timeout) runs out in 6 s, and a receiver down for a few attempts is retried
// within seconds of coming back.
const (
	killTestTimeout = "2s"
	killTestBackoff = "200ms"
)

func webhooksSurviveKill9(t *testing.T, dsn string, survivors int) {
	ctx := context.Background()
	t.Setenv("FIELDSYNC_BCRYPT_COST", "4") // the demo passwords: seeding and logins stay fast under -race
	var seedOut bytes.Buffer
	if err := run(ctx, []string{"seed", "--demo", "--months", "1", "--database-url", dsn}, &seedOut, &seedOut); err != nil {
		t.Fatalf("seed: %v\n%s", err, seedOut.String())
	}
	recv := newKillReceiver(t)
	hs := httptest.NewServer(recv)
	t.Cleanup(hs.Close) // registered first: runs after the processes are killed

	first := startServe(t, dsn)
	ops := login(t, first, "ops@demo.fieldsync.dev", "demo-ops-pass")
	var ep domain.WebhookEndpoint
	first.call(t, "POST", "/v1/admin/webhooks", bearer(ops),
		map[string]any{"url": hs.URL + "/erp", "event_types": []string{domain.EventOrderConfirmed, domain.EventOrderShipped, domain.EventOrderDelivered}},
		201, &ep)
	recv.setSecret(ep.Secret)
	var key struct{ Secret string }
	first.call(t, "POST", "/v1/admin/api-keys", bearer(ops), map[string]any{"name": "ERP"}, 201, &key)
	erp := map[string]string{"X-Api-Key": key.Secret}
	coord := bearer(login(t, first, "coordinator@demo.fieldsync.dev", "demo-coordinator-pass"))
	var submitted, confirmed struct{ Items []domain.Order }
	first.call(t, "GET", "/v1/orders?status=submitted&limit=8", coord, nil, 200, &submitted)
	first.call(t, "GET", "/v1/orders?status=confirmed&limit=1", coord, nil, 200, &confirmed)
	if len(submitted.Items) < 3 || len(confirmed.Items) < 1 {
		t.Fatalf("the demo desk holds %d submitted and %d confirmed orders; want at least 3 and 1",
			len(submitted.Items), len(confirmed.Items))
	}

	// want lists the events the test causes, in the order it causes them.
	var want []killEvent
	confirm := func(p *serveProc, o domain.Order) {
		t.Helper()
		p.call(t, "POST", "/v1/orders/"+o.ID+"/transition", coord, map[string]any{"to": "confirmed", "expected_version": o.Version}, 200, nil)
		want = append(want, killEvent{o.ID, domain.EventOrderConfirmed})
	}
	report := func(p *serveProc, orderID, status string) {
		t.Helper()
		at := "shipped_at"
		if status == domain.OrderDelivered {
			at = "delivered_at"
		}
		p.call(t, "POST", "/v1/erp/orders/"+orderID+"/status", erp,
			map[string]any{"erp_ref": status + "-" + orderID, "status": status, at: time.Now().UTC().Format(time.RFC3339)}, 200, nil)
		want = append(want, killEvent{orderID, "order." + status})
	}

	// The receiver fails two attempts (or more) and holds the next: the
	// process sending it dies with the request in the receiver's hands.
	s1 := submitted.Items[0]
	confirm(first, s1)
	recv.await(t, "two failed attempts", func() bool { return len(recv.attempts) >= 2 })
	recv.setMode("hang")
	select {
	case <-recv.hung:
	case <-time.After(time.Minute):
		t.Fatal("the receiver never held a request")
	}
	first.kill(t)
	recv.mu.Lock()
	atKill := len(recv.attempts) // all of them s1's confirmation, the held one last
	recv.mu.Unlock()

	// The receiver stays down while the others start, take the killed
	// process's delivery over once its lease runs out, and events keep coming.
	procs := startServes(t, dsn, survivors)
	next := 0
	via := func() *serveProc { next++; return procs[next%len(procs)] }
	report(via(), s1.ID, domain.OrderShipped) // waits behind s1's confirmation
	for _, o := range submitted.Items[1:] {
		confirm(via(), o)
	}
	report(via(), s1.ID, domain.OrderDelivered)
	p1 := confirmed.Items[0]
	report(via(), p1.ID, domain.OrderShipped)
	report(via(), p1.ID, domain.OrderDelivered)
	s2 := submitted.Items[1]
	report(via(), s2.ID, domain.OrderShipped)

	// Down until the admin API shows the killed delivery retried (an attempt
	// after the held one failed) and every order's first event failed.
	s1Confirmed := func(items []domain.WebhookDelivery) *domain.WebhookDelivery {
		for i := range items {
			if items[i].Subject == "order:"+s1.ID && items[i].EventType == domain.EventOrderConfirmed {
				return &items[i]
			}
		}
		return nil
	}
	opsAuth := bearer(ops)
	var down []domain.WebhookDelivery
	awaitState(t, "the deliveries retried while the receiver is down", &down, func() bool {
		down = deliveries(t, procs[0], opsAuth)
		d := s1Confirmed(down)
		if d == nil || d.Attempts <= atKill || !failedWith503(*d) {
			return false
		}
		firsts := map[string]bool{}
		for _, d := range slices.Backward(down) { // oldest first
			if firsts[d.Subject] {
				continue
			}
			firsts[d.Subject] = true
			if d.Status != domain.DeliveryPending || !failedWith503(d) {
				return false
			}
		}
		return true
	})
	recv.setMode("up")
	var done []domain.WebhookDelivery
	awaitState(t, "every delivery delivered", &done, func() bool {
		done = deliveries(t, procs[len(procs)-1], opsAuth)
		for _, d := range done {
			if d.Status != domain.DeliveryDelivered {
				return false
			}
		}
		return len(done) == len(want)
	})

	// What the outbox holds is what the test caused: nothing more, nothing less.
	slices.Reverse(done) // oldest first: creation order
	eventOf := map[string]killEvent{}
	perOrder := map[string][]string{} // order -> its events' ids, in creation order
	var got []killEvent
	for _, d := range done {
		ev := killEvent{strings.TrimPrefix(d.Subject, "order:"), d.EventType}
		got = append(got, ev)
		eventOf[d.EventID] = ev
		perOrder[ev.Order] = append(perOrder[ev.Order], d.EventID)
	}
	if !slices.Equal(got, want) { // each call committed before the next: creation order is the test's
		t.Fatalf("the outbox holds %v; the test caused %v", got, want)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	for _, v := range recv.violations {
		t.Error(v)
	}
	bodies := map[string][]byte{}
	answered := map[string]int{}   // event id -> 200s
	attempted := map[string]int{}  // event id -> attempts
	lastIndex := map[string]int{}  // order -> index of its latest event attempted
	taken := map[string][]string{} // order -> ids answered 200, in arrival order
	for _, a := range recv.attempts {
		ev, ok := eventOf[a.ID]
		if !ok {
			t.Errorf("attempt with webhook-id %s of no event in the outbox", a.ID)
			continue
		}
		if a.Order != ev.Order || a.Type != ev.Type {
			t.Errorf("webhook-id %s carried %s of %s; the outbox says %s of %s", a.ID, a.Type, a.Order, ev.Type, ev.Order)
		}
		if b, seen := bodies[a.ID]; seen && !bytes.Equal(b, a.Body) {
			t.Errorf("webhook-id %s sent again with another body:\n%s\n%s", a.ID, b, a.Body)
		}
		bodies[a.ID] = a.Body
		attempted[a.ID]++
		i := slices.Index(perOrder[ev.Order], a.ID)
		if last, ok := lastIndex[ev.Order]; ok && i < last {
			t.Errorf("order %s: event %d (%s) attempted after its event %d", ev.Order, i, ev.Type, last)
		}
		lastIndex[ev.Order] = i
		if a.Status == 200 {
			answered[a.ID]++
			taken[ev.Order] = append(taken[ev.Order], a.ID)
		}
	}
	repeats := 0 // events taken in again: legal (at least once) if a sender lost the answer, e.g. to its timeout
	for _, d := range done {
		if answered[d.EventID] == 0 {
			t.Errorf("%s of %s never taken in", d.EventType, d.Subject)
		}
		repeats += max(answered[d.EventID]-1, 0)
		// Every attempt counted by the outbox reached the receiver, the
		// killed one included.
		if d.Attempts != attempted[d.EventID] {
			t.Errorf("%s of %s: the admin API counts %d attempts, the receiver saw %d", d.EventType, d.Subject, d.Attempts, attempted[d.EventID])
		}
		if d.LastStatus == nil || *d.LastStatus != 200 || d.LastError != nil {
			t.Errorf("delivered %s of %s shows last status %v, last error %v", d.EventType, d.Subject, d.LastStatus, d.LastError)
		}
	}
	for order, ids := range perOrder {
		if !slices.Equal(slices.Compact(taken[order]), ids) {
			t.Errorf("order %s: taken in as %v, created as %v", order, taken[order], ids)
		}
	}
	// The killed delivery: failures, the attempt held when the process died,
	// at least one failure after the restart, then the one taken in.
	if d := s1Confirmed(done); d == nil || d.Attempts < atKill+2 {
		t.Errorf("s1's confirmation: %+v; want at least %d attempts", d, atKill+2)
	}
	failures := make([]int, len(procs))
	for i, p := range procs {
		p.mu.Lock()
		failures[i] = strings.Count(p.log.String(), `"msg":"webhook delivery failed"`)
		p.mu.Unlock()
	}
	t.Logf("%d events, %d attempts, %d taken in twice; failed attempts logged by each surviving instance %v; at most %d deliveries to the endpoint in flight at once",
		len(done), len(recv.attempts), repeats, failures, recv.maxInFlight)
}

type killEvent struct{ Order, Type string }

func failedWith503(d domain.WebhookDelivery) bool {
	return d.LastStatus != nil && *d.LastStatus == 503 && d.LastError != nil && strings.Contains(*d.LastError, "503")
}

// killReceiver is the ERP's endpoint: it verifies every request with the
// Standard Webhooks reference library, timestamp tolerance included (the
// processes sign with the real clock), records every attempt and answers
// as the test's script says: "down" 503, "hang" holds the next request until
// its sender is gone (then "down" again), "up" 200.
type killReceiver struct {
	t *testing.T

	mu          sync.Mutex
	secret      string
	mode        string
	attempts    []killAttempt
	inFlight    int
	maxInFlight int
	flightID    map[string]int
	flightOrder map[string]int
	violations  []string
	hung        chan struct{}
	changed     chan struct{}
}

type killAttempt struct {
	ID, Type, Order string
	Body            []byte
	Status          int // 0: held until the sender died
}

func newKillReceiver(t *testing.T) *killReceiver {
	return &killReceiver{t: t, mode: "down", flightID: map[string]int{}, flightOrder: map[string]int{},
		hung: make(chan struct{}), changed: make(chan struct{}, 1)}
}

func (r *killReceiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }
func (r *killReceiver) setMode(m string)   { r.mu.Lock(); r.mode = m; r.mu.Unlock() }

func (r *killReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return // the sender died mid-request
	}
	r.mu.Lock()
	secret := r.secret
	r.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err == nil {
		err = wh.Verify(body, req.Header)
	}
	if err != nil {
		r.t.Errorf("receiver: %v (webhook-id %s)", err, req.Header.Get("webhook-id"))
		w.WriteHeader(400)
		return
	}
	var p struct {
		Type string `json:"type"`
		Data struct {
			Order struct {
				ID string `json:"id"`
			} `json:"order"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("receiver: payload: %v", err)
	}
	a := killAttempt{ID: req.Header.Get("webhook-id"), Type: p.Type, Order: p.Data.Order.ID, Body: body}

	r.mu.Lock()
	if r.flightID[a.ID] > 0 {
		r.violations = append(r.violations, fmt.Sprintf("webhook-id %s sent while another attempt of it was in flight", a.ID))
	}
	if r.flightOrder[a.Order] > 0 {
		r.violations = append(r.violations, fmt.Sprintf("%s of order %s sent while another event of the order was in flight", a.Type, a.Order))
	}
	r.flightID[a.ID]++
	r.flightOrder[a.Order]++
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	switch r.mode {
	case "down":
		a.Status = 503
	case "hang":
		r.mode = "down"
	case "up":
		a.Status = 200
	}
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.flightID[a.ID]--
		r.flightOrder[a.Order]--
		r.inFlight--
		r.mu.Unlock()
		r.notify()
	}()
	if a.Status == 0 {
		close(r.hung)
		<-req.Context().Done() // the sender's connection closed: it was killed
		return
	}
	w.WriteHeader(a.Status)
}

func (r *killReceiver) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// await waits until ok holds (called with the receiver locked).
func (r *killReceiver) await(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		r.mu.Lock()
		done := ok()
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("the receiver never saw %s", what)
		}
	}
}

// awaitState polls ok until it holds; the deadline only stops a broken run,
// which reports the deliveries as last seen.
func awaitState(t *testing.T, what string, seen *[]domain.WebhookDelivery, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(*seen, "", "  ")
			t.Fatalf("never reached: %s; the admin API last showed\n%s", what, b)
		}
	}
}

// serveProc is a `fieldsync serve` child process (this test binary running
// main, as helperProcess does).
type serveProc struct {
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	log  bytes.Buffer
	addr chan string // the address it listens on, once
	dead chan struct{}
}

// startServes starts n processes at once and waits until each listens.
func startServes(t *testing.T, dsn string, n int) []*serveProc {
	t.Helper()
	procs := make([]*serveProc, n)
	for i := range procs {
		procs[i] = launchServe(t, dsn)
	}
	for _, p := range procs {
		p.awaitListening(t)
	}
	return procs
}

func startServe(t *testing.T, dsn string) *serveProc {
	t.Helper()
	p := launchServe(t, dsn)
	p.awaitListening(t)
	return p
}

// launchServe starts a process; awaitListening waits until it listens.
func launchServe(t *testing.T, dsn string) *serveProc {
	t.Helper()
	cmd := helperProcess(t, "main", "serve", "--database-url", dsn, "--addr", "127.0.0.1:0",
		"--webhook-timeout", killTestTimeout, "--webhook-backoff", killTestBackoff)
	dir := t.TempDir()
	// A small pool: each start warms every connection of it.
	cmd.Env = append(cmd.Env, "FIELDSYNC_BLOB_DIR="+dir+"/blobs", "FIELDSYNC_UPLOAD_DIR="+dir+"/uploads",
		"FIELDSYNC_LOG_LEVEL=info", "FIELDSYNC_DB_MAX_CONNS=4")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, dead: make(chan struct{}), addr: make(chan string, 1)}
	addr := p.addr
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.log.Write(line)
			p.log.WriteByte('\n')
			p.mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
				addr <- l.Addr
			}
		}
		_ = cmd.Wait()
		close(p.dead)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.dead
		if t.Failed() {
			p.mu.Lock()
			t.Logf("serve pid %d output:\n%s", cmd.Process.Pid, p.log.String())
			p.mu.Unlock()
		}
	})
	return p
}

func (p *serveProc) awaitListening(t *testing.T) {
	t.Helper()
	select {
	case a := <-p.addr:
		p.base = "http://" + a
	case <-p.dead:
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("serve exited before listening:\n%s", p.log.String())
	case <-time.After(time.Minute):
		t.Fatal("serve never listened")
	}
}

// kill ends the process with SIGKILL (kill -9) and waits for it to be gone.
func (p *serveProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.dead
}

// call makes one API request and wants status; out, when not nil, gets the
// JSON answer.
func (p *serveProc) call(t *testing.T, method, path string, header map[string]string, in any, status int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s; want %d", method, path, resp.StatusCode, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func login(t *testing.T, p *serveProc, email, password string) string {
	t.Helper()
	var tok struct{ Token string }
	p.call(t, "POST", "/v1/auth/login", nil, map[string]any{"email": email, "password": password, "device_id": uuid.NewString()}, 200, &tok)
	return tok.Token
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// deliveries lists every delivery through the admin API, newest first.
func deliveries(t *testing.T, p *serveProc, auth map[string]string) []domain.WebhookDelivery {
	t.Helper()
	var page struct{ Items []domain.WebhookDelivery }
	p.call(t, "GET", "/v1/admin/webhook-deliveries?limit=1000", auth, nil, 200, &page)
	return page.Items
}
