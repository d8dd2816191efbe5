// Package randfill fills any Go value with random contents by reflection, for
// tests that compare a hand-written JSON encoder with encoding/json. Because it
// walks the type, a field added to a struct later is filled too: an encoder that
// forgets it fails the comparison instead of passing on a zero value that
// omitempty hides.
//
// Slices and maps come out nil, empty or filled; pointers nil or set; strings
// from a pool of the awkward cases (HTML characters, quotes, backslashes,
// control bytes, U+2028/U+2029, multi-byte and invalid UTF-8) mixed with plain
// ASCII; json.RawMessage as nil, empty, or the compact output of json.Marshal
// (the form the store hands to the encoders); times with and without
// nanoseconds and zone offsets.
package randfill

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"time"
)

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
)

// pieces are concatenated into strings: each is a case an encoder can get
// wrong (escaping, HTML-safe escapes, invalid UTF-8 that becomes U+FFFD).
var pieces = []string{
	"", "a", "id-42", "0b7e5c4e-6f0e-4d7a-9d56-2b7a3c1e9f00", " ", "visits",
	"<", ">", "&", `"`, `\`, "/", "\n", "\r", "\t", "\x00", "\x01", "\x1f", "\x7f",
	"é", "ü", "日本", "😀", "\u2028", "\u2029", "\ufeff", "\xff", "\xc3", "\xed\xa0\x80",
}

// Filler fills values from one random source. MaxLen bounds slices, maps and
// strings (in pieces); Depth bounds recursion through pointers and containers.
type Filler struct {
	R      *rand.Rand
	MaxLen int
	Depth  int
}

// New returns a Filler seeded with seed, so a failure names a reproducible case.
func New(seed uint64) *Filler {
	return &Filler{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), MaxLen: 4, Depth: 4}
}

// Fill sets every exported field of *ptr (and every element below it).
func (f *Filler) Fill(ptr any) {
	f.fill(reflect.ValueOf(ptr).Elem(), f.Depth)
}

// String returns a random string built from the awkward pieces.
func (f *Filler) String() string {
	n := f.R.IntN(f.MaxLen + 1)
	s := ""
	for range n {
		s += pieces[f.R.IntN(len(pieces))]
	}
	return s
}

func (f *Filler) fill(v reflect.Value, depth int) {
	switch v.Type() {
	case rawMessageType:
		v.SetBytes(f.rawMessage(depth))
		return
	case timeType:
		v.Set(reflect.ValueOf(f.time()))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(f.R.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(f.int(v.Type().Bits()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(f.int(v.Type().Bits())))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(f.float())
	case reflect.String:
		v.SetString(f.String())
	case reflect.Pointer:
		if depth <= 0 || f.R.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth-1)
		v.Set(p)
	case reflect.Slice:
		switch {
		case depth <= 0 || f.R.IntN(4) == 0:
			v.SetZero() // nil
		case f.R.IntN(3) == 0:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // empty, not nil
		default:
			n := 1 + f.R.IntN(f.MaxLen)
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				f.fill(s.Index(i), depth-1)
			}
			v.Set(s)
		}
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), depth-1)
		}
	case reflect.Map:
		switch {
		case depth <= 0 || f.R.IntN(4) == 0:
			v.SetZero()
		default:
			m := reflect.MakeMap(v.Type())
			for range f.R.IntN(f.MaxLen + 1) {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				f.fill(k, depth-1)
				f.fill(e, depth-1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i), depth)
			}
		}
	case reflect.Interface:
		if v.NumMethod() == 0 && depth > 0 && f.R.IntN(2) == 0 {
			v.Set(reflect.ValueOf(f.jsonValue(depth - 1)))
		} else {
			v.SetZero()
		}
	default:
		panic("randfill: cannot fill a " + v.Type().String())
	}
}

// int returns zero, a small number, or any number that fits in bits.
func (f *Filler) int(bits int) int64 {
	switch f.R.IntN(4) {
	case 0:
		return 0
	case 1:
		return f.R.Int64N(200) - 100
	}
	x := f.R.Int64()
	if bits < 64 {
		x >>= 64 - bits
	}
	if f.R.IntN(2) == 0 {
		x = -x
	}
	return x
}

// float returns finite values only: encoding/json refuses NaN and infinities,
// and each encoder's refusal is tested where it is written.
func (f *Filler) float() float64 {
	switch f.R.IntN(6) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return float64(f.R.Int64N(2000)-1000) / 8
	case 3:
		return (f.R.Float64() - 0.5) * math.Pow(10, float64(f.R.IntN(60)-30))
	case 4:
		return []float64{1e21, 1e-7, 5e-324, math.MaxFloat64, -math.MaxFloat64, 0.1}[f.R.IntN(6)]
	}
	return (f.R.Float64() - 0.5) * 360
}

// time returns times in years 1..9999 (all encoding/json accepts), sometimes
// the zero time, whole seconds, or in a fixed zone.
func (f *Filler) time() time.Time {
	if f.R.IntN(10) == 0 {
		return time.Time{}
	}
	t := time.Unix(f.R.Int64N(253402300799+62135596800)-62135596800, 0).UTC()
	if f.R.IntN(2) == 0 {
		t = t.Add(time.Duration(f.R.Int64N(int64(time.Second))))
	}
	if f.R.IntN(3) == 0 {
		t = t.In(time.FixedZone("", (f.R.IntN(49)-24)*1800))
	}
	return t
}

// rawMessage returns nil, empty, or the compact, HTML-escaped JSON of a random
// value: what the store produces and the encoders copy as it is.
func (f *Filler) rawMessage(depth int) json.RawMessage {
	switch f.R.IntN(5) {
	case 0:
		return nil
	case 1:
		return json.RawMessage{}
	}
	b, err := json.Marshal(f.jsonValue(depth))
	if err != nil {
		panic("randfill: " + err.Error()) // jsonValue makes only marshalable values
	}
	return b
}

// jsonValue returns a random value of the kinds JSON has.
func (f *Filler) jsonValue(depth int) any {
	k := f.R.IntN(7)
	if depth <= 0 {
		k %= 4
	}
	switch k {
	case 0:
		return nil
	case 1:
		return f.R.IntN(2) == 0
	case 2:
		return f.float()
	case 3:
		return f.String()
	case 4:
		s := make([]any, f.R.IntN(f.MaxLen+1))
		for i := range s {
			s[i] = f.jsonValue(depth - 1)
		}
		return s
	default:
		m := map[string]any{}
		for range f.R.IntN(f.MaxLen + 1) {
			m[f.String()] = f.jsonValue(depth - 1)
		}
		return m
	}
}
