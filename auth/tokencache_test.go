package auth_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

const cachePassword = "long enough password"

// newUser creates a rep who can log in with cachePassword.
func newUser(t *testing.T, db *store.DB, svc *auth.Service) (id, email string) {
	t.Helper()
	hash, err := svc.HashPassword(cachePassword)
	if err != nil {
		t.Fatal(err)
	}
	id, email = uuid.NewString(), uuid.NewString()[:8]+"@x.io"
	err = db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := store.CreateUser(tx, store.UserRecord{User: domain.User{ID: id, Name: "Rep", Role: domain.RoleRep},
			Email: email, PasswordHash: hash})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, email
}

func login(t *testing.T, svc *auth.Service, email, device string) string {
	t.Helper()
	tok, err := svc.Login(context.Background(), email, cachePassword, device, "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

// revokeBehindItsBack revokes a token by SQL, announcing nothing: only a
// token the cache holds still passes.
func revokeBehindItsBack(t *testing.T, db *store.DB, device string) {
	t.Helper()
	if err := db.Gorm.Exec("UPDATE tokens SET revoked_at = ? WHERE device_id = ?", db.Now(), device).Error; err != nil {
		t.Fatal(err)
	}
}

func frozen(db *store.DB) {
	now := db.Now()
	db.Now = func() time.Time { return now }
}

// One instance: a verified token is served from the cache (a revocation by
// hand-made SQL goes unseen, the documented window); a logout, a device
// revocation and a user's deactivation refuse the token at once; with the
// listener down nothing is cached.
func TestVerify_TokenCache(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		db.OnCommit(svc.NoteCommitted)
		frozen(db)
		user, email := newUser(t, db, svc)
		verify := func(tok string) error { _, err := svc.Verify(ctx, tok); return err }

		svc.ListenerUp()
		cached := login(t, svc, email, "d-cached")
		if err := verify(cached); err != nil {
			t.Fatal(err)
		}
		revokeBehindItsBack(t, db, "d-cached")
		if err := verify(cached); err != nil {
			t.Fatalf("a cached token was read again: %v", err)
		}

		out := login(t, svc, email, "d-logout")
		p, err := svc.Verify(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Logout(ctx, p); err != nil {
			t.Fatal(err)
		}
		if domain.ErrorCode(verify(out)) != domain.CodeUnauthorized {
			t.Error("a logged-out token still passes")
		}

		lost := login(t, svc, email, "d-lost")
		if err := verify(lost); err != nil {
			t.Fatal(err)
		}
		if err := svc.RevokeDevice(ctx, "d-lost"); err != nil {
			t.Fatal(err)
		}
		if domain.ErrorCode(verify(lost)) != domain.CodeUnauthorized {
			t.Error("a revoked device's token still passes")
		}

		last := login(t, svc, email, "d-last")
		if err := verify(last); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return store.RevokeUserTokens(tx, user) }); err != nil {
			t.Fatal(err)
		}
		if domain.ErrorCode(verify(last)) != domain.CodeUnauthorized {
			t.Error("a deactivated user's token still passes")
		}

		svc.ListenerDown()
		down := login(t, svc, email, "d-down")
		if err := verify(down); err != nil {
			t.Fatal(err)
		}
		revokeBehindItsBack(t, db, "d-down")
		if domain.ErrorCode(verify(down)) != domain.CodeUnauthorized {
			t.Error("a token was cached while the listener is down")
		}
	})
}

// Two instances on one Postgres: a device revoked through A is refused by
// B once B's listener delivered the revocation's notification (held here by
// the test: until then B's cache may still pass the token).
func TestVerify_TokenCacheHearsOtherInstance(t *testing.T) {
	db := testdb.Open(t, store.Postgres)
	ctx := context.Background()
	a, b := newService(t, db), newService(t, db)
	frozen(db)
	_, email := newUser(t, db, a)

	lctx, stop := context.WithCancel(ctx)
	defer stop()
	up := make(chan struct{}, 4)
	notes := make(chan []string, 64)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.ListenChanges(lctx, slog.New(slog.DiscardHandler), store.ListenHooks{
			Notify: func(keys []string) {
				if slices.Contains(keys, store.DeviceNoteKey+"d-b") {
					<-release
				}
				b.NoteCommitted(keys)
				notes <- keys
			},
			Connected: func() { b.ListenerUp(); up <- struct{}{} },
			Lost:      b.ListenerDown,
		})
	}()
	<-up
	tok := login(t, a, email, "d-b")
	if _, err := b.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeDevice(ctx, "d-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(ctx, tok); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("A, which revoked it, still passes the token: %v", err)
	}
	if _, err := b.Verify(ctx, tok); err != nil {
		t.Fatalf("B before the notification: %v; its cache should still hold the token (this test shows the window)", err)
	}
	close(release)
	for keys := range notes {
		if slices.Contains(keys, store.DeviceNoteKey+"d-b") {
			break
		}
	}
	if _, err := b.Verify(ctx, tok); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("B after the notification: %v, want unauthorized", err)
	}
	stop()
	<-done
}
