package backoffice_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

func storedUser(t *testing.T, db *store.DB, id string) store.UserRecord {
	t.Helper()
	var rec store.UserRecord
	err := db.InTx(context.Background(), func(tx *store.Tx) (err error) {
		rec, err = store.GetUser(tx, id, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestAdmin_CreateUser(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		o := newOrg(t, db)
		in := backoffice.UserInput{Email: " Manager@Example.com", Name: "Mona", Role: domain.RoleManager,
			Password: "long enough", TerritoryIDs: []string{o.south, o.north, o.south}}
		u, err := a.CreateUser(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{o.north, o.south}
		slices.Sort(want)
		if u.Email != "manager@example.com" || u.Role != domain.RoleManager || u.Version != 1 ||
			strings.Join(u.TerritoryIDs, ",") != strings.Join(want, ",") {
			t.Errorf("created %+v", u)
		}
		b, _ := json.Marshal(u)
		if strings.Contains(string(b), "password") || strings.Contains(string(b), "$2a$") {
			t.Errorf("user JSON leaks the password: %s", b)
		}
		rec := storedUser(t, db, u.ID)
		if bcrypt.CompareHashAndPassword([]byte(rec.PasswordHash), []byte(in.Password)) != nil {
			t.Error("stored hash does not match the password")
		}
		wantChanges(t, db, u.ID, "upsert "+domain.UserKey(u.ID),
			"upsert "+domain.TerritoryKey(o.north), "upsert "+domain.TerritoryKey(o.south))

		t.Run("ErrDuplicateEmail", func(t *testing.T) {
			dup := in
			dup.Email = "MANAGER@example.com"
			_, err := a.CreateUser(ctx, dup)
			wantCode(t, err, domain.CodeConflict)
		})
		t.Run("ErrDuplicateID", func(t *testing.T) {
			dup := in
			dup.ID, dup.Email = &u.ID, "other@example.com"
			_, err := a.CreateUser(ctx, dup)
			wantCode(t, err, domain.CodeConflict)
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			_, err := a.CreateUser(ctx, backoffice.UserInput{Email: "not an email", Role: "boss", Password: "short",
				TerritoryIDs: []string{o.north, "x", uuid.NewString()}})
			wantFields(t, err, "email", "name", "role", "password", "territory_ids[1]", "territory_ids[2]")
		})
		t.Run("ErrUnknownTerritory", func(t *testing.T) {
			bad := in
			bad.Email, bad.TerritoryIDs = "x@example.com", []string{uuid.NewString()}
			_, err := a.CreateUser(ctx, bad)
			wantFields(t, err, "territory_ids[0]")
		})
	})
}

func TestAdmin_UpdateUser(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newAdmin(db)
		o := newOrg(t, db)

		t.Run("ReplaceTerritories", func(t *testing.T) {
			u, err := a.UpdateUser(ctx, o.rep, backoffice.UserPatch{TerritoryIDs: backoffice.Some([]string{o.south})})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(u.TerritoryIDs, ",") != o.south || u.Version != 2 || u.Email != o.repEmail {
				t.Errorf("updated %+v", u)
			}
			wantChanges(t, db, o.rep, "upsert "+domain.UserKey(o.rep),
				"delete "+domain.TerritoryKey(o.north)+" out_of_scope", "upsert "+domain.TerritoryKey(o.south))
			if got := storedUser(t, db, o.rep).TerritoryIDs; strings.Join(got, ",") != o.south {
				t.Errorf("stored territories = %v", got)
			}
		})
		t.Run("NullTerritoriesClears", func(t *testing.T) {
			u, err := a.UpdateUser(ctx, o.rep, backoffice.UserPatch{TerritoryIDs: backoffice.Null[[]string]()})
			if err != nil || len(u.TerritoryIDs) != 0 || u.TerritoryIDs == nil {
				t.Fatalf("cleared: %+v, %v", u, err)
			}
		})
		t.Run("Password", func(t *testing.T) {
			before := storedUser(t, db, o.rep)
			u, err := a.UpdateUser(ctx, o.rep, backoffice.UserPatch{Password: backoffice.Some("a new secret")})
			if err != nil {
				t.Fatal(err)
			}
			after := storedUser(t, db, o.rep)
			if bcrypt.CompareHashAndPassword([]byte(after.PasswordHash), []byte("a new secret")) != nil {
				t.Error("new password does not match the stored hash")
			}
			// The hash never syncs: changing it alone is not a synced change.
			if u.Version != before.Version {
				t.Errorf("version %d -> %d on a password change", before.Version, u.Version)
			}
		})
		t.Run("NameAndRole", func(t *testing.T) {
			u, err := a.UpdateUser(ctx, o.rep, backoffice.UserPatch{Name: backoffice.Some("Ray"),
				Role: backoffice.Some(domain.RoleCoordinator)})
			if err != nil || u.Name != "Ray" || u.Role != domain.RoleCoordinator {
				t.Fatalf("updated %+v, %v", u, err)
			}
		})
		t.Run("ErrInvalidFields", func(t *testing.T) {
			_, err := a.UpdateUser(ctx, o.rep, backoffice.UserPatch{Name: backoffice.Null[string](),
				Role: backoffice.Some(domain.Role("king")), Password: backoffice.Some("short"),
				TerritoryIDs: backoffice.Some([]string{uuid.NewString()})})
			wantFields(t, err, "name", "role", "password", "territory_ids[0]")
			_, err = a.UpdateUser(ctx, o.rep, backoffice.UserPatch{Password: backoffice.Null[string]()})
			wantFields(t, err, "password")
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := a.UpdateUser(ctx, uuid.NewString(), backoffice.UserPatch{Name: backoffice.Some("X")})
			wantCode(t, err, domain.CodeNotFound)
			_, err = a.GetUser(ctx, "x")
			wantCode(t, err, domain.CodeNotFound)
		})
		t.Run("Get", func(t *testing.T) {
			u, err := a.GetUser(ctx, o.rep)
			if err != nil || u.ID != o.rep || u.Email != o.repEmail {
				t.Fatalf("got %+v, %v", u, err)
			}
		})
	})
}
