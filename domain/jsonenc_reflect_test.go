package domain

import (
	"reflect"
	"testing"

	"github.com/fieldsync/fieldsync/internal/randfill"
)

// TestAppendJSON_MatchesMarshal_ReflectFilled fills every exported field of each
// row type by reflection (rowGen above names the fields it fills, so a field
// added later would stay zero there and an omitempty one would never be
// compared) and compares AppendJSON with json.Marshal.
func TestAppendJSON_MatchesMarshal_ReflectFilled(t *testing.T) {
	for i, row := range []any{Territory{}, User{}, Product{}, Account{}, Visit{}, Order{}, AccountNote{}} {
		typ := reflect.TypeOf(row)
		t.Run(typ.Name(), func(t *testing.T) {
			f := randfill.New(uint64(1000 + i))
			for range 5000 {
				p := reflect.New(typ)
				f.Fill(p.Interface())
				assertSameAsMarshal(t, p.Elem().Interface())
			}
		})
	}
}
