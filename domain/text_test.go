package domain

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestTextErrors(t *testing.T) {
	type line struct {
		Name string `json:"name"`
	}
	type body struct {
		Email string          `json:"email"`
		Lines []line          `json:"lines"`
		Row   json.RawMessage `json:"row"`
		Tags  map[string]any  `json:"tags"`
		Ptr   *string         `json:"ptr"`
	}
	typ := reflect.TypeFor[body]()
	cases := []struct {
		name, raw string
		typ       reflect.Type
		want      []FieldError
	}{
		{"Clean", `{"email":"a@b.c","lines":[{"name":"é \u00e9 \ud83d\ude00"}],"ptr":null}`, typ, nil},
		{"NULEscape", `{"email":"a\u0000b"}`, typ, []FieldError{{"email", msgNUL}}},
		{"NULInArray", `{"lines":[{"name":"x"},{"name":"\u0000"}]}`, typ, []FieldError{{"lines[1].name", msgNUL}}},
		{"RawMessageSkipped", `{"row":{"body":"\u0000"},"email":"ok"}`, typ, nil},
		{"RawMessageCheckedUntyped", `{"row":{"body":"\u0000"}}`, nil, []FieldError{{"row.body", msgNUL}}},
		{"LoneHighSurrogate", `{"email":"\ud800x"}`, typ, []FieldError{{"email", msgBadUTF8}}},
		{"LoneLowSurrogate", `{"email":"\udc00"}`, typ, []FieldError{{"email", msgBadUTF8}}},
		{"InvalidUTF8", "{\"email\":\"a\xffb\"}", typ, []FieldError{{"email", msgBadUTF8}}},
		{"MapValue", `{"tags":{"k":["\u0000"]}}`, typ, []FieldError{{"tags.k[0]", msgNUL}}},
		{"BadKey", `{"tags":{"\u0000":1}}`, typ, []FieldError{{"tags", msgBadKeyTxt}}},
		{"CaseInsensitiveKey", `{"Row":{"x":"\u0000"},"EMAIL":"\u0000"}`, typ, []FieldError{{"EMAIL", msgNUL}}},
		{"TopLevelString", `"\u0000"`, nil, []FieldError{{"(body)", msgNUL}}},
		{"Numbers", `{"a":[1,-2.5e3,true,null],"b":"\u0000"}`, nil, []FieldError{{"b", msgNUL}}},
		{"EscapedQuote", `{"a":"x\"\u0000","b":"\\u0000"}`, nil, []FieldError{{"a", msgNUL}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := TextErrors([]byte(tc.raw), tc.typ); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("TextErrors(%s) = %v, want %v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestApplyPatch_RefusesUnstorableText(t *testing.T) {
	n := AccountNote{ID: "x", Body: "old"}
	_, err := ApplyPatch(&n, []byte(`{"body":"a\u0000b"}`), PatchOptions{})
	if err == nil || err.Code != CodeValidation || len(err.Fields) != 1 || err.Fields[0].Field != "body" {
		t.Fatalf("ApplyPatch = %v, want a validation error on body", err)
	}
	if n.Body != "old" {
		t.Errorf("row changed on error: %q", n.Body)
	}
}

// FuzzTextErrors: whatever the bytes, the scan ends; on valid JSON it finds a
// NUL exactly when the decoded value holds one.
func FuzzTextErrors(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, `[1,"x",{"b":[null]}]`, `[}]`, `{"a":}`, `"\ud800"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		errs := TextErrors(b, nil)
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		if hasNUL(v) && len(errs) == 0 {
			t.Errorf("%q: decoded value holds a NUL, TextErrors = %v", b, errs)
		}
	})
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return ValidText(x) == msgNUL
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if ValidText(k) == msgNUL || hasNUL(e) {
				return true
			}
		}
	}
	return false
}
