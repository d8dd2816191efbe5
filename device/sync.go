package device

import (
	"context"
)

// SyncReport says what one Sync did.
type SyncReport struct {
	Pushed    int // mutations sent (a resend counts again)
	Applied   int
	Merged    int
	Conflicts int // see Conflicts()
	Rejected  int // see Failed()

	Pulled     int  // changes received
	Deleted    int  // of those, deletes of rows deleted on the server
	OutOfScope int  // of those, deletes of rows that left the user's scope
	Reset      bool // the server reset the cursor: the mirror was rebuilt
	Pages      int
}

// Sync pushes the outbox, then pulls until the mirror is current. On an error
// it stops where it is: the outbox and the cursor are intact, and calling Sync
// again is always safe (IsRetryable tells whether it is worth it now).
func (c *Client) Sync(ctx context.Context) (SyncReport, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var rep SyncReport
	if c.currentToken() == "" {
		return rep, errNotLoggedIn
	}
	if err := c.push(ctx, &rep); err != nil {
		return rep, err
	}
	err := c.pull(ctx, &rep)
	return rep, err
}

// Push only pushes the outbox.
func (c *Client) Push(ctx context.Context) (SyncReport, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var rep SyncReport
	if c.currentToken() == "" {
		return rep, errNotLoggedIn
	}
	err := c.push(ctx, &rep)
	return rep, err
}

// Pull only pulls.
func (c *Client) Pull(ctx context.Context) (SyncReport, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var rep SyncReport
	if c.currentToken() == "" {
		return rep, errNotLoggedIn
	}
	err := c.pull(ctx, &rep)
	return rep, err
}
