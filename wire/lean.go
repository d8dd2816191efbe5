package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// LeanFields is the lean form of an applied result's row (docs/protocol.md
// §4.2): the row's fields whose value differs from what the device sent in
// patch, a field the patch did not name counting as null. The row's "id"
// (the mutation's id) and "version" (the result's version) are left out too.
// The device rebuilds the whole row as: its patch, overlaid with these fields,
// plus id and version, every other field null. A create then comes back with
// only what the server set (rep, status, timestamps, computed fields).
//
// ok is false when the patch is not an object or names a field the row does
// not have: a client merging the two would keep that field, so the whole row
// must be sent instead.
func LeanFields(row, patch json.RawMessage, id string, version int64) (fields json.RawMessage, ok bool) {
	if fields, ok, done := leanFast(row, patch, id, version); done {
		return fields, ok
	}
	return leanSlow(row, patch, id, version)
}

// leanSlow is LeanFields through encoding/json: the reference leanFast must
// match, and the path for inputs leanFast does not take (escaped or non-ASCII
// keys, which encoding/json decodes).
func leanSlow(row, patch json.RawMessage, id string, version int64) (fields json.RawMessage, ok bool) {
	sent := map[string]json.RawMessage{}
	if len(patch) > 0 && string(patch) != "null" {
		if err := json.Unmarshal(patch, &sent); err != nil || sent == nil {
			return nil, false
		}
	}
	keys, vals, err := objectFields(row)
	if err != nil {
		return nil, false
	}
	idJSON, versionJSON := appendString(nil, id), strconv.AppendInt(nil, version, 10)
	out := append(make([]byte, 0, len(row)/2), '{')
	var compact bytes.Buffer
	for i, k := range keys {
		v := vals[i]
		want, named := sent[k]
		delete(sent, k)
		switch {
		case k == "id" && bytes.Equal(v, idJSON), k == "version" && bytes.Equal(v, versionJSON):
			continue
		case named:
			compact.Reset()
			if json.Compact(&compact, want) == nil && bytes.Equal(v, compact.Bytes()) {
				continue
			}
		case string(v) == "null":
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		out = append(out, v...)
	}
	if len(sent) > 0 {
		return nil, false
	}
	return append(out, '}'), true
}

// objectFields splits a JSON object into its keys and raw values, in order.
func objectFields(obj json.RawMessage) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, errors.New("row is not a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("row key: %w", err)
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("row field %s: %w", k, err)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, nil
}

// leanFast is LeanFields without encoding/json's decoder, a map or a buffer
// per field: a push of 100 creates spent a fifth of its server CPU in the
// decoder here. It answers only valid JSON whose keys are plain ASCII without
// escapes (what every client sends and the store writes), where a key's bytes
// are its value; done is false for anything else, which leanSlow answers.
func leanFast(row, patch json.RawMessage, id string, version int64) (fields json.RawMessage, ok, done bool) {
	var sent []member
	if len(patch) > 0 && string(patch) != "null" {
		if !json.Valid(patch) {
			return nil, false, true // encoding/json would fail too
		}
		var isObj bool
		if sent, isObj, ok = members(patch, make([]member, 0, 8)); !ok {
			return nil, false, false
		}
		if !isObj {
			return nil, false, true // not an object (null included): no lean form
		}
	}
	// A row is the server's own compact JSON; anything unusual about it
	// (trailing bytes, a repeated key) is left to leanSlow.
	if !json.Valid(row) {
		return nil, false, false
	}
	keys, isObj, ok := members(row, make([]member, 0, 16))
	if !ok || hasDuplicate(keys) {
		return nil, false, false
	}
	if !isObj {
		return nil, false, true
	}
	idJSON, versionJSON := appendString(nil, id), strconv.AppendInt(nil, version, 10)
	out := append(make([]byte, 0, len(row)/2), '{')
	var compact []byte
	matched := 0 // patch members whose key the row has
	for _, f := range keys {
		k, v := f.key, f.val
		// The last of duplicate keys wins, as in encoding/json's map.
		last := -1
		for i := range sent {
			if sent[i].key == k {
				last = i
				matched++
			}
		}
		switch {
		case k == "id" && bytes.Equal(v, idJSON), k == "version" && bytes.Equal(v, versionJSON):
			continue
		case last >= 0:
			compact = compactValid(compact[:0], sent[last].val)
			if bytes.Equal(v, compact) {
				continue
			}
		case string(v) == "null":
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		out = append(out, v...)
	}
	if matched != len(sent) {
		return nil, false, true // the patch names a field the row lacks
	}
	return append(out, '}'), true, true
}

// member is one key and raw value of a JSON object.
type member struct {
	key string
	val []byte
}

// members splits valid JSON b into its top-level members. isObj is false when
// b is not an object; ok is false when a key is not plain ASCII without
// escapes (then its bytes are not its value).
func members(b []byte, out []member) (_ []member, isObj, ok bool) {
	i := skipWS(b, 0)
	if b[i] != '{' {
		return nil, false, true
	}
	i++
	for {
		i = skipWS(b, i)
		switch b[i] {
		case '}':
			return out, true, true
		case ',':
			i++
			continue
		}
		// b[i] is the opening quote of a key.
		end := i + 1
		for ; b[end] != '"'; end++ {
			if c := b[end]; c == '\\' || c < 0x20 || c >= 0x80 {
				return nil, true, false
			}
		}
		key := string(b[i+1 : end])
		i = skipWS(b, end+1) + 1 // past the colon
		i = skipWS(b, i)
		vend := skipValue(b, i)
		out = append(out, member{key: key, val: b[i:vend]})
		i = vend
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return i
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// compactValid appends valid JSON v without insignificant whitespace, as
// json.Compact writes it.
func compactValid(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			start := i
			for i++; v[i] != '"'; i++ {
				if v[i] == '\\' {
					i++
				}
			}
			dst = append(dst, v[start:i+1]...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func hasDuplicate(ms []member) bool {
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			if ms[i].key == ms[j].key {
				return true
			}
		}
	}
	return false
}
