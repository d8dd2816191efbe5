package domain

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"
)

// validation holds the one validator of the package. It is built on first use:
// building registers tags and caches struct metadata, which every later call
// reuses, and the validator itself is safe for concurrent use.
type validation struct {
	once sync.Once
	v    *validator.Validate
}

var rules validation

func (r *validation) get() *validator.Validate {
	r.once.Do(func() {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(jsonName)
		// Registration only fails on a malformed tag name, which is a bug here.
		must(v.RegisterValidation("uuid", func(fl validator.FieldLevel) bool {
			return IsUUID(fl.Field().String())
		}))
		must(v.RegisterValidation("percent", func(fl validator.FieldLevel) bool {
			p := fl.Field().Int()
			return p >= 0 && p <= 100*100
		}))
		must(v.RegisterValidation("notblank", func(fl validator.FieldLevel) bool {
			return strings.TrimSpace(fl.Field().String()) != ""
		}))
		r.v = v
	})
	return r.v
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// jsonName names fields in errors as clients spell them.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// Validate runs the struct tags of v (a struct or a pointer to one) and returns
// every failure as a field error with its JSON path, or nil.
func Validate(v any) *Error {
	fields, err := validateFields(v)
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		return nil
	}
	return Invalid(fields...)
}

func validateFields(v any) ([]FieldError, *Error) {
	err := rules.get().Struct(v)
	if err == nil {
		return nil, nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		// Only a non-struct argument gets here: a programming error, not bad input.
		return nil, &Error{Code: CodeInternal, Message: fmt.Sprintf("cannot validate %T", v)}
	}
	out := make([]FieldError, 0, len(verrs))
	for _, fe := range verrs {
		out = append(out, FieldError{Field: fieldPath(fe.Namespace()), Message: message(fe)})
	}
	return out, nil
}

// fieldPath drops the struct name validator puts first: "Order.lines[0].quantity".
func fieldPath(ns string) string {
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return ns
}

func message(fe validator.FieldError) string {
	p := fe.Param()
	switch fe.Tag() {
	case "required":
		return "is required"
	case "notblank":
		return "must not be blank"
	case "uuid":
		if s, ok := fe.Value().(string); ok && IsUUID(strings.ToLower(s)) {
			return "must be a lower-case UUID"
		}
		return "must be a UUID"
	case "email":
		return "must be a valid email"
	case "oneof":
		return "must be one of: " + p
	case "iso4217":
		return "must be an ISO 4217 currency code"
	case "percent":
		return "must be between 0 and 100"
	case "gte", "min":
		return bound(fe.Kind(), "at least", "short (min "+p+")", p)
	case "lte", "max":
		return bound(fe.Kind(), "at most", "long (max "+p+")", p)
	case "gt":
		return "must be greater than " + p
	case "lt":
		return "must be less than " + p
	}
	return "is invalid (" + fe.Tag() + ")"
}

func bound(k reflect.Kind, num, text, p string) string {
	switch k {
	case reflect.String:
		return "is too " + text
	case reflect.Slice, reflect.Array, reflect.Map:
		if p == "1" {
			return "must have " + num + " 1 item"
		}
		return "must have " + num + " " + p + " items"
	}
	return "must be " + num + " " + p
}

// IsUUID reports whether s is a UUID in canonical form: 36 characters, lower-case
// hex, dashes at 8, 13, 18 and 23. Upper case is refused rather than folded:
// Postgres stores uuids lower-cased and SQLite stores the text as sent, so an
// upper-case id would read back differently on the two databases.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// fieldErrors collects the tag failures of a row and then its cross-field rules;
// a field keeps its first message only, so a missing value is not also reported
// as breaking a rule that depends on it.
type fieldErrors struct {
	list []FieldError
	seen map[string]bool
}

func validateRow(v any, cross func(*fieldErrors)) *Error {
	fields, err := validateFields(v)
	if err != nil {
		return err
	}
	fe := &fieldErrors{seen: map[string]bool{}}
	for _, f := range fields {
		fe.add(f.Field, f.Message)
	}
	cross(fe)
	if len(fe.list) == 0 {
		return nil
	}
	return Invalid(fe.list...)
}

func (fe *fieldErrors) add(field, msg string) {
	if fe.seen[field] {
		return
	}
	fe.seen[field] = true
	fe.list = append(fe.list, FieldError{Field: field, Message: msg})
}

// encodable refuses a time whose UTC year is outside 0..9999: RFC 3339 cannot
// spell it, so a stored row holding it could never be sent again (and Postgres
// and SQLite would disagree on storing it). A time sent with an offset may
// cross the bound only once in UTC.
func (fe *fieldErrors) encodable(field string, t *time.Time) {
	if t != nil && !t.IsZero() && (t.UTC().Year() < 0 || t.UTC().Year() > 9999) {
		fe.add(field, "must be an RFC 3339 time between years 0000 and 9999 in UTC")
	}
}

// pair reports the missing half of a coordinate: a position is both or neither.
func (fe *fieldErrors) pair(latField string, lat *float64, lngField string, lng *float64) {
	switch {
	case lat != nil && lng == nil:
		fe.add(lngField, "is required when "+latField+" is set")
	case lat == nil && lng != nil:
		fe.add(latField, "is required when "+lngField+" is set")
	}
}

func ValidateTerritory(t Territory) *Error {
	return validateRow(t, func(fe *fieldErrors) {
		if t.ParentID != nil && *t.ParentID == t.ID {
			fe.add("parent_id", "must not be the territory itself")
		}
	})
}

func ValidateProduct(p Product) *Error {
	return validateRow(p, func(*fieldErrors) {})
}

func ValidateAccount(a Account) *Error {
	return validateRow(a, func(fe *fieldErrors) {
		fe.pair("lat", a.Lat, "lng", a.Lng)
	})
}

// ValidateVisit checks a visit as it would be stored: the timestamps its status
// implies are present and in order. Planned and cancelled visits need neither.
func ValidateVisit(v Visit) *Error {
	return validateRow(v, func(fe *fieldErrors) {
		if v.PlannedAt.IsZero() {
			fe.add("planned_at", "is required")
		}
		fe.encodable("planned_at", &v.PlannedAt)
		fe.encodable("checked_in_at", v.CheckedInAt)
		fe.encodable("checked_out_at", v.CheckedOutAt)
		switch v.Status {
		case VisitCheckedIn:
			if v.CheckedInAt == nil {
				fe.add("checked_in_at", "is required when status is checked_in")
			}
		case VisitCompleted:
			if v.CheckedInAt == nil {
				fe.add("checked_in_at", "is required when status is completed")
			}
			if v.CheckedOutAt == nil {
				fe.add("checked_out_at", "is required when status is completed")
			}
		}
		if v.CheckedOutAt != nil && v.CheckedInAt == nil {
			fe.add("checked_in_at", "is required when checked_out_at is set")
		}
		if v.CheckedInAt != nil && v.CheckedOutAt != nil && v.CheckedOutAt.Before(*v.CheckedInAt) {
			fe.add("checked_out_at", "must not be before checked_in_at")
		}
		fe.pair("check_in_lat", v.CheckInLat, "check_in_lng", v.CheckInLng)
	})
}

// ValidateOrder checks an order as it would be stored. Lines may be empty only
// while the order is a draft or once it is cancelled.
func ValidateOrder(o Order) *Error {
	return validateRow(o, func(fe *fieldErrors) {
		if len(o.Lines) == 0 && !fe.seen["status"] && o.Status != OrderDraft && o.Status != OrderCancelled {
			fe.add("lines", "must have at least one line unless the order is draft or cancelled")
		}
	})
}

func ValidateNote(n AccountNote) *Error {
	return validateRow(n, func(*fieldErrors) {})
}
