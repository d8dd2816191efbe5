package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/export"
	"github.com/xuri/excelize/v2"
)

func rows(rs ...export.Row) func(context.Context, func(export.Row) error) error {
	return func(_ context.Context, emit func(export.Row) error) error {
		for _, r := range rs {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

var when = time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))

var tricky = export.Table{Name: "t", Columns: []string{"text", "n", "x", "when", "none"}, Rows: rows(
	export.Row{"=HYPERLINK(\"http://evil\")", int64(-5), -1.25, when, nil},
	export.Row{"+1", 3, 2.5, nil, nil},
	export.Row{"-2", true, 0.1, nil, nil},
	export.Row{"@SUM(A1)", int64(0), 100.0, nil, nil},
	export.Row{"\tx", 1, 1.0, nil, nil},
	export.Row{"a, \"quoted\"\nline", 1, 1.0, nil, nil},
	export.Row{"Müller – Café", 1, 1.0, nil, nil},
)}

// TestCSVIsRFC4180AndFormulaSafe: header row, CRLF line ends, quoting that a
// strict RFC 4180 reader reads back, UTF-8 kept, text starting with a formula
// character prefixed by an apostrophe, numbers left as numbers.
func TestCSVIsRFC4180AndFormulaSafe(t *testing.T) {
	var b bytes.Buffer
	if err := export.WriteCSV(context.Background(), &b, tricky); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "text,n,x,when,none\r\n") || strings.Count(b.String(), "\r\n") != 9 {
		t.Fatalf("not a CRLF file with a header row:\n%q", b.String())
	}
	got, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"text", "n", "x", "when", "none"},
		{"'=HYPERLINK(\"http://evil\")", "-5", "-1.25", "2026-03-01T08:30:00Z", ""},
		{"'+1", "3", "2.5", "", ""},
		{"'-2", "true", "0.1", "", ""},
		{"'@SUM(A1)", "0", "100", "", ""},
		{"'\tx", "1", "1", "", ""},
		{"a, \"quoted\"\r\nline", "1", "1", "", ""},
		{"Müller – Café", "1", "1", "", ""}}
	// encoding/csv reads a quoted CRLF back as LF.
	want[6][0] = "a, \"quoted\"\nline"
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read back\n%q\nwant\n%q", got, want)
	}
}

// TestXLSXOpens: the workbook reads back with excelize, one sheet per table,
// cells typed (text as written, no apostrophe: a typed text cell is never a
// formula), times as dates.
func TestXLSXOpens(t *testing.T) {
	var b bytes.Buffer
	second := export.Table{Name: "second", Columns: []string{"a"}, Rows: rows(export.Row{"x"})}
	if err := export.WriteXLSX(context.Background(), &b, []export.Table{tricky, second}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); fmt.Sprint(got) != "[t second]" {
		t.Fatalf("sheets %v", got)
	}
	rs, err := f.GetRows("t", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 8 || rs[1][0] != "=HYPERLINK(\"http://evil\")" || rs[1][1] != "-5" || rs[1][2] != "-1.25" || rs[7][0] != "Müller – Café" {
		t.Fatalf("rows %q", rs)
	}
	if f, _ := f.GetCellFormula("t", "A2"); f != "" {
		t.Fatalf("text became a formula: %q", f)
	}
	shown, _ := f.GetCellValue("t", "D2")
	if shown != "2026-03-01 08:30:00" {
		t.Fatalf("time shows as %q", shown)
	}
	if v, _ := f.GetCellValue("t", "B4"); v != "TRUE" {
		t.Fatalf("bool shows as %q", v)
	}
	id, _ := f.GetCellStyle("t", "C1")
	if st, err := f.GetStyle(id); err != nil || st.Font == nil || !st.Font.Bold {
		t.Fatalf("header style %d %+v %v", id, st, err)
	}
}

// TestXLSXText: text XML cannot hold as it is reads back as written (markup
// characters, line breaks, a carriage return, spaces at the ends), what XML
// cannot hold at all (control characters, invalid UTF-8) as U+FFFD, and text
// past a cell's 32,767 characters cut there.
func TestXLSXText(t *testing.T) {
	long := strings.Repeat("ü", 40000)
	cells := []string{"<b>&amp;</b> \"quoted\" 'x'", "two\nlines\r\nthree\tcols", "  spaced  ",
		"bell\x07 nul\x00 bad\xff end", long}
	want := []string{cells[0], cells[1], cells[2], "bell\uFFFD nul\uFFFD bad\uFFFD end", long[:2*32767]}
	var r export.Row
	for _, c := range cells {
		r = append(r, c)
	}
	var b bytes.Buffer
	tab := export.Table{Name: "t", Columns: []string{"a", "b", "c", "d", "e"}, Rows: rows(r)}
	if err := export.WriteXLSX(context.Background(), &b, []export.Table{tab}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := f.GetRows("t")
	if err != nil || len(rs) != 2 {
		t.Fatalf("%q %v", rs, err)
	}
	for i, w := range want {
		if rs[1][i] != w {
			t.Fatalf("column %d: %.80q, want %.80q", i, rs[1][i], w)
		}
	}
}

// countingWriter counts what reached it.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// TestCSVFlushesWhileReading: bytes reach the connection while the source is
// still yielding rows, not once it is done (the source checks at its last
// row, so no timing is involved).
func TestCSVFlushesWhileReading(t *testing.T) {
	sink := &countingWriter{}
	bw := bufio.NewWriterSize(sink, 1<<20) // larger than the whole file: only a flush moves bytes
	seenBeforeEnd := 0
	tab := export.Table{Name: "big", Columns: []string{"i", "name"},
		Rows: func(_ context.Context, emit func(export.Row) error) error {
			for i := range 5001 {
				if err := emit(export.Row{i, "account"}); err != nil {
					return err
				}
			}
			seenBeforeEnd = sink.n
			return nil
		}}
	if err := export.WriteCSV(context.Background(), bw, tab); err != nil {
		t.Fatal(err)
	}
	if seenBeforeEnd == 0 || seenBeforeEnd >= sink.n {
		t.Fatalf("%d of %d bytes written before the last row", seenBeforeEnd, sink.n)
	}
}

// TestXLSXStreamsWhileReading: the workbook's bytes reach the connection
// while the source is still yielding rows, compressed as they come.
func TestXLSXStreamsWhileReading(t *testing.T) {
	sink := &countingWriter{}
	bw := bufio.NewWriterSize(sink, 1<<20)
	seenBeforeEnd := 0
	tab := export.Table{Name: "big", Columns: []string{"i", "name"},
		Rows: func(_ context.Context, emit func(export.Row) error) error {
			for i := range 5001 {
				if err := emit(export.Row{i, fmt.Sprintf("account %d", i)}); err != nil {
					return err
				}
			}
			seenBeforeEnd = sink.n
			return nil
		}}
	if err := export.WriteXLSX(context.Background(), bw, []export.Table{tab}); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if seenBeforeEnd == 0 || seenBeforeEnd >= sink.n {
		t.Fatalf("%d of %d bytes written before the last row", seenBeforeEnd, sink.n)
	}
}

// TestSourceErrorStops: an error of the source (or of the client's
// connection) ends the export with that error.
func TestSourceErrorStops(t *testing.T) {
	boom := errors.New("boom")
	tab := export.Table{Name: "t", Columns: []string{"a"}, Rows: func(context.Context, func(export.Row) error) error { return boom }}
	for _, f := range []export.Format{export.CSV, export.XLSX} {
		if err := export.Write(context.Background(), &bytes.Buffer{}, f, []export.Table{tab}, ""); !errors.Is(err, boom) {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// TestXLSXDates: times are Excel's day numbers (1 March 1900 is day 61 of its
// 1900 system, noon half a day); those it cannot show as dates (before March
// 1900, after 9999) are RFC 3339 text, as in CSV.
func TestXLSXDates(t *testing.T) {
	days := []time.Time{
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC),
		time.Date(1900, 2, 28, 23, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	r := export.Row{}
	for _, d := range days {
		r = append(r, d)
	}
	var b bytes.Buffer
	tab := export.Table{Name: "t", Columns: []string{"a", "b", "c", "d"}, Rows: rows(r)}
	if err := export.WriteXLSX(context.Background(), &b, []export.Table{tab}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := f.GetRows("t", excelize.Options{RawCellValue: true})
	if err != nil || len(rs) != 2 {
		t.Fatalf("%q %v", rs, err)
	}
	want := []string{"61", "46358.5", "1900-02-28T23:00:00Z", "10000-01-01T00:00:00Z"}
	if fmt.Sprint(rs[1]) != fmt.Sprint(want) {
		t.Fatalf("cells %q, want %q", rs[1], want)
	}
}
