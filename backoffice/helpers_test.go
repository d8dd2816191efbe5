package backoffice_test

import (
	"context"
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync/backoffice"
	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/fixtures"
	"github.com/fieldsync/fieldsync/store"
	"golang.org/x/crypto/bcrypt"
)

func bcryptMin(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	return string(b), err
}

func newAdmin(db *store.DB) *backoffice.Admin { return backoffice.NewAdmin(db, bcryptMin) }

func ptr[T any](v T) *T { return &v }

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); got != code || err == nil {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

// wantFields fails unless err is a validation error naming exactly these fields.
func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	wantCode(t, err, domain.CodeValidation)
	var got []string
	for _, f := range domain.AsError(err).Fields {
		got = append(got, f.Field)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fields = %v (%v), want %v", got, err, want)
	}
}

// changes lists the change-log entries of a row as "op key [reason]", sorted.
func changes(t *testing.T, db *store.DB, rowID string) []string {
	t.Helper()
	var es []store.ChangeEntry
	if err := db.Gorm.Where("row_id = ?", rowID).Find(&es).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		s := e.Op + " " + e.ScopeKey
		if e.Reason != nil {
			s += " " + *e.Reason
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func wantChanges(t *testing.T, db *store.DB, rowID string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := changes(t, db, rowID); !slices.Equal(got, want) {
		t.Errorf("change log of %s = %v, want %v", rowID, got, want)
	}
}

// org is the part of the "one-region" named fixture (fixtures.OneRegion)
// these tests name: region > (north = T1, south = T2), rep works north. The
// fixture's other users, accounts and products stand by.
type org struct {
	region, north, south string
	rep, repEmail        string
}

func newOrg(t *testing.T, db *store.DB) org {
	t.Helper()
	f, err := fixtures.NewOneRegion(context.Background(), db, fixtures.NamedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return org{region: f.Region, north: f.T1, south: f.T2, rep: f.Rep1, repEmail: f.Email(f.Rep1)}
}
