package wire

import (
	"encoding/json"
	"math/rand/v2"
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

// leanCase builds a random row and a random patch over mostly the same keys,
// with the oddities clients and servers may send: spacing, repeated keys,
// nulls, nested values, escaped and non-ASCII keys and strings.
func leanCase(rng *rand.Rand) (row, patch []byte) {
	keys := []string{"id", "version", "a", "b", "c", "d", `e\"q`, "ü", "z"}
	vals := []string{`1`, `2`, `"x"`, `"x\"y"`, `null`, `[1,2]`, `[1, 2]`, `{"k":[true,{"n":null}]}`, `{ "k" : "v" }`, `"v1"`, `3`, `-0.5e3`, `""`, `"é"`}
	ws := func() string { return []string{"", "", "", " ", "\n\t"}[rng.IntN(5)] }
	obj := func(n int) []byte {
		var b []byte
		b = append(b, ws()...)
		b = append(b, '{')
		for i := 0; i < n; i++ {
			if i > 0 {
				b = append(b, ws()+","+ws()...)
			}
			b = append(b, ws()+`"`+keys[rng.IntN(len(keys))]+`"`+ws()+":"+ws()+vals[rng.IntN(len(vals))]+ws()...)
		}
		return append(b, '}')
	}
	row, patch = obj(rng.IntN(8)), obj(rng.IntN(5))
	switch rng.IntN(12) {
	case 0:
		patch = nil
	case 1:
		patch = []byte(`null`)
	case 2:
		patch = []byte(` null`)
	case 3:
		patch = []byte(`[1]`)
	case 4:
		patch = patch[:len(patch)/2] // malformed
	case 5:
		row = append(row, ` x`...)
	case 6:
		row = []byte(`[]`)
	}
	return row, patch
}

// TestLeanFields_FastMatchesSlow: the hand-written path answers every input
// exactly as the encoding/json one, or leaves it to it.
func TestLeanFields_FastMatchesSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	taken := 0
	for i := 0; i < 20000; i++ {
		row, patch := leanCase(rng)
		id, version := []string{"v1", "x"}[rng.IntN(2)], int64(rng.IntN(4))
		want, wantOK := leanSlow(row, patch, id, version)
		got, ok, done := leanFast(row, patch, id, version)
		if !done {
			continue
		}
		taken++
		if ok != wantOK || string(got) != string(want) {
			t.Fatalf("row %s patch %s: fast %s, %v; slow %s, %v", row, patch, got, ok, want, wantOK)
		}
	}
	if taken < 5000 {
		t.Fatalf("the fast path answered only %d of 20000 cases", taken)
	}
}

func FuzzLeanFields(f *testing.F) {
	f.Add([]byte(`{"id":"v1","a":1,"b":"x","c":null,"version":3}`), []byte(`{"a":1, "c" : [1, 2]}`), "v1", int64(3))
	f.Add([]byte(`{"a":{"b":[1,"]"]}}`), []byte(`{"a":{ "b":[1,"]"] }}`), "", int64(0))
	f.Fuzz(func(t *testing.T, row, patch []byte, id string, version int64) {
		want, wantOK := leanSlow(row, patch, id, version)
		if got, ok, done := leanFast(row, patch, id, version); done && (ok != wantOK || string(got) != string(want)) {
			t.Fatalf("row %q patch %q: fast %s, %v; slow %s, %v", row, patch, got, ok, want, wantOK)
		}
	})
}
