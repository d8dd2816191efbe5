package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code domain.Code // "" when the error must pass through unclassified
	}{
		{"PgNUL", &pgconn.PgError{Code: "22021"}, domain.CodeValidation},
		{"PgOutOfRange", &pgconn.PgError{Code: "22003"}, domain.CodeValidation},
		{"PgDatetimeOverflow", &pgconn.PgError{Code: "22008"}, domain.CodeValidation},
		{"PgCheck", &pgconn.PgError{Code: "23514"}, domain.CodeValidation},
		{"PgUnique", &pgconn.PgError{Code: "23505"}, domain.CodeConflict},
		{"PgForeignKey", &pgconn.PgError{Code: "23503"}, domain.CodeValidation},
		{"PgAdminShutdown", &pgconn.PgError{Code: "57P01"}, domain.CodeUnavailable},
		{"PgConnectionFailure", &pgconn.PgError{Code: "08006"}, domain.CodeUnavailable},
		{"PgDeadlockRetried", &pgconn.PgError{Code: "40P01"}, ""},
		{"PgSerializationRetried", &pgconn.PgError{Code: "40001"}, ""},
		{"PgQueryCanceled", &pgconn.PgError{Code: "57014"}, ""},
		{"ConnectionRefused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, domain.CodeUnavailable},
		{"PoolClosed", errors.New("sql: database is closed"), domain.CodeUnavailable},
		{"ContextCanceled", fmt.Errorf("query: %w", context.Canceled), ""},
		{"SQLiteUnique", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}, domain.CodeConflict},
		{"SQLiteTrigger", sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintTrigger}, domain.CodeValidation},
		{"SQLiteTooBig", sqlite3.Error{Code: sqlite3.ErrTooBig}, domain.CodeValidation},
		{"SQLiteBusyRetried", sqlite3.Error{Code: sqlite3.ErrBusy}, ""},
		{"SQLiteCantOpen", sqlite3.Error{Code: sqlite3.ErrCantOpen}, domain.CodeUnavailable},
		{"NotFound", gorm.ErrRecordNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err, tc.err)
			if !errors.Is(got, tc.err) {
				t.Errorf("classified error lost the original: %v", got)
			}
			if IsRetryable(tc.err) != IsRetryable(got) {
				t.Errorf("classification changed retryability")
			}
			e := domain.AsError(got)
			switch {
			case tc.code == "" && e != nil:
				t.Errorf("classified as %s, want unclassified", e.Code)
			case tc.code != "" && (e == nil || e.Code != tc.code):
				t.Errorf("classified as %v, want %s", e, tc.code)
			}
			var ra interface{ RetryAfter() time.Duration }
			if errors.As(got, &ra) != (tc.code == domain.CodeUnavailable) {
				t.Errorf("Retry-After offered = %v, want it only for unavailable", !(tc.code == domain.CodeUnavailable))
			}
		})
	}
}
