package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fieldsync/fieldsync/auth"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/httpapi"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runUserAdd implements `fieldsync user add`: the way to create the first ops
// user of a new installation.
func runUserAdd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	cfg, err := configFor(fs)
	if err != nil {
		return err
	}
	email := fs.String("email", "", "login email (required)")
	name := fs.String("name", "", "display name (required)")
	role := fs.String("role", "", "rep, coordinator, manager, director or ops (required)")
	password := fs.String("password", "", "initial password, 8 to 72 bytes (required)")
	var territories listFlag
	fs.Var(&territories, "territory", "territory id assigned to the user (repeatable)")
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	u, err := newUser(*email, *name, domain.Role(*role), territories)
	if err != nil {
		return err
	}
	db, _, err := openMigrated(ctx, *cfg, quietLogger())
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := auth.New(db, cfg.AuthConfig(), quietLogger())
	if err != nil {
		return err
	}
	if u.PasswordHash, err = svc.HashPassword(*password); err != nil {
		return err
	}
	if err := createUser(ctx, db, u); err != nil {
		return err
	}
	return printf(stdout, "created %s user %s <%s> id=%s\n", u.Role, u.Name, u.Email, u.ID)
}

// newUser checks the flags before anything touches the database.
func newUser(email, name string, role domain.Role, territories []string) (store.UserRecord, error) {
	var fs []domain.FieldError
	if !strings.Contains(email, "@") {
		fs = append(fs, domain.FieldError{Field: "email", Message: "must be an email address"})
	}
	if strings.TrimSpace(name) == "" {
		fs = append(fs, domain.FieldError{Field: "name", Message: "is required"})
	}
	if !role.Valid() {
		fs = append(fs, domain.FieldError{Field: "role", Message: "must be rep, coordinator, manager, director or ops"})
	}
	ids := make([]string, 0, len(territories))
	for _, t := range territories {
		id, ok := httpapi.CanonicalUUID(t)
		if !ok {
			fs = append(fs, domain.FieldError{Field: "territory", Message: fmt.Sprintf("%q is not a UUID", t)})
		}
		ids = append(ids, id)
	}
	if len(fs) > 0 {
		return store.UserRecord{}, domain.Invalid(fs...)
	}
	return store.UserRecord{Email: email, User: domain.User{ID: uuid.NewString(), Name: strings.TrimSpace(name),
		Role: role, TerritoryIDs: ids}}, nil
}

func createUser(ctx context.Context, db *store.DB, u store.UserRecord) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		for _, id := range u.TerritoryIDs {
			if _, err := store.GetTerritory(tx, id, false); err != nil {
				return fmt.Errorf("territory %s: %w", id, err)
			}
		}
		_, err := store.CreateUser(tx, u)
		return err
	})
}
