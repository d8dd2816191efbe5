package watermelon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// kind is how a Fieldsync field is typed in a WatermelonDB schema, whose
// columns are only strings, numbers and booleans.
type kind int

const (
	plain    kind = iota // the same JSON value on both sides
	nullText             // an optional string: "" from the app means null
	millis               // a time: RFC 3339 in Fieldsync, a number of ms in WatermelonDB
	jsonText             // an array: a JSON string in WatermelonDB (@json)
	readOnly             // sent, never taken from a push (server-owned)
)

type column struct {
	name string
	kind kind
}

// columns lists, per synced table, the columns a WatermelonDB app may
// declare, in the order the pull writes them. Nothing else is sent or taken:
// WatermelonDB's backend guide asks for whitelisted column names both ways.
var columns = map[string][]column{
	domain.TableTerritories: {{"name", plain}, {"parent_id", nullText}},
	domain.TableUsers:       {{"name", plain}, {"role", plain}, {"territory_ids", jsonText}},
	domain.TableProducts: {{"sku", plain}, {"name", plain}, {"unit_price_cents", plain}, {"currency", plain},
		{"active", plain}},
	domain.TableAccounts: {{"name", plain}, {"territory_id", plain}, {"owner_id", nullText}, {"class", plain},
		{"status", plain}, {"address", nullText}, {"phone", nullText}, {"email", nullText}, {"lat", plain}, {"lng", plain}},
	domain.TableVisits: {{"account_id", plain}, {"rep_id", readOnly}, {"status", plain}, {"planned_at", millis},
		{"checked_in_at", millis}, {"checked_out_at", millis}, {"check_in_lat", plain}, {"check_in_lng", plain},
		{"check_in_distance_m", readOnly}, {"outcome", nullText}, {"report", nullText}},
	domain.TableOrders: {{"number", readOnly}, {"account_id", plain}, {"rep_id", readOnly}, {"visit_id", nullText},
		{"status", plain}, {"lines", jsonText}, {"total_cents", readOnly}, {"currency", plain}, {"note", nullText},
		{"reason", nullText}, {"submitted_at", millis}},
	domain.TableAccountNotes: {{"account_id", plain}, {"author_id", readOnly}, {"body", plain},
		{"conflict_of", nullText}},
}

// Every table also carries these, server-owned.
var trailer = []column{{"version", readOnly}, {"updated_at", millis}}

func columnOf(table, name string) (column, bool) {
	for _, c := range columns[table] {
		if c.name == name {
			return c, true
		}
	}
	return column{}, false
}

var null = []byte("null")

// appendRow appends a Fieldsync row (wire JSON) as a WatermelonDB raw record:
// times as milliseconds, arrays as JSON strings, only whitelisted columns.
func appendRow(b []byte, table string, row json.RawMessage) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(row, &fields); err != nil {
		return b, fmt.Errorf("decode %s row: %w", table, err)
	}
	b = append(b, `{"id":`...)
	b = append(b, fields["id"]...)
	for _, set := range [][]column{columns[table], trailer} {
		for _, c := range set {
			v, ok := fields[c.name]
			if !ok {
				continue
			}
			b = append(b, ',', '"')
			b = append(b, c.name...)
			b = append(b, '"', ':')
			switch {
			case bytes.Equal(v, null):
				b = append(b, null...)
			case c.kind == millis:
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return b, fmt.Errorf("%s.%s: %w", table, c.name, err)
				}
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return b, fmt.Errorf("%s.%s: %w", table, c.name, err)
				}
				b = strconv.AppendInt(b, t.UnixMilli(), 10)
			case c.kind == jsonText:
				var compact bytes.Buffer
				if err := json.Compact(&compact, v); err != nil {
					return b, fmt.Errorf("%s.%s: %w", table, c.name, err)
				}
				b = strconv.AppendQuote(b, compact.String())
			default:
				b = append(b, v...)
			}
		}
	}
	return append(b, '}'), nil
}

// fieldsOf turns the named columns of a WatermelonDB raw record into a
// Fieldsync row patch: only whitelisted, device-writable columns, times back
// to RFC 3339, JSON strings back to arrays, "" of optional strings to null.
// names nil means every column the record holds (a create).
func fieldsOf(table string, rec map[string]json.RawMessage, names []string) (json.RawMessage, error) {
	if names == nil {
		for _, c := range columns[table] {
			if _, ok := rec[c.name]; ok {
				names = append(names, c.name)
			}
		}
	}
	out := make(map[string]json.RawMessage, len(names))
	for _, n := range names {
		c, ok := columnOf(table, n)
		v, present := rec[n]
		if !ok || !present || c.kind == readOnly {
			continue // app-local, server-owned or absent: not Fieldsync's to take
		}
		conv, err := toFieldsync(c, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		out[n] = conv
	}
	return json.Marshal(out)
}

func toFieldsync(c column, v json.RawMessage) (json.RawMessage, error) {
	if bytes.Equal(v, null) {
		return v, nil
	}
	switch c.kind {
	case millis:
		var ms float64
		if err := json.Unmarshal(v, &ms); err != nil {
			return nil, fmt.Errorf("must be a number of milliseconds")
		}
		if ms == 0 {
			return null, nil // a non-optional number column's default: no time
		}
		return json.Marshal(time.UnixMilli(int64(ms)).UTC().Format(time.RFC3339Nano))
	case jsonText:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("must be a JSON string")
		}
		if s == "" {
			return json.RawMessage("[]"), nil
		}
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("must hold JSON")
		}
		return json.RawMessage(s), nil
	case nullText:
		if bytes.Equal(v, []byte(`""`)) {
			return null, nil
		}
	}
	return v, nil
}
