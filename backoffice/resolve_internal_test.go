package backoffice

import (
	"encoding/json"
	"testing"

	"github.com/fieldsync/fieldsync/store"
)

func TestDeviceTarget(t *testing.T) {
	server := `{"id":"r","status":"draft","note":null,"lines":[],"version":2,"updated_at":"2026-11-23T09:00:00Z"}`
	cases := []struct {
		name, device string
		server       *string
		del          bool
		patch        string
	}{
		{"ChangedFieldsOnly", `{"id":"r","status":"draft","note":"x","lines":[],"version":2,"updated_at":"2026-11-23T10:00:00Z"}`, &server, false, `{"note":"x"}`},
		{"CreateIsWholeRow", `{"id":"r","note":"x"}`, nil, false, `{"id":"r","note":"x"}`},
		{"StoredPatch", `{"mutation_id":"m","table":"orders","op":"upsert","id":"r","base_version":1,"row":{"note":"y"}}`, &server, false, `{"note":"y"}`},
		{"StoredDelete", `{"mutation_id":"m","table":"orders","op":"delete","id":"r","base_version":1}`, nil, true, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := deviceTarget(store.ConflictRecord{ID: "c", Tbl: "orders", RowID: "r", DeviceRow: tc.device, ServerRow: tc.server})
			if err != nil {
				t.Fatal(err)
			}
			if got.del != tc.del || got.table != "orders" || got.id != "r" || !sameJSON(got.patch, tc.patch) {
				t.Errorf("target %+v (patch %s), want del=%v patch %s", got, got.patch, tc.del, tc.patch)
			}
		})
	}
}

func TestWithoutUnchanged(t *testing.T) {
	row := map[string]any{"account_id": "a", "report": "old", "outcome": nil}
	got := withoutUnchanged(json.RawMessage(`{"account_id":"a","report":"new","outcome":null}`), row)
	if !sameJSON(got, `{"report":"new"}`) {
		t.Errorf("patch = %s", got)
	}
}

func sameJSON(a json.RawMessage, b string) bool {
	if len(a) == 0 || b == "" {
		return len(a) == 0 && b == ""
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
