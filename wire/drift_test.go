package wire

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/internal/randfill"
)

// appender is what the hand-written encoders of this package implement.
type appender interface{ AppendJSON([]byte) []byte }

// handEncoded lists every type of this package with an AppendJSON method, one
// random value of each at a time. TestHandEncoders_AllListed keeps the list
// whole, so a new encoder cannot escape the comparison below.
var handEncoded = map[string]func(*randfill.Filler) appender{
	"PullResponse":   func(f *randfill.Filler) appender { var v PullResponse; f.Fill(&v); return v },
	"PushResponse":   func(f *randfill.Filler) appender { var v PushResponse; f.Fill(&v); return v },
	"MutationResult": func(f *randfill.Filler) appender { var v MutationResult; f.Fill(&v); return v },
}

// TestHandEncoders_MatchEncodingJSON fills every field of every hand-encoded
// type at random (by reflection, so a field added later is filled too) and
// compares AppendJSON with json.Marshal. The one documented difference: a nil
// top-level list (changes, results) is written as [], never null.
func TestHandEncoders_MatchEncodingJSON(t *testing.T) {
	const iterations = 20000
	for name, gen := range handEncoded {
		t.Run(name, func(t *testing.T) {
			f := randfill.New(uint64(len(name)) * 7919)
			for i := range iterations {
				v := gen(f)
				want, err := json.Marshal(nilListsAsEmpty(v))
				if err != nil {
					t.Fatalf("iteration %d: json.Marshal(%#v): %v", i, v, err)
				}
				prefix := []byte("prefix:")
				got := v.AppendJSON(append([]byte(nil), prefix...))
				if !bytes.HasPrefix(got, prefix) {
					t.Fatalf("iteration %d: AppendJSON overwrote what b held: %q", i, got)
				}
				if got = got[len(prefix):]; !bytes.Equal(got, want) {
					t.Fatalf("iteration %d: %#v\n AppendJSON %s\n json.Marshal %s", i, v, got, want)
				}
			}
		})
	}
}

// TestHandEncoders_NilAndEmptyLists pins the difference the claim admits: nil
// and empty lists both go out as [] (the contract's lists are never null).
func TestHandEncoders_NilAndEmptyLists(t *testing.T) {
	for _, tc := range []struct {
		v    appender
		want string
	}{
		{PullResponse{}, `{"changes":[],"cursor":"","has_more":false,"reset":false}`},
		{PullResponse{Changes: []Change{}}, `{"changes":[],"cursor":"","has_more":false,"reset":false}`},
		{PushResponse{}, `{"results":[]}`},
		{PushResponse{Results: []MutationResult{}}, `{"results":[]}`},
		{MutationResult{Error: &ErrorDetail{}}, `{"mutation_id":"","status":"","error":{"code":"","message":""}}`},
	} {
		if got := string(tc.v.AppendJSON(nil)); got != tc.want {
			t.Errorf("%#v: got %s, want %s", tc.v, got, tc.want)
		}
	}
}

// nilListsAsEmpty returns v with each nil slice field that lacks omitempty
// replaced by an empty one: what AppendJSON writes for it.
func nilListsAsEmpty(v any) any {
	rv := reflect.ValueOf(v)
	out := reflect.New(rv.Type()).Elem()
	out.Set(rv)
	for i := range out.NumField() {
		fv, tag := out.Field(i), out.Type().Field(i).Tag.Get("json")
		if fv.Kind() == reflect.Slice && fv.IsNil() && !strings.Contains(tag, "omitempty") {
			fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
		}
	}
	return out.Interface()
}

// TestHandEncoders_AllListed reads this package's source: every method named
// AppendJSON must belong to a type in handEncoded.
func TestHandEncoders_AllListed(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "AppendJSON" {
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			found = append(found, recv.(*ast.Ident).Name)
		}
	}
	slices.Sort(found)
	for _, name := range found {
		if handEncoded[name] == nil {
			t.Errorf("%s has an AppendJSON method but no entry in handEncoded: its encoder is untested", name)
		}
	}
	if len(found) != len(handEncoded) {
		t.Errorf("AppendJSON methods on %v, handEncoded lists %d types", found, len(handEncoded))
	}
}
