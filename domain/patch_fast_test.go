package domain

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// fastTypes are the field types the fast paths know, and some they must
// decline.
var fastTypes = []reflect.Type{stringType, stringPtrType, timeType, timePtrType,
	reflect.TypeFor[*float64](), reflect.TypeFor[[]string](), reflect.TypeFor[int64](), reflect.TypeFor[Percent]()}

func randomRaw(rng *rand.Rand) json.RawMessage {
	vals := []string{`null`, `"x"`, `"6f1c0f7e-6c2e-4a54-9d5e-2f2b1a0c9e11"`, `""`, `"a<b"`, `"a&b"`, `"é"`, `"\u00e9"`,
		`"tab\there"`, "\"ctl\x01\"", `"a\"b"`, `"a\\b"`, `1`, `1.5`, `true`, `[]`, `["x"]`, `{}`, ` "x"`, `"x" `,
		`"2026-11-24T09:00:00Z"`, `"2026-11-24T09:00:00.123456789+02:00"`, `"2026-11-24T09:00:00-00:30"`,
		`"2026-11-24 09:00:00Z"`, `"2026-11-24T09:00:00"`, `"0000-01-01T00:30:00+01:00"`, `"9999-12-31T23:30:00-01:00"`,
		`"2026-02-30T09:00:00Z"`, `"2026-11-24T24:00:00Z"`, `"\u0032026-11-24T09:00:00Z"`, `"2026-11-24T09:00:00z"`}
	return json.RawMessage(vals[rng.IntN(len(vals))])
}

// TestFastCanonical_MatchesSlow: fastCanonical, where it answers, gives what
// the encoding/json path gives, and never answers for a value that path
// refuses.
func TestFastCanonical_MatchesSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	answered := 0
	for i := 0; i < 5000; i++ {
		raw, typ := randomRaw(rng), fastTypes[rng.IntN(len(fastTypes))]
		got, ok := fastCanonical(raw, typ)
		if !ok {
			continue
		}
		answered++
		want, errs := canonicalSlow("f", raw, typ)
		if len(errs) > 0 || !bytes.Equal(got, want) {
			t.Fatalf("%s as %v: fast %s; slow %s %v", raw, typ, got, want, errs)
		}
	}
	if answered < 400 {
		t.Fatalf("fast path answered %d of 5000", answered)
	}
}

// TestFastEncodeAndSet_MatchSlow: the old value's canonical form and the
// setting of a canonical value agree with json.Marshal+canonical and
// json.Unmarshal, for strings, times in odd zones and nil pointers.
func TestFastEncodeAndSet_MatchSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	zones := []*time.Location{time.UTC, time.FixedZone("p2", 2*3600), time.FixedZone("m30", -1800),
		time.FixedZone("odd", 1050), time.Local}
	strs := []string{"", "x", "a<b", "é", "tab\t", "6f1c0f7e-6c2e-4a54-9d5e-2f2b1a0c9e11"}
	for i := 0; i < 5000; i++ {
		var v reflect.Value
		switch rng.IntN(6) {
		case 0:
			v = reflect.ValueOf(strs[rng.IntN(len(strs))])
		case 1:
			s := strs[rng.IntN(len(strs))]
			v = reflect.ValueOf(&s)
		case 2:
			v = reflect.ValueOf((*string)(nil))
		case 3, 4:
			tm := time.Date(rng.IntN(10002)-1, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0,
				rng.IntN(2)*rng.IntN(1e9), zones[rng.IntN(len(zones))])
			if rng.IntN(2) == 0 {
				v = reflect.ValueOf(&tm)
			} else {
				v = reflect.ValueOf(tm)
			}
		default:
			v = reflect.ValueOf((*time.Time)(nil))
		}
		got, ok := fastEncode(v)
		if ok {
			raw, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%v: fast %s, but json.Marshal fails: %v", v, got, err)
			}
			want, errs := canonicalSlow("f", raw, v.Type())
			if len(errs) > 0 || !bytes.Equal(got, want) {
				t.Fatalf("%v: fast %s; slow %s %v", v, got, want, errs)
			}
		}
		// Setting: from the canonical form of a random raw value of v's type.
		canon, errs := canonicalSlow("f", randomRaw(rng), v.Type())
		if len(errs) > 0 {
			continue
		}
		fast := reflect.New(v.Type()).Elem()
		fast.Set(v) // fastSet overwrites whatever is there
		if !fastSet(fast, canon) {
			continue
		}
		slow := reflect.New(v.Type())
		if err := json.Unmarshal(canon, slow.Interface()); err != nil {
			t.Fatalf("%s: fast set, slow fails: %v", canon, err)
		}
		if !reflect.DeepEqual(fast.Interface(), slow.Elem().Interface()) {
			t.Fatalf("%s into %v: fast %#v; slow %#v", canon, v.Type(), fast.Interface(), slow.Elem().Interface())
		}
	}
}

func FuzzFastCanonical(f *testing.F) {
	f.Add([]byte(`"2026-11-24T09:00:00+02:00"`), 2)
	f.Add([]byte(`"x"`), 0)
	f.Fuzz(func(t *testing.T, raw []byte, ti int) {
		typ := fastTypes[uint(ti)%uint(len(fastTypes))]
		got, ok := fastCanonical(raw, typ)
		if !ok {
			return
		}
		want, errs := canonicalSlow("f", raw, typ)
		if len(errs) > 0 || !bytes.Equal(got, want) {
			t.Fatalf("%q as %v: fast %s; slow %s %v", raw, typ, got, want, errs)
		}
	})
}

// TestPlainKey_MatchesUnmarshal: where plainKey takes a key literal, its value
// is what encoding/json decodes.
func TestPlainKey_MatchesUnmarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	parts := []string{"a", "Z", " ", "\\", `\"`, `\u0041`, "é", "\xff", "\x01", "<", "_"}
	for i := 0; i < 5000; i++ {
		lit := `"`
		for n := rng.IntN(5); n > 0; n-- {
			lit += parts[rng.IntN(len(parts))]
		}
		if rng.IntN(10) > 0 {
			lit += `"`
		}
		got, ok := plainKey([]byte(lit))
		if !ok {
			continue
		}
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil || got != want {
			t.Fatalf("%q: plainKey %q; encoding/json %q, %v", lit, got, want, err)
		}
	}
}
