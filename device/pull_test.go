package device_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/device"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/wire"
)

func TestClient_Open(t *testing.T) {
	t.Run("PersistsIdentityAndToken", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		deviceID := w.c.DeviceID()
		if err := w.c.Close(); err != nil {
			t.Fatal(err)
		}
		c := w.open(t, device.Options{})
		if c.DeviceID() != deviceID || c.UserID() != w.repID || c.Role() != domain.RoleRep {
			t.Fatalf("reopened: device %s user %s role %s", c.DeviceID(), c.UserID(), c.Role())
		}
		if _, err := c.Sync(ctx); err != nil {
			t.Fatalf("sync on reopened client: %v", err)
		}
		me, err := c.Me(ctx)
		if err != nil || me.User.ID != w.repID {
			t.Fatalf("me: %+v %v", me, err)
		}
	})
	t.Run("LogoutForgetsToken", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		if err := w.c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := w.c.Sync(ctx)
		wantCode(t, err, domain.CodeUnauthorized)
		if len(w.f.tokens) != 0 {
			t.Fatalf("server still holds %d tokens", len(w.f.tokens))
		}
	})
}

func TestPull_Apply(t *testing.T) {
	t.Run("UpsertsDeletesAndOlderVersions", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{PullLimit: 2})
		rep := mustSync(t, w.c)
		if rep.Pulled != 3 || rep.Pages != 2 || rep.Reset {
			t.Fatalf("initial sync report %+v", rep)
		}
		acc, err := w.c.Account(ctx, w.account)
		if err != nil || acc.Name != "Bakery Hansen" || acc.Version != 1 {
			t.Fatalf("account %+v %v", acc, err)
		}

		w.f.put(domain.TableAccounts, map[string]any{"id": w.account, "name": "Bakery Hansen & Son", "territory_id": w.territory,
			"class": "A", "status": "active"})
		mustSync(t, w.c)
		if acc, _ := w.c.Account(ctx, w.account); acc.Name != "Bakery Hansen & Son" || acc.Version != 2 {
			t.Fatalf("after update: %+v", acc)
		}

		cursor, _ := w.c.Cursor(ctx)
		w.f.pages = []wire.PullResponse{{Cursor: cursor + "x", Changes: []wire.Change{
			{Table: domain.TableAccounts, Op: "upsert", ID: w.account, Version: 1, Row: rowJSON(t, map[string]any{"id": w.account, "name": "stale", "version": 1})},
			{Table: domain.TableProducts, Op: "upsert", ID: w.product, Version: 1, Row: rowJSON(t, map[string]any{"id": w.product, "name": "Flour (same version)", "version": 1})},
			{Table: "future_table", Op: "upsert", ID: "x", Version: 1, Row: rowJSON(t, map[string]any{"id": "x"})},
		}}}
		mustSync(t, w.c)
		if acc, _ := w.c.Account(ctx, w.account); acc.Name != "Bakery Hansen & Son" {
			t.Fatalf("an older upsert overwrote the local copy: %+v", acc)
		}
		prods, _ := w.c.Products(ctx)
		if len(prods) != 1 || prods[0].Name != "Flour (same version)" {
			t.Fatalf("an upsert of the same version was not applied: %+v", prods)
		}
		if got, _ := w.c.Cursor(ctx); got != cursor+"x" {
			t.Fatalf("cursor %q, want %q", got, cursor+"x")
		}

		w.f.pages = []wire.PullResponse{{Cursor: cursor, Changes: []wire.Change{
			{Table: domain.TableAccounts, Op: "delete", ID: w.account, Version: 1, Reason: "out_of_scope"},
			{Table: domain.TableProducts, Op: "delete", ID: w.product, Version: 0, Reason: "deleted"},
		}}}
		rep = mustSync(t, w.c)
		if rep.OutOfScope != 1 || rep.Deleted != 1 {
			t.Fatalf("report %+v", rep)
		}
		_, err = w.c.Account(ctx, w.account)
		wantCode(t, err, domain.CodeNotFound)
		if vs, _ := w.c.RowVersions(ctx, domain.TableProducts); len(vs) != 0 {
			t.Fatalf("a delete of an older version was not applied: %v", vs)
		}
	})
	t.Run("ResetKeepsOutbox", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		note, err := w.c.AddNote(ctx, w.account, "call back on monday")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.c.EditAccountContact(ctx, w.account, ptr("+4599999999"), nil, nil); err != nil {
			t.Fatal(err)
		}
		before := outbox(t, w.c)

		w.f.pages = []wire.PullResponse{{Reset: true, Cursor: "fresh", Changes: []wire.Change{
			{Table: domain.TableProducts, Op: "upsert", ID: w.product, Version: 1, Row: rowJSON(t, w.f.row(domain.TableProducts, w.product))},
		}}}
		rep, err := w.c.Pull(ctx)
		if err != nil || !rep.Reset {
			t.Fatalf("pull: %+v %v", rep, err)
		}
		if after := outbox(t, w.c); len(after) != len(before) || after[0].MutationID != before[0].MutationID {
			t.Fatalf("reset touched the outbox: before %+v after %+v", before, after)
		}
		if ts, _ := w.c.Territories(ctx); len(ts) != 0 {
			t.Fatalf("reset kept territories the server did not send again: %+v", ts)
		}
		if _, err := w.c.Note(ctx, note.ID); err != nil {
			t.Fatalf("the unsynced note vanished with the reset: %v", err)
		}

		// The account comes back with the initial sync, the pending contact edit on top.
		w.f.pages = []wire.PullResponse{{Cursor: "0", HasMore: false, Changes: []wire.Change{
			{Table: domain.TableAccounts, Op: "upsert", ID: w.account, Version: 1, Row: rowJSON(t, w.f.row(domain.TableAccounts, w.account))},
		}}}
		if _, err := w.c.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		acc, err := w.c.Account(ctx, w.account)
		if err != nil || acc.Phone == nil || *acc.Phone != "+4599999999" {
			t.Fatalf("account after re-sync lost the pending edit: %+v %v", acc, err)
		}
	})
	t.Run("FailedPageLeavesCursor", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		mustSync(t, w.c)
		cursor, _ := w.c.Cursor(ctx)
		w.f.pages = []wire.PullResponse{{Cursor: "999", Changes: []wire.Change{
			{Table: domain.TableProducts, Op: "upsert", ID: w.product, Version: 7, Row: rowJSON(t, map[string]any{"id": w.product, "name": "Rye", "version": 7})},
			{Table: domain.TableAccounts, Op: "upsert", ID: w.account, Version: 7, Row: json.RawMessage(`5`)},
		}}}
		if _, err := w.c.Sync(ctx); err == nil {
			t.Fatal("a page with a malformed row was applied")
		}
		if got, _ := w.c.Cursor(ctx); got != cursor {
			t.Fatalf("cursor moved to %q past a page that was not applied (was %q)", got, cursor)
		}
		if vs, _ := w.c.RowVersions(ctx, domain.TableProducts); vs[w.product] != 1 {
			t.Fatalf("half of the failed page was applied: %v", vs)
		}
		mustSync(t, w.c) // the fake now serves its log from the old cursor
		if got := w.f.pulls[len(w.f.pulls)-1]; got != cursor {
			t.Fatalf("retry pulled from %q, want %q", got, cursor)
		}
	})
}

func rowJSON(t *testing.T, row map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClient_Login(t *testing.T) {
	t.Run("OtherUserStartsFromScratch", func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t, device.Options{})
		w.f.addUser("second@example.com", "pw", domain.RoleRep)
		mustSync(t, w.c)
		if _, err := w.c.AddNote(ctx, w.account, "unsynced"); err != nil {
			t.Fatal(err)
		}
		_, err := w.c.Login(ctx, "second@example.com", "pw")
		wantCode(t, err, domain.CodeConflict)
		if w.c.UserID() != w.repID || len(w.f.tokens) != 1 {
			t.Fatalf("refused login switched user (%s) or left its token (%d tokens)", w.c.UserID(), len(w.f.tokens))
		}
		mustSync(t, w.c)
		if _, err := w.c.Login(ctx, "second@example.com", "pw"); err != nil {
			t.Fatal(err)
		}
		if cur, _ := w.c.Cursor(ctx); cur != "" {
			t.Fatalf("cursor %q survived a user switch", cur)
		}
		if rows, _ := w.c.Rows(ctx, domain.TableAccounts); len(rows) != 0 {
			t.Fatalf("previous user's mirror survived: %d accounts", len(rows))
		}
	})
	t.Run("BadPassword", func(t *testing.T) {
		w := newWorld(t, device.Options{})
		_, err := w.c.Login(context.Background(), "rep@example.com", "wrong")
		wantCode(t, err, domain.CodeUnauthorized)
		if w.c.UserID() != w.repID {
			t.Fatal("failed login changed the identity")
		}
	})
}
