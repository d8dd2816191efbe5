package store

import (
	"errors"

	"github.com/fieldsync/fieldsync/domain"
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
