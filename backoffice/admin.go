// Package backoffice holds the services behind the back-office endpoints: the ops
// admin of territories, users, accounts and products (docs/protocol.md §6). Every
// write goes through the store helpers, so every change reaches devices by pull.
package backoffice

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// Admin is the ops service: create and change the organisation's master data.
type Admin struct {
	db   *store.DB
	hash func(string) (string, error)
}

// NewAdmin returns the admin service; hasher turns a password into the stored
// slow salted hash.
func NewAdmin(db *store.DB, hasher func(string) (string, error)) *Admin {
	return &Admin{db: db, hash: hasher}
}

// fields collects field errors so one response names every invalid field; a
// field keeps its first message, so a missing value is not also reported as
// breaking a rule that depends on it.
type fields struct{ errs []domain.FieldError }

func (f *fields) add(field, msg string) {
	for _, e := range f.errs {
		if e.Field == field {
			return
		}
	}
	f.errs = append(f.errs, domain.FieldError{Field: field, Message: msg})
}

func (f *fields) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	return domain.Invalid(f.errs...)
}

// validate adds the field errors of a domain validation to those collected and
// returns the whole validation error, if any. It takes *domain.Error, not error,
// so a nil result never becomes a non-nil interface.
func (f *fields) validate(e *domain.Error) error {
	if e != nil {
		if e.Code != domain.CodeValidation {
			return e
		}
		for _, fe := range e.Fields {
			f.add(fe.Field, fe.Message)
		}
	}
	return f.err()
}

// Ids must be canonical lower-case UUIDs, as domain validation wants: Postgres
// reads ids back lower-cased and SQLite as sent, so anything else would differ
// between the two databases.
func uuidMessage(s string) string {
	if domain.IsUUID(strings.ToLower(s)) {
		return "must be a lower-case UUID"
	}
	return "must be a UUID"
}

// newID takes the id a create carries, or makes one.
func (f *fields) newID(id *string) string {
	if id == nil || *id == "" {
		return uuid.NewString()
	}
	if !domain.IsUUID(*id) {
		f.add("id", uuidMessage(*id))
	}
	return *id
}

// refID checks a reference to another row; an invalid one is a field error and
// is never looked up (Postgres would refuse the query).
func (f *fields) refID(field, id string) bool {
	if !domain.IsUUID(id) {
		f.add(field, uuidMessage(id))
		return false
	}
	return true
}

// checkPathID answers not found for the id of the row a request names when it
// cannot be an id at all.
func checkPathID(what, id string) error {
	if !domain.IsUUID(id) {
		return domain.Errorf(domain.CodeNotFound, "%s not found", what)
	}
	return nil
}

// exists reports whether the row a reference names exists; not found is a field
// error on the referencing field.
func (f *fields) exists(field string, err error) error {
	if err == nil {
		return nil
	}
	if domain.ErrorCode(err) == domain.CodeNotFound {
		f.add(field, "does not exist")
		return nil
	}
	return fmt.Errorf("check %s: %w", field, err)
}

// conflictOn rewrites a uniqueness clash of a create or update into a message
// naming the field, leaving every other error as it is.
func conflictOn(err error, format string, args ...any) error {
	if domain.ErrorCode(err) == domain.CodeConflict {
		return domain.Errorf(domain.CodeConflict, format, args...)
	}
	return err
}

func trimmed(s string) string { return strings.TrimSpace(s) }

// Lists page by id: the cursor is the last id of a page, base64url-encoded so
// clients treat it as opaque.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

func encodeCursor(lastID string) string { return base64.RawURLEncoding.EncodeToString([]byte(lastID)) }

// decodeCursor returns the id to continue after ("" for the first page). A
// cursor this service did not issue is a bad request, not a silent restart.
func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if id := string(b); domain.IsUUID(id) {
			return id, nil
		}
	}
	return "", domain.Errorf(domain.CodeBadRequest, "invalid cursor")
}
