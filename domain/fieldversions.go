package domain

import (
	"bytes"
	"encoding/json"
	"sort"
)

// FieldVersions maps a row's field (by JSON name) to the row version that last
// changed it. Merging an offline edit needs exactly one question answered: which
// fields changed on the server since the device's base_version. A map per row
// answers it without keeping row history.
type FieldVersions map[string]int64

// ChangedSince lists the fields changed after base, sorted.
func (fv FieldVersions) ChangedSince(base int64) []string {
	var out []string
	for f, v := range fv {
		if v > base {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// Touch records that fields changed at version v.
func (fv FieldVersions) Touch(v int64, fields ...string) {
	for _, f := range fields {
		fv[f] = v
	}
}

// Encode returns the JSON form stored beside the row.
func (fv FieldVersions) Encode() string {
	if len(fv) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(map[string]int64(fv)) // a map of ints always marshals
	return string(b)
}

// DecodeFieldVersions reads the stored form; a malformed value reads as empty,
// which makes every field look unchanged since any base: merges then fall back to
// the device's value, never to losing it.
func DecodeFieldVersions(s string) FieldVersions {
	fv := FieldVersions{}
	_ = json.Unmarshal([]byte(s), &fv)
	return fv
}

// server-owned fields never count as a change made by a writer.
var metaFields = map[string]bool{"version": true, "updated_at": true}

// ChangedFields compares two rows of the same type by their JSON form and returns
// the JSON names of the fields that differ, sorted. Server-owned version and
// updated_at are ignored.
func ChangedFields(old, new any) []string {
	a, b := fieldMap(old), fieldMap(new)
	var out []string
	for k, v := range b {
		if metaFields[k] {
			continue
		}
		if !bytes.Equal(a[k], v) {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok && !metaFields[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func fieldMap(v any) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	b, err := json.Marshal(v)
	if err != nil {
		return m
	}
	_ = json.Unmarshal(b, &m)
	return m
}
