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
