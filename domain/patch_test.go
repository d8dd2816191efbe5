package domain_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
)

// serverOwned is what push ignores in a rep's patch (docs/protocol.md §4.2).
var serverOwned = map[string]bool{
	"id": true, "version": true, "updated_at": true, "total_cents": true, "author_id": true, "rep_id": true,
}

func TestApplyPatch_Visit(t *testing.T) {
	tests := []struct {
		name        string
		patch       string
		opt         domain.PatchOptions
		wantChanged []string
		wantErr     []string
		check       func(*testing.T, domain.Visit)
	}{
		{name: "Empty", patch: `{}`},
		{name: "Unchanged", patch: `{"status":"planned","planned_at":"2026-11-22T09:30:00Z"}`},
		{name: "SameInstantOtherZone", patch: `{"planned_at":"2026-11-22T10:30:00+01:00"}`},
		{
			name: "CheckIn", patch: `{"status":"checked_in","checked_in_at":"2026-11-22T11:00:00+02:00","check_in_lat":48.1,"check_in_lng":11.5}`,
			wantChanged: []string{"check_in_lat", "check_in_lng", "checked_in_at", "status"},
			check: func(t *testing.T, v domain.Visit) {
				if v.CheckedInAt == nil || !v.CheckedInAt.Equal(t0.Add(-30*time.Minute)) || v.CheckedInAt.Location() != time.UTC {
					t.Errorf("checked_in_at = %v, want 09:00 UTC", v.CheckedInAt)
				}
				if *v.CheckInLat != 48.1 || *v.CheckInLng != 11.5 {
					t.Errorf("position = %v,%v", *v.CheckInLat, *v.CheckInLng)
				}
			},
		},
		{
			name: "IgnoredServerFields", patch: `{"id":"x","version":99,"updated_at":"garbage","rep_id":5,"report":"fine"}`,
			opt: domain.PatchOptions{Ignore: serverOwned}, wantChanged: []string{"report"},
			check: func(t *testing.T, v domain.Visit) {
				if v.ID != id1 || v.Version != 3 || v.RepID != id3 {
					t.Errorf("server-owned fields changed: %+v", v)
				}
			},
		},
		{
			name: "NullClearsPointer", patch: `{"report":null,"outcome":"ordered"}`, wantChanged: []string{"outcome", "report"},
			check: func(t *testing.T, v domain.Visit) {
				if v.Report != nil || *v.Outcome != "ordered" {
					t.Errorf("report = %v, outcome = %v", v.Report, v.Outcome)
				}
			},
		},
		{
			name: "EveryBadKey", opt: domain.PatchOptions{Writable: map[string]bool{"status": true, "report": true, "planned_at": true, "check_in_lat": true}},
			patch:   `{"Status":"planned","colour":1,"account_id":"` + id4 + `","status":7,"report":false,"planned_at":"2026-11-22 09:30","check_in_lat":"48"}`,
			wantErr: []string{"Status: unknown field", "account_id: may not be changed", "check_in_lat: must be a number", "colour: unknown field", "planned_at: must be an RFC 3339 time", "report: must be a string", "status: must be a string"},
		},
		{name: "NullForValueField", patch: `{"status":null,"planned_at":null}`,
			wantErr: []string{"planned_at: must be an RFC 3339 time", "status: must be a string"}},
		{name: "YearZeroInUTC", patch: `{"planned_at":"0000-01-01T00:30:00+01:00"}`, wantErr: []string{"planned_at: must be an RFC 3339 time"}},
		{name: "Object", patch: `{"report":{"a":1}}`, wantErr: []string{"report: must be a string"}},
		{name: "NumberTooBig", patch: `{"check_in_lat":1e999}`, wantErr: []string{"check_in_lat: must be a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := visit()
			v.Report, v.Version = ptr("old"), 3
			before := v
			changed, err := domain.ApplyPatch(&v, []byte(tt.patch), tt.opt)
			if tt.wantErr != nil {
				wantFields(t, err, tt.wantErr...)
				if !reflect.DeepEqual(v, before) {
					t.Fatalf("row changed on error: %+v", v)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyPatch: %v %v", err, err.Fields)
			}
			if !reflect.DeepEqual(changed, tt.wantChanged) {
				t.Errorf("changed = %q, want %q", changed, tt.wantChanged)
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}

func TestApplyPatch_Order(t *testing.T) {
	tests := []struct {
		name        string
		patch       string
		wantChanged []string
		wantErr     []string
		wantLines   []domain.OrderLine
	}{
		{
			name: "Lines", patch: `{"lines":[{"product_id":"` + id4 + `","quantity":3,"discount_pct":12.5}],"note":"asap"}`,
			wantChanged: []string{"lines", "note"},
			wantLines:   []domain.OrderLine{{ProductID: id4, Quantity: 3, DiscountPct: 1250}},
		},
		{name: "SameLines", patch: `{"lines":[{"product_id":"` + id4 + `","quantity":2,"unit_price_cents":1250,"discount_pct":10.00}]}`,
			wantLines: []domain.OrderLine{line()}},
		{name: "NullLines", patch: `{"lines":null}`, wantChanged: []string{"lines"}, wantLines: []domain.OrderLine{}},
		{
			name:  "BadLines",
			patch: `{"lines":[{"product_id":"` + id4 + `","quantity":1.5,"discount_pct":"10"},{"quantity":"2","extra":true,"discount_pct":10.125},7]}`,
			wantErr: []string{
				"lines[0].discount_pct: must be a number with at most two decimals",
				"lines[0].quantity: must be an integer",
				"lines[1].discount_pct: must be a number with at most two decimals",
				"lines[1].extra: unknown field",
				"lines[1].quantity: must be a number",
				"lines[2]: must be an object",
			},
		},
		{name: "LinesNotArray", patch: `{"lines":{}}`, wantErr: []string{"lines: must be an array"}},
		{name: "QuantityOverflow", patch: `{"lines":[{"quantity":99999999999999999999}]}`,
			wantErr: []string{"lines[0].quantity: must be an integer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := order()
			o.Lines = []domain.OrderLine{line()}
			before := order()
			before.Lines = []domain.OrderLine{line()}
			changed, err := domain.ApplyPatch(&o, []byte(tt.patch), domain.PatchOptions{Ignore: serverOwned})
			if tt.wantErr != nil {
				wantFields(t, err, tt.wantErr...)
				if !reflect.DeepEqual(o, before) {
					t.Fatalf("row changed on error: %+v", o)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyPatch: %v %v", err, err.Fields)
			}
			if !reflect.DeepEqual(changed, tt.wantChanged) {
				t.Errorf("changed = %q, want %q", changed, tt.wantChanged)
			}
			if !reflect.DeepEqual(o.Lines, tt.wantLines) {
				t.Errorf("lines = %+v, want %+v", o.Lines, tt.wantLines)
			}
		})
	}
}

// The patched row must share no memory with the old one: the caller keeps the
// old row as the conflict's server_row.
func TestApplyPatch_NoAliasing(t *testing.T) {
	o := order()
	o.Lines, o.Note = []domain.OrderLine{line()}, ptr("old")
	old := o
	if _, err := domain.ApplyPatch(&o, []byte(`{"note":"new","lines":[{"product_id":"`+id4+`","quantity":9}]}`), domain.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if *old.Note != "old" || old.Lines[0].Quantity != 2 {
		t.Fatalf("old row modified through shared memory: note %q, quantity %d", *old.Note, old.Lines[0].Quantity)
	}
}

func TestApplyPatch_NotAnObject(t *testing.T) {
	tests := []struct {
		patch string
		code  domain.Code
	}{
		{``, domain.CodeBadRequest},
		{`{"status":`, domain.CodeBadRequest},
		{`{"a":1}{}`, domain.CodeBadRequest},
		{`null`, domain.CodeValidation},
		{`[]`, domain.CodeValidation},
		{` "planned" `, domain.CodeValidation},
		{`17`, domain.CodeValidation},
	}
	for _, tt := range tests {
		v := visit()
		_, err := domain.ApplyPatch(&v, []byte(tt.patch), domain.PatchOptions{})
		if err == nil || err.Code != tt.code || len(err.Fields) != 0 {
			t.Errorf("ApplyPatch(%q) = %v, want %s without fields", tt.patch, err, tt.code)
		}
		if !reflect.DeepEqual(v, visit()) {
			t.Errorf("ApplyPatch(%q) changed the row", tt.patch)
		}
	}
}

func FuzzApplyPatch(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `{"status":"completed","checked_in_at":"2026-11-22T09:00:00Z","checked_out_at":"2026-11-22T10:00:00+01:00"}`,
		`{"report":null,"check_in_lat":-90,"check_in_lng":180.0}`, `{"status":1}`, `{"planned_at":"yesterday"}`,
		`{"lines":[{"product_id":"` + id4 + `","quantity":3,"discount_pct":12.5}]}`, `{"lines":null,"note":"x"}`,
		`{"lines":[{"quantity":-1e308,"discount_pct":-0.01}],"total_cents":1}`, `{"lines":[[]],"id":{}}`,
		`{"version":1,"updated_at":"x","Status":"x"}`, "{\"report\":\"\xff\"}", `{"planned_at":"0000-01-01T00:00:00+01:00"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		v := visit()
		v.Report, v.CheckInLat = ptr("r"), ptr(1.5)
		fuzzRow(t, &v, patch)
		o := order()
		o.Lines, o.Note = []domain.OrderLine{line()}, ptr("n")
		fuzzRow(t, &o, patch)
	})
}

// fuzzRow checks what every patch must satisfy: on error the row is untouched;
// on success only keys of the patch changed, and applying the same patch again
// changes nothing.
func fuzzRow[T any](t *testing.T, row *T, patch []byte) {
	before, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	opt := domain.PatchOptions{Ignore: serverOwned}
	changed, perr := domain.ApplyPatch(row, patch, opt)
	if perr != nil {
		after, _ := json.Marshal(row)
		if string(after) != string(before) {
			t.Fatalf("row changed on error %v:\n%s\n%s", perr, before, after)
		}
		return
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(patch, &keys); err != nil {
		t.Fatalf("accepted a patch that is not an object: %v", err)
	}
	for _, k := range changed {
		if _, ok := keys[k]; !ok || serverOwned[k] {
			t.Fatalf("changed %q, which the patch does not set", k)
		}
	}
	again, perr := domain.ApplyPatch(row, patch, opt)
	if perr != nil || len(again) != 0 {
		t.Fatalf("second application: changed %q, err %v", again, perr)
	}
}
