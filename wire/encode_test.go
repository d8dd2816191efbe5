package wire

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

func TestPullResponse_AppendJSONMatchesEncodingJSON(t *testing.T) {
	// Rows reach the encoder as json.Marshal output, already HTML-escaped.
	row, _ := json.Marshal(map[string]string{"id": "x", "report": "a<b & \u2028"})
	cases := []PullResponse{
		{Changes: []Change{}, Cursor: "abc", HasMore: false},
		{Changes: []Change{
			{Table: "visits", Op: "upsert", ID: "0b7e5c4e-6f0e-4d7a-9d56-2b7a3c1e9f00", Version: 3, Row: row},
			{Table: "accounts", Op: "delete", ID: "1", Version: 9, Reason: "out_of_scope"},
			{Table: "we\"ird<>", Op: "ü", ID: "\x01", Version: -1},
		}, Cursor: "eyJ2IjoxfQ", HasMore: true, Reset: true},
	}
	for _, r := range cases {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
		}
	}
}

func TestPushResponse_AppendJSONMatchesEncodingJSON(t *testing.T) {
	row, _ := json.Marshal(map[string]any{"id": "x", "report": "a<b", "version": 2})
	r := PushResponse{Results: []MutationResult{
		{MutationID: "m1", Status: StatusApplied, Version: 1, Row: row},
		{MutationID: "m2", Status: StatusMerged, Version: 6, Row: row},
		{MutationID: "m3", Status: StatusConflict, Version: 5, Row: row, ConflictID: "c1", Reason: "order already confirmed"},
		{MutationID: "m4", Status: StatusRejected, Error: &ErrorDetail{Code: "validation_failed", Message: "<bad> & \"odd\"",
			Fields: []domain.FieldError{{Field: "lines[0].quantity", Message: "must be at least 1"}}}},
		{MutationID: "m5", Status: StatusApplied},
	}}
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
	}
	empty := PushResponse{Results: []MutationResult{}}
	want, _ = json.Marshal(empty)
	if got := empty.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("empty: got %s want %s", got, want)
	}
}
