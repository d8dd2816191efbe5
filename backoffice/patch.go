package backoffice

import (
	"bytes"
	"encoding/json"
)

// Optional is one field of a PATCH body. A partial update must tell a field that
// is absent (keep the value) from one that is null (clear it), which a plain
// pointer cannot.
type Optional[T any] struct {
	Set   bool // the field was present
	Null  bool // ... and was JSON null
	Value T
}

// Some returns a present, non-null field (for callers building patches in Go).
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }

// Null returns a present field that is JSON null.
func Null[T any]() Optional[T] { return Optional[T]{Set: true, Null: true} }

// UnmarshalJSON is called only for fields present in the body, null included.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// MarshalJSON writes the value, or null; an absent field should be omitted by
// the caller (`omitzero`).
func (o Optional[T]) MarshalJSON() ([]byte, error) {
	if !o.Set || o.Null {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// IsZero makes `omitzero` drop absent fields.
func (o Optional[T]) IsZero() bool { return !o.Set }

// apply sets *dst from a field that may not be null.
func apply[T any](f *fields, name string, o Optional[T], dst *T) {
	if !o.Set {
		return
	}
	if o.Null {
		f.add(name, "must not be null")
		return
	}
	*dst = o.Value
}

// applyNullable sets *dst from a field where null clears the value.
func applyNullable[T any](o Optional[T], dst **T) {
	if !o.Set {
		return
	}
	if o.Null {
		*dst = nil
		return
	}
	v := o.Value
	*dst = &v
}
