package wire

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r encoded exactly as encoding/json would, without its
// reflection and without re-validating every row: pull pages are the hottest
// output of the server. One deliberate difference: a nil Changes is written as
// [] (encoding/json writes null), since the contract's list is never null.
// Rows must be compact JSON as encoding/json writes it (HTML-escaped), which is
// how the store produces them. drift_test.go compares this encoder with
// json.Marshal on randomly filled values; a field added to Change or
// PullResponse must be added here too (see docs/development.md).
func (r PullResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"changes":[`...)
	for i, c := range r.Changes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"table":`...)
		b = appendString(b, c.Table)
		b = append(b, `,"op":`...)
		b = appendString(b, c.Op)
		b = append(b, `,"id":`...)
		b = appendString(b, c.ID)
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, c.Version, 10)
		if len(c.Row) > 0 {
			b = append(b, `,"row":`...)
			b = append(b, c.Row...)
		}
		if c.Reason != "" {
			b = append(b, `,"reason":`...)
			b = appendString(b, c.Reason)
		}
		b = append(b, '}')
	}
	b = append(b, `],"cursor":`...)
	b = appendString(b, r.Cursor)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, r.HasMore)
	b = append(b, `,"reset":`...)
	b = strconv.AppendBool(b, r.Reset)
	return append(b, '}')
}

// appendString quotes s as a JSON string. Table names, ops, UUIDs and cursors are
// plain ASCII and take the fast path; anything else goes through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendJSON appends r encoded exactly as encoding/json would, except that a
// nil Results is written as [] (never null); rows must be compact JSON as
// encoding/json writes it (they come from the store).
func (r PushResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"results":[`...)
	for i, m := range r.Results {
		if i > 0 {
			b = append(b, ',')
		}
		b = m.AppendJSON(b)
	}
	return append(b, "]}"...)
}

// AppendJSON appends m encoded exactly as encoding/json would: push stores
// each result for replays in this form and sends it in the response.
func (m MutationResult) AppendJSON(b []byte) []byte {
	b = append(b, `{"mutation_id":`...)
	b = appendString(b, m.MutationID)
	b = append(b, `,"status":`...)
	b = appendString(b, m.Status)
	if m.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, m.Version, 10)
	}
	if len(m.Row) > 0 {
		b = append(b, `,"row":`...)
		b = append(b, m.Row...)
	}
	if len(m.Fields) > 0 {
		b = append(b, `,"fields":`...)
		b = append(b, m.Fields...)
	}
	if m.ConflictID != "" {
		b = append(b, `,"conflict_id":`...)
		b = appendString(b, m.ConflictID)
	}
	if m.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, m.Reason)
	}
	if m.Error != nil {
		// Rare, and its messages may hold any text: leave it to encoding/json.
		e, _ := json.Marshal(m.Error) // a struct of strings always marshals
		b = append(b, `,"error":`...)
		b = append(b, e...)
	}
	return append(b, '}')
}
