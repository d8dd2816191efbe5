package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// Translate maps driver and ORM errors to domain errors at the storage edge, so no
// handler ever compares driver strings. Unknown errors pass through unchanged and
// become 500s.
func Translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return domain.Errorf(domain.CodeNotFound, "%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return domain.Errorf(domain.CodeConflict, "%s already exists", what)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return domain.Errorf(domain.CodeValidation, "%s refers to a row that does not exist", what)
	}
	return err
}

// IsRetryable reports whether err failed the transaction as a whole for a
// transient reason (a deadlock or serialization failure on Postgres, a busy
// database on SQLite): running the same transaction again may succeed.
func IsRetryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40P01" || pg.Code == "40001"
	}
	var sq sqlite3.Error
	if errors.As(err, &sq) {
		return sq.Code == sqlite3.ErrBusy || sq.Code == sqlite3.ErrLocked
	}
	return false
}

// IsDeadlock reports whether err is Postgres's answer to a deadlock (a kind of
// IsRetryable error).
func IsDeadlock(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "40P01"
}

// RetryAfterUnavailable is what a client is told to wait when the database is
// unreachable.
const RetryAfterUnavailable = 5 * time.Second

// driverError is a driver error the storage edge has classified: it reads as
// the driver's message (for logs) and carries the client-safe domain error, so
// domain.AsError finds it and the HTTP layer renders the safe one.
type driverError struct {
	safe *domain.Error
	err  error
}

func (e *driverError) Error() string   { return e.err.Error() }
func (e *driverError) Unwrap() []error { return []error{e.safe, e.err} }

// unavailableError is a driverError for a database that cannot be reached: the
// client should retry later (503 with Retry-After), it did nothing wrong.
type unavailableError struct{ driverError }

func (*unavailableError) RetryAfter() time.Duration { return RetryAfterUnavailable }

var (
	errDataInvalid = domain.Errorf(domain.CodeValidation, "a value cannot be stored")
	errDataRef     = domain.Errorf(domain.CodeValidation, "a value refers to a row that does not exist")
	errDataExists  = domain.Errorf(domain.CodeConflict, "the row already exists")
	errUnavailable = domain.Errorf(domain.CodeUnavailable, "the database is unavailable; retry later")
)

// classify gives a driver error its domain meaning, telling errors caused by
// the values of one statement (invalid text, a value out of range, a broken
// constraint: the writer's fault, safe to roll back to a savepoint and report)
// from infrastructure errors (the database is down: 503), and leaving the rest
// (deadlocks, serialization failures, cancelled contexts, bugs) as they are.
func classify(translated, orig error) error {
	if orig == nil {
		return translated
	}
	var done *driverError
	if errors.As(orig, &done) || errors.Is(orig, context.Canceled) || errors.Is(orig, context.DeadlineExceeded) {
		return translated
	}
	if translated != orig && !errors.Is(translated, orig) {
		translated = fmt.Errorf("%w: %w", translated, orig)
	}
	safe, down := kindOf(orig)
	switch {
	case down:
		return &unavailableError{driverError{safe: errUnavailable, err: translated}}
	case safe != nil:
		return &driverError{safe: safe, err: translated}
	}
	return translated
}

func kindOf(err error) (safe *domain.Error, unavailable bool) {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pgKind(pg.Code)
	}
	var sq sqlite3.Error
	if errors.As(err, &sq) {
		return sqliteKind(sq)
	}
	var connect *pgconn.ConnectError
	var netErr *net.OpError
	switch {
	case errors.As(err, &connect), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF):
		return nil, true
	case strings.Contains(err.Error(), "sql: database is closed"):
		// database/sql has no exported error for a closed pool.
		return nil, true
	}
	return nil, false
}

// pgKind reads a Postgres SQLSTATE: class 22 is a data exception (a NUL
// character or bad encoding, a value out of range or too long, a bad datetime),
// class 23 an integrity violation, class 08 and the shutdown codes an outage.
func pgKind(code string) (*domain.Error, bool) {
	switch {
	case code == "23505":
		return errDataExists, false
	case code == "23503":
		return errDataRef, false
	case strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"), code == "54000":
		return errDataInvalid, false
	case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03", code == "53300":
		return nil, true
	}
	return nil, false
}

func sqliteKind(e sqlite3.Error) (*domain.Error, bool) {
	switch e.Code {
	case sqlite3.ErrConstraint:
		switch e.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return errDataExists, false
		case sqlite3.ErrConstraintForeignKey:
			return errDataRef, false
		}
		return errDataInvalid, false
	case sqlite3.ErrTooBig, sqlite3.ErrMismatch, sqlite3.ErrRange:
		return errDataInvalid, false
	case sqlite3.ErrCantOpen, sqlite3.ErrIoErr, sqlite3.ErrNotADB:
		return nil, true
	}
	return nil, false
}

// pgDialector and sqliteDialector are the GORM dialects with the error
// translation above: GORM hands every statement's error to Translate
// (TranslateError), so classification happens once, at the edge. They embed
// the concrete dialects, keeping savepoints and every other optional method.
type pgDialector struct{ *postgres.Dialector }

func (d pgDialector) Translate(err error) error { return classify(d.Dialector.Translate(err), err) }

type sqliteDialector struct{ *sqlite.Dialector }

func (d sqliteDialector) Translate(err error) error { return classify(d.Dialector.Translate(err), err) }
