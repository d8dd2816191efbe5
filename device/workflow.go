package device

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldsync/fieldsync/domain"
)

// A workflow is one local write: it reads the row inside the transaction,
// builds a patch (refusing illegal moves), queues it, and validates the row that
// results, exactly as the server will (docs/protocol.md §4.2: validation applies to the
// resulting row). A refusal rolls everything back.

// getRow decodes the current view of table/id, or answers not_found.
func getRow[T any](tx *gorm.DB, table, id string) (T, error) {
	var out T
	m, err := loadMirror(tx, table, id)
	if err != nil {
		return out, err
	}
	if m == nil || m.hidden() {
		return out, domain.Errorf(domain.CodeNotFound, "no %s row %s on this device", table, id)
	}
	if err := json.Unmarshal([]byte(m.Row), &out); err != nil {
		return out, fmt.Errorf("decode %s %s: %w", table, id, err)
	}
	return out, nil
}

// update changes an existing row: build returns the patch (or a refusal) from the
// current view; check validates the resulting view.
func update[T any](ctx context.Context, c *Client, table, id string,
	build func(tx *gorm.DB, cur T) (map[string]any, error), check func(T) *domain.Error) (T, error) {
	var out T
	l, err := c.writer()
	if err != nil {
		return out, err
	}
	err = c.tx(ctx, func(tx *gorm.DB) error {
		cur, err := getRow[T](tx, table, id)
		if err != nil {
			return err
		}
		patch, err := build(tx, cur)
		if err != nil {
			return err
		}
		if err := l.enqueue(tx, edit{table: table, op: opUpsert, id: id, patch: patch, coalesce: true}); err != nil {
			return err
		}
		if out, err = getRow[T](tx, table, id); err != nil {
			return err
		}
		return asError(check(out))
	})
	return out, err
}

// create queues a new row with a fresh id, after checks against other rows.
func create[T any](ctx context.Context, c *Client, table string,
	build func(tx *gorm.DB) (map[string]any, error), check func(T) *domain.Error) (T, error) {
	var out T
	l, err := c.writer()
	if err != nil {
		return out, err
	}
	id := uuid.NewString()
	err = c.tx(ctx, func(tx *gorm.DB) error {
		patch, err := build(tx)
		if err != nil {
			return err
		}
		if err := l.enqueue(tx, edit{table: table, op: opUpsert, id: id, patch: patch, coalesce: true}); err != nil {
			return err
		}
		if out, err = getRow[T](tx, table, id); err != nil {
			return err
		}
		return asError(check(out))
	})
	return out, err
}

// remove deletes a row after allow approves it.
func remove[T any](ctx context.Context, c *Client, table, id string, allow func(cur T) error) error {
	l, err := c.writer()
	if err != nil {
		return err
	}
	return c.tx(ctx, func(tx *gorm.DB) error {
		cur, err := getRow[T](tx, table, id)
		if err != nil {
			return err
		}
		if err := allow(cur); err != nil {
			return err
		}
		return l.enqueue(tx, edit{table: table, op: opDelete, id: id, coalesce: true})
	})
}

// writer is the local context of a write; writing needs a known user, since
// the rows it creates carry their rep or author.
func (c *Client) writer() (local, error) {
	l := c.local()
	if l.userID == "" {
		return l, errNotLoggedIn
	}
	return l, nil
}

// asError keeps a nil *domain.Error from becoming a non-nil error.
func asError(e *domain.Error) error {
	if e == nil {
		return nil
	}
	return e
}

// wireTime is a time as the contract writes it: UTC, to the microsecond the
// databases keep.
func wireTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

// exists refuses a reference to a row this device does not hold.
func exists(tx *gorm.DB, table, field, id string) error {
	m, err := loadMirror(tx, table, id)
	if err != nil {
		return err
	}
	if m == nil || m.hidden() {
		return domain.Invalid(domain.FieldError{Field: field, Message: "unknown on this device"})
	}
	return nil
}

// nullable maps "" to JSON null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
