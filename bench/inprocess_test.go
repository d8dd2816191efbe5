package bench

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

// startInProcess serves db on a loopback port until the benchmark ends.
func startInProcess(tb testing.TB, db *store.DB) string {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	srv, err := server.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}
