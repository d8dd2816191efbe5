package device_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
)

// world is a fake server with one territory, account and product, and a rep
// signed in on a fresh device file.
type world struct {
	f         *fakeServer
	c         *device.Client
	path      string
	repID     string
	territory string
	account   string
	product   string
}

func newWorld(t *testing.T, opt device.Options) *world {
	t.Helper()
	w := &world{f: newFakeServer(t), path: filepath.Join(t.TempDir(), "device.db")}
	w.repID = w.f.addUser("rep@example.com", "secret", domain.RoleRep)
	w.territory, w.account, w.product = uuid.NewString(), uuid.NewString(), uuid.NewString()
	w.f.put(domain.TableTerritories, map[string]any{"id": w.territory, "name": "North", "parent_id": nil})
	w.f.put(domain.TableAccounts, map[string]any{"id": w.account, "name": "Bakery Hansen", "territory_id": w.territory,
		"owner_id": nil, "class": "A", "status": "active", "address": "Main St 1", "phone": "+4512345678",
		"email": "shop@example.com", "lat": 55.67, "lng": 12.56})
	w.f.put(domain.TableProducts, map[string]any{"id": w.product, "sku": "FLOUR-1", "name": "Flour",
		"unit_price_cents": 1250, "currency": "EUR", "active": true})
	w.c = w.open(t, opt)
	if _, err := w.c.Login(context.Background(), "rep@example.com", "secret"); err != nil {
		t.Fatalf("login: %v", err)
	}
	return w
}

func (w *world) open(t *testing.T, opt device.Options) *device.Client {
	t.Helper()
	opt.ServerURL = w.f.srv.URL
	c, err := device.Open(context.Background(), w.path, opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustSync(t *testing.T, c *device.Client) device.SyncReport {
	t.Helper()
	rep, err := c.Sync(context.Background())
	if err != nil {
		t.Fatalf("sync: %v (report %+v)", err, rep)
	}
	return rep
}

func outbox(t *testing.T, c *device.Client) []device.OutboxEntry {
	t.Helper()
	out, err := c.Outbox(context.Background())
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	return out
}

func patchOf(t *testing.T, e device.OutboxEntry) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Patch, &m); err != nil {
		t.Fatalf("patch of %s: %v", e.MutationID, err)
	}
	return m
}

func wantCode(t *testing.T, err error, code domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %s, want %s", err, got, code)
	}
}

func ptr[T any](v T) *T { return &v }
