package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// PatchOptions says which keys of a patch a writer may send. Ignore holds
// server-owned fields (id, version, updated_at, total_cents, rep_id, ...): a
// device echoing them back is harmless, so they are dropped without complaint.
// Writable, when not nil, lists the only fields the writer may change.
type PatchOptions struct {
	Ignore   map[string]bool
	Writable map[string]bool
}

// ApplyPatch applies a partial row (a JSON object of only the fields the writer
// changed) onto *row and returns the sorted JSON names of the fields whose value
// actually changed. Every bad key is reported at once; on any error *row is left
// as it was. Times are stored in UTC, JSON null clears a pointer field and an
// array field, and keys match field names exactly (unlike encoding/json, which
// would quietly accept "Status" for "status").
//
// Only the patched fields are decoded, each straight into its struct field: a
// push applies a patch per mutation, and round-tripping the whole row through
// JSON was a third of push CPU. Unpatched pointer and slice fields of the result
// are shared with the old value, so treat the old row as read-only afterwards.
func ApplyPatch[T any](row *T, patch []byte, opt PatchOptions) ([]string, *Error) {
	obj, perr := decodeObject(patch)
	if perr != nil {
		return nil, perr
	}
	fields := jsonFields(reflect.TypeFor[T]())
	values, errs := patchValues(obj, fields, opt)
	// Text no database can hold is refused here, for every writer, rather than
	// failing on Postgres alone when the row is written.
	errs = append(errs, TextErrors(patch, reflect.TypeFor[T]())...)
	if len(errs) > 0 {
		return nil, Invalid(errs...)
	}
	out := *row
	rv := reflect.ValueOf(&out).Elem()
	var changed []string
	for k, v := range values {
		f := fields[k]
		fv := rv.FieldByIndex(f.index)
		old, ok := fastEncode(fv)
		var fe []FieldError
		if !ok {
			oldRaw, err := json.Marshal(fv.Interface())
			if err != nil {
				return nil, Errorf(CodeInternal, "row cannot be encoded")
			}
			old, fe = canonical(k, oldRaw, f.typ)
		}
		if fe != nil || !bytes.Equal(old, v) {
			changed = append(changed, k)
		}
		if fastSet(fv, v) {
			continue
		}
		nv := reflect.New(f.typ)
		if err := json.Unmarshal(v, nv.Interface()); err != nil {
			return nil, Errorf(CodeInternal, "patched row cannot be decoded")
		}
		fv.Set(nv.Elem())
	}
	*row = out
	sort.Strings(changed)
	return changed, nil
}

// decodeObject tells malformed JSON (a bad request) from well-formed JSON that
// is not an object (an invalid row).
func decodeObject(patch []byte) (map[string]json.RawMessage, *Error) {
	if !json.Valid(patch) {
		return nil, Errorf(CodeBadRequest, "row is not valid JSON")
	}
	patch = bytes.TrimSpace(patch)
	var obj map[string]json.RawMessage
	if patch[0] != '{' || json.Unmarshal(patch, &obj) != nil {
		return nil, &Error{Code: CodeValidation, Message: "row must be a JSON object"}
	}
	return obj, nil
}

// patchValues checks every key of the patch and returns the accepted ones in
// canonical JSON form, or every field error found.
func patchValues(obj map[string]json.RawMessage, fields map[string]jsonField, opt PatchOptions) (map[string]json.RawMessage, []FieldError) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values := map[string]json.RawMessage{}
	var errs []FieldError
	for _, k := range keys {
		if opt.Ignore[k] {
			continue
		}
		f, ok := fields[k]
		switch {
		case !ok:
			errs = append(errs, FieldError{Field: k, Message: "unknown field"})
		case opt.Writable != nil && !opt.Writable[k]:
			errs = append(errs, FieldError{Field: k, Message: "may not be changed"})
		default:
			v, fe := canonical(k, obj[k], f.typ)
			errs = append(errs, fe...)
			values[k] = v
		}
	}
	return values, errs
}

// canonical checks raw against typ and re-encodes it the way the row would be
// encoded, with times in UTC and empty arrays for null ones, so that comparing
// bytes compares values.
func canonical(path string, raw json.RawMessage, typ reflect.Type) (json.RawMessage, []FieldError) {
	if b, ok := fastCanonical(raw, typ); ok {
		return b, nil
	}
	return canonicalSlow(path, raw, typ)
}

// canonicalSlow is canonical through encoding/json and reflection: every type,
// every error message.
func canonicalSlow(path string, raw json.RawMessage, typ reflect.Type) (json.RawMessage, []FieldError) {
	if errs := checkValue(path, raw, typ); len(errs) > 0 {
		return nil, errs
	}
	v := reflect.New(typ)
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return nil, []FieldError{{Field: path, Message: "is not valid"}}
	}
	normalize(v.Elem())
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, []FieldError{{Field: path, Message: "is not valid"}}
	}
	return b, nil
}

func normalize(v reflect.Value) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case v.Kind() == reflect.Slice:
		if v.IsNil() {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
		for i := 0; i < v.Len(); i++ {
			normalize(v.Index(i))
		}
	case v.Kind() == reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				normalize(v.Field(i))
			}
		}
	}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	percentType     = reflect.TypeFor[Percent]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// jsonField locates a field of a struct by its JSON name.
type jsonField struct {
	index []int
	typ   reflect.Type
}

// jsonFields maps the JSON names of t's fields (embedded structs flattened, as
// encoding/json does) to their place in t. Non-structs have no fields.
func jsonFields(t reflect.Type) map[string]jsonField {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]jsonField)
	}
	out := map[string]jsonField{}
	if t.Kind() == reflect.Struct {
		collectFields(t, nil, out)
	}
	fieldCache.Store(t, out)
	return out
}

// fieldCache memoizes jsonFields per type. Like encoding/json's own cache it
// holds only facts about Go types, which never change while a program runs;
// every push reads it, and rebuilding it by reflection was a fifth of push CPU.
var fieldCache sync.Map // reflect.Type -> map[string]jsonField (read-only once stored)

// collectFields adds direct fields before embedded ones, so an outer field
// shadows an embedded field of the same name, as in encoding/json.
func collectFields(t reflect.Type, prefix []int, out map[string]jsonField) {
	var embedded []int
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			embedded = append(embedded, i)
		case f.IsExported():
			if name == "" {
				name = f.Name
			}
			if _, dup := out[name]; !dup {
				out[name] = jsonField{index: appendIndex(prefix, i), typ: f.Type}
			}
		}
	}
	for _, i := range embedded {
		collectFields(t.Field(i).Type, appendIndex(prefix, i), out)
	}
}

func appendIndex(prefix []int, i int) []int {
	return append(append([]int(nil), prefix...), i)
}

// checkValue reports where raw does not fit typ, by JSON path, so a client
// learns every bad field of a patch, nested lines included, in one answer.
func checkValue(path string, raw json.RawMessage, typ reflect.Type) []FieldError {
	raw = bytes.TrimSpace(raw)
	null := len(raw) == 0 || string(raw) == "null"
	bad := func(msg string) []FieldError { return []FieldError{{Field: path, Message: msg}} }
	switch {
	case typ == timeType:
		var t time.Time
		// A year outside 0..9999 in UTC would parse but never encode again.
		if null || json.Unmarshal(raw, &t) != nil || t.UTC().Year() < 0 || t.UTC().Year() > 9999 {
			return bad("must be an RFC 3339 time")
		}
		return nil
	case typ == percentType:
		var p Percent
		if null || json.Unmarshal(raw, &p) != nil {
			return bad("must be a number with at most two decimals")
		}
		return nil
	case typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map:
		if null {
			return nil
		}
	case reflect.PointerTo(typ).Implements(unmarshalerType):
		if null || json.Unmarshal(raw, reflect.New(typ).Interface()) != nil {
			return bad("is not valid")
		}
		return nil
	}
	if null && typ.Kind() != reflect.Interface {
		return bad("must be " + kindName(typ))
	}
	switch typ.Kind() {
	case reflect.Pointer:
		return checkValue(path, raw, typ.Elem())
	case reflect.Slice:
		return checkArray(path, raw, typ)
	case reflect.Struct, reflect.Map:
		return checkObject(path, raw, typ)
	case reflect.String:
		if raw[0] != '"' {
			return bad("must be a string")
		}
	case reflect.Bool:
		if raw[0] != 't' && raw[0] != 'f' {
			return bad("must be a boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !isNumber(raw) {
			return bad("must be a number")
		}
		if json.Unmarshal(raw, reflect.New(typ).Interface()) != nil {
			return bad("must be an integer")
		}
	case reflect.Float32, reflect.Float64:
		if !isNumber(raw) || json.Unmarshal(raw, reflect.New(typ).Interface()) != nil {
			return bad("must be a number")
		}
	case reflect.Interface:
	default:
		return bad("is not valid")
	}
	return nil
}

func checkArray(path string, raw json.RawMessage, typ reflect.Type) []FieldError {
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return []FieldError{{Field: path, Message: "must be an array"}}
	}
	var errs []FieldError
	for i, item := range items {
		errs = append(errs, checkValue(fmt.Sprintf("%s[%d]", path, i), item, typ.Elem())...)
	}
	return errs
}

func checkObject(path string, raw json.RawMessage, typ reflect.Type) []FieldError {
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return []FieldError{{Field: path, Message: "must be an object"}}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []FieldError
	if typ.Kind() == reflect.Map {
		if typ.Key().Kind() != reflect.String {
			return []FieldError{{Field: path, Message: "is not valid"}}
		}
		for _, k := range keys {
			errs = append(errs, checkValue(path+"."+k, obj[k], typ.Elem())...)
		}
		return errs
	}
	fields := jsonFields(typ)
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			errs = append(errs, FieldError{Field: path + "." + k, Message: "unknown field"})
			continue
		}
		errs = append(errs, checkValue(path+"."+k, obj[k], f.typ)...)
	}
	return errs
}

func isNumber(raw json.RawMessage) bool {
	return raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')
}

// kindName is how a type is named in "must be a ..." messages.
func kindName(typ reflect.Type) string {
	switch typ.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "valid"
}
