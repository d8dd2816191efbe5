package export

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func numbered(n int) func(context.Context, func(Row) error) error {
	return func(_ context.Context, emit func(Row) error) error {
		for i := range n {
			if err := emit(Row{i, "row " + strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestXLSXTableGoesOnInNextSheets: past a sheet's row or byte limit a table
// goes on in "name (2)", "name (3)"…, each with the header, no row lost or
// repeated; the next table starts its own sheet. A name too long for the
// suffix is cut before it, so the parts' names stay distinct.
func TestXLSXTableGoesOnInNextSheets(t *testing.T) {
	long := strings.Repeat("é", 30)
	for _, c := range []struct {
		what string
		lim  sheetLimits
	}{
		{"rows", sheetLimits{rows: 4, bytes: 1 << 30}},
		{"bytes", sheetLimits{rows: 1 << 20, bytes: 400}},
	} {
		t.Run(c.what, func(t *testing.T) {
			var b bytes.Buffer
			tables := []Table{
				{Name: long, Columns: []string{"i", "s"}, Rows: numbered(10)},
				{Name: "next", Columns: []string{"x"}, Rows: numbered(1)},
			}
			if err := writeXLSX(context.Background(), &b, tables, c.lim); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(&b)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sheets := f.GetSheetList()
			if len(sheets) < 3 || sheets[0] != strings.Repeat("é", 30) || sheets[1] != strings.Repeat("é", 27)+" (2)" ||
				sheets[len(sheets)-1] != "next" {
				t.Fatalf("sheets %q", sheets)
			}
			next := 0
			for _, s := range sheets[:len(sheets)-1] {
				rs, err := f.GetRows(s)
				if err != nil {
					t.Fatal(err)
				}
				if len(rs) < 2 || fmt.Sprint(rs[0]) != "[i s]" {
					t.Fatalf("sheet %q: %q", s, rs)
				}
				if c.what == "rows" && len(rs) > 4 {
					t.Fatalf("sheet %q has %d rows", s, len(rs))
				}
				for _, r := range rs[1:] {
					if fmt.Sprint(r) != fmt.Sprintf("[%d row %d]", next, next) {
						t.Fatalf("sheet %q: row %q, want %d", s, r, next)
					}
					next++
				}
			}
			if next != 10 {
				t.Fatalf("%d rows read back", next)
			}
		})
	}
}
