// Package servetest serves a Fieldsync server on a loopback port for the
// tests that need a real listener: browsers, the JavaScript libraries, raw TCP
// clients and the change stream.
package servetest

import (
	"context"
	"net"
	"testing"
)

// Server is what Start serves; *server.Server is one (an interface keeps
// this package free of the server's imports, so its own tests can use it).
type Server interface {
	Serve(ctx context.Context, ln net.Listener) error
}

// Start serves srv on a free loopback port until the test ends and returns
// its base URL ("http://127.0.0.1:port"). The cleanup stops the server and
// waits for it, and fails the test if Serve returned an error. Cleanups
// registered before Start run after the server has stopped.
func Start(t testing.TB, srv Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
