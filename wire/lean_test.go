package wire

import (
	"encoding/json"
	"testing"
)

func TestLeanFields(t *testing.T) {
	row := json.RawMessage(`{"id":"v1","a":1,"b":"x","c":null,"d":[1,2],"e":"server","version":3}`)
	for _, tc := range []struct {
		name, patch, want string
		ok                bool
	}{
		{"create", `{"a":1,"b":"x"}`, `{"d":[1,2],"e":"server"}`, true},
		{"spacing does not matter", `{ "a" : 1, "d" : [1, 2] }`, `{"b":"x","e":"server"}`, true},
		{"changed by the server", `{"a":2}`, `{"a":1,"b":"x","d":[1,2],"e":"server"}`, true},
		{"cleared by the server", `{"c":"mine","a":1,"b":"x","d":[1,2],"e":"server"}`, `{"c":null}`, true},
		{"null sent, null kept", `{"c":null,"a":1,"b":"x","d":[1,2],"e":"server"}`, `{}`, true},
		{"a field the row lacks", `{"zz":1}`, ``, false},
		{"not an object", `[1]`, ``, false},
		{"no patch (delete)", ``, `{"a":1,"b":"x","d":[1,2],"e":"server"}`, true},
	} {
		got, ok := LeanFields(row, json.RawMessage(tc.patch), "v1", 3)
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("%s: LeanFields = %s, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	// Another id or version is sent: the device must not take its own.
	if got, _ := LeanFields(row, json.RawMessage(`{}`), "v2", 4); string(got) != `{"id":"v1","a":1,"b":"x","d":[1,2],"e":"server","version":3}` {
		t.Errorf("id and version differing: %s", got)
	}
}
