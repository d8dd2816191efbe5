package auth_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

func newService(t *testing.T, db *store.DB) *auth.Service {
	t.Helper()
	svc, err := auth.New(db, auth.Config{BcryptCost: bcrypt.MinCost}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestService_HashPassword(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		h, err := svc.HashPassword("long enough")
		if err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte("long enough")) != nil {
			t.Fatalf("hash %q, %v", h, err)
		}
		for _, pw := range []string{"", "short", strings.Repeat("x", 73)} {
			if _, err := svc.HashPassword(pw); domain.ErrorCode(err) != domain.CodeValidation {
				t.Errorf("HashPassword(%d bytes) = %v, want validation_failed", len(pw), err)
			}
		}
	})
}

func TestService_Verify(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		for _, tok := range []string{"", "x", strings.Repeat("a", 10_000)} {
			if _, err := svc.Verify(context.Background(), tok); domain.ErrorCode(err) != domain.CodeUnauthorized {
				t.Errorf("Verify(%d chars) = %v, want unauthorized", len(tok), err)
			}
		}
	})
}

func TestService_ListDevices_UnknownUser(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		svc := newService(t, db)
		_, err := svc.ListDevices(context.Background(), "6f9619ff-8b86-d011-b42d-00c04fc964ff")
		if domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("err = %v, want not_found", err)
		}
	})
}

func TestNew_RejectsBadCost(t *testing.T) {
	if _, err := auth.New(nil, auth.Config{BcryptCost: 99}, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("bcrypt cost 99 accepted")
	}
}
