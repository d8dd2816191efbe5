package store

import (
	"errors"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
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
