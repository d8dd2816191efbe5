package device_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
)

// A rep's day with the SDK: sign in, sync, list today's visits, check in and
// out of one with an order taken, and sync the day's work back. It runs against
// a real Fieldsync server started in this process on the demo organisation
// (fieldsync seed --demo); an app passes its server's URL instead.
func Example() {
	ctx := context.Background()
	serverURL, stop := startDemoServer(ctx) // e.g. "https://fieldsync.example.com"
	defer stop()
	dir, _ := os.MkdirTemp("", "fieldsync-example")
	defer os.RemoveAll(dir)

	// One file per installation: the mirror of the user's scope and the outbox.
	// The token goes to a TokenStore (here the default 0600 file beside it).
	c, err := device.Open(ctx, filepath.Join(dir, "device.db"), device.Options{
		ServerURL: serverURL, DeviceName: "Rita's phone",
		Clock: func() time.Time { return demoDay }, // an app leaves the clock alone
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	user, err := c.Login(ctx, "rep@demo.fieldsync.dev", "demo-rep-pass")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil { // the first sync pulls the whole scope
		log.Fatal(err)
	}
	fmt.Println("signed in as", user.Name, "("+string(user.Role)+")")

	// From here on everything works offline, on the local mirror.
	today, err := c.TodaysVisits(ctx) // the signed-in rep's own, in local time
	if err != nil {
		log.Fatal(err)
	}
	var next domain.Visit
	for _, v := range today {
		if v.Status == domain.VisitPlanned {
			next = v
			break
		}
	}
	acc, _ := c.Account(ctx, next.AccountID)
	products, _ := c.Products(ctx)
	if _, err := c.CheckIn(ctx, next.ID, demoDay.Add(time.Minute), 53.55, 9.99); err != nil {
		log.Fatal(err)
	}
	// Lines name a product, a quantity and a discount in percent: 1250 is
	// 12.5 %. Unit prices come from the catalogue; whatever is set is overwritten.
	order, err := c.DraftOrder(ctx, acc.ID, &next.ID, []domain.OrderLine{
		{ProductID: products[0].ID, Quantity: 10, DiscountPct: 1250},
	}, "delivery before Friday")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.SubmitOrder(ctx, order.ID); err != nil {
		log.Fatal(err)
	}
	if _, err := c.CheckOut(ctx, next.ID, demoDay.Add(30*time.Minute), device.OutcomeOrderTaken, "Restocked the shelf"); err != nil {
		log.Fatal(err)
	}
	pending, _ := c.Outbox(ctx)
	fmt.Println("waiting to sync:", len(pending), "changes")

	// Back in signal: push the outbox, pull what changed. A network error
	// leaves the outbox intact; retry later (device.IsRetryable).
	report, err := c.Sync(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pushed:", report.Pushed, "rejected:", report.Rejected)
	done, _ := c.Visit(ctx, next.ID)
	fmt.Println("visit:", done.Status, *done.Outcome)
	// Output:
	// signed in as Rita Rep (rep)
	// waiting to sync: 2 changes
	// pushed: 2 rejected: 0
	// visit: completed order_taken
}

// demoDay is the field day of the example: the demo organisation is generated
// around it, so it has visits planned that day. At noon UTC it is the 23rd in
// the local zone of almost any machine running the example.
var demoDay = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// startDemoServer serves the demo organisation from a new SQLite file on a
// loopback port until stop is called.
func startDemoServer(ctx context.Context) (url string, stop func()) {
	dir, err := os.MkdirTemp("", "fieldsync-server")
	if err != nil {
		log.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "fieldsync.db"), store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := fixtures.Generate(ctx, db, fixtures.Options{Scale: 1, Seed: 1, Demo: true, Months: 1,
		Now: demoDay, HashCost: bcrypt.MinCost}); err != nil {
		log.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	// Attachment bytes stay in the temporary directory, not the working one.
	cfg.UploadDir, cfg.BlobDir = filepath.Join(dir, "uploads"), filepath.Join(dir, "blobs")
	srv, err := server.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(sctx, ln) }()
	return "http://" + ln.Addr().String(), func() {
		cancel()
		<-done
		_ = db.Close()
		_ = os.RemoveAll(dir)
	}
}
