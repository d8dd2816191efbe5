package domain

import (
	"encoding/json"
	"reflect"
	"time"
)

// The fast paths of ApplyPatch for the values nearly every patch holds: plain
// strings (ids, statuses), times and nulls. A visit create's patch is an
// account id and a time; through encoding/json each field was decoded,
// re-encoded, its old value encoded and canonicalized, and the new one decoded
// again, by reflection: a sixth of a push's server CPU. Each fast path answers
// exactly as the encoding/json path (patch_fast_test.go checks them against
// it) or declines with ok false, and the caller takes that path: every error
// message comes from it.

var (
	stringType    = reflect.TypeFor[string]()
	stringPtrType = reflect.TypeFor[*string]()
	timePtrType   = reflect.TypeFor[*time.Time]()
)

// plainString reports whether raw is a JSON string literal that encoding/json
// would encode back byte for byte: printable ASCII without escapes, quotes or
// the characters it escapes for HTML (<, >, &).
func plainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// fastCanonical is canonical(_, raw, typ) for valid values of the common
// types; ok is false when it cannot tell, and for every invalid value.
func fastCanonical(raw json.RawMessage, typ reflect.Type) (json.RawMessage, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	if typ.Kind() == reflect.Pointer && string(raw) == "null" {
		return raw, true // a nil pointer of any type encodes as null
	}
	switch typ {
	case stringType, stringPtrType:
		return raw, plainString(raw)
	case timeType, timePtrType:
		if raw[0] != '"' {
			return nil, false
		}
		var t time.Time
		if t.UnmarshalJSON(raw) != nil {
			return nil, false
		}
		return utcJSON(t)
	}
	return nil, false
}

// utcJSON encodes t in UTC as encoding/json does, when its year fits RFC 3339.
func utcJSON(t time.Time) (json.RawMessage, bool) {
	u := t.UTC()
	if u.Year() < 0 || u.Year() > 9999 {
		return nil, false
	}
	b, err := u.MarshalJSON()
	return b, err == nil
}

// fastEncode is the canonical form of a field's current value (json.Marshal,
// then canonical) for the common types; ok is false when it cannot tell.
func fastEncode(v reflect.Value) (json.RawMessage, bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return json.RawMessage("null"), true
		}
		if v.Type() != stringPtrType && v.Type() != timePtrType {
			return nil, false
		}
		v = v.Elem()
	}
	switch v.Type() {
	case stringType:
		s := v.String()
		b := make([]byte, 0, len(s)+2)
		b = append(append(append(b, '"'), s...), '"')
		return b, plainString(b)
	case timeType:
		t := v.Interface().(time.Time)
		// encoding/json writes t in its own zone, which canonical then moves to
		// UTC: the same instant unless the zone's offset has seconds, which
		// RFC 3339 cannot write. Those, and years it cannot write, decline.
		if _, off := t.Zone(); off%60 != 0 {
			return nil, false
		}
		if _, err := t.MarshalJSON(); err != nil {
			return nil, false
		}
		return utcJSON(t)
	}
	return nil, false
}

// fastSet sets field v to canonical JSON raw as json.Unmarshal into a fresh
// value of its type would; false when it cannot tell (nothing is set then).
func fastSet(v reflect.Value, raw json.RawMessage) bool {
	typ := v.Type()
	if typ.Kind() == reflect.Pointer && string(raw) == "null" {
		v.SetZero()
		return true
	}
	switch typ {
	case stringType, stringPtrType:
		if !plainString(raw) {
			return false
		}
		s := string(raw[1 : len(raw)-1])
		if typ == stringType {
			v.SetString(s)
		} else {
			v.Set(reflect.ValueOf(&s))
		}
		return true
	case timeType, timePtrType:
		var t time.Time
		if len(raw) == 0 || raw[0] != '"' || t.UnmarshalJSON(raw) != nil {
			return false
		}
		if typ == timeType {
			v.Set(reflect.ValueOf(t))
		} else {
			v.Set(reflect.ValueOf(&t))
		}
		return true
	}
	return false
}
