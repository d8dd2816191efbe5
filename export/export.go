// Package export writes report tables as CSV (RFC 4180) or as an Excel
// workbook, row by row as a table's source yields them, so an export of a
// million rows holds one page of them at a time (docs/api.md "Exports").
//
// It knows nothing of reports or HTTP: a Table is a name, a header and a
// function that yields rows; Write renders tables to an io.Writer.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Format is an export's file format.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ParseFormat reads the `format` query parameter; empty is CSV.
func ParseFormat(s string) (Format, bool) {
	switch Format(strings.ToLower(s)) {
	case "", CSV:
		return CSV, true
	case XLSX:
		return XLSX, true
	}
	return "", false
}

// ContentType is the media type of a format.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8; header=present"
}

// Row is one row of a table. A cell is nil (empty), a string, a bool, an int,
// an int64, a float64 or a time.Time (written in UTC).
type Row []any

// Table is one table of an export: a sheet of the workbook, or the whole of a
// CSV file.
type Table struct {
	Name    string // the sheet's name and the `table` parameter's value; at most 31 characters
	Columns []string
	// Rows yields the rows in order; an error from emit (the client went away)
	// must end it and be returned.
	Rows func(ctx context.Context, emit func(Row) error) error
}

// flushEvery is how many CSV rows go out between flushes: the client sees the
// file grow (and a proxy does not time out) while the source reads on.
const flushEvery = 500

// FormulaPrefixes are the first characters that make a spreadsheet read a
// text cell as a formula (=, +, -, @, and tab and carriage return, which some
// strip before looking). Text cells of a CSV file starting with one get a
// leading apostrophe (CSV injection); numbers are written as numbers.
const FormulaPrefixes = "=+-@\t\r"

// CSVText is how a text cell is written to a CSV file.
func CSVText(s string) string {
	if s != "" && strings.ContainsRune(FormulaPrefixes, rune(s[0])) {
		return "'" + s
	}
	return s
}

// cellText renders a cell for CSV.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return CSVText(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return CSVText(fmt.Sprint(v))
}

// WriteCSV writes t to w: a header row, then one record per row, CRLF line
// ends, UTF-8, quoted where RFC 4180 needs it. w is flushed every flushEvery
// rows when it is a *bufio.Writer.
func WriteCSV(ctx context.Context, w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	flush := func() error {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
		if bw, ok := w.(*bufio.Writer); ok {
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write csv: %w", err)
			}
		}
		return nil
	}
	if err := cw.Write(t.Columns); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	rec := make([]string, len(t.Columns))
	n := 0
	err := t.Rows(ctx, func(r Row) error {
		for i := range rec {
			rec[i] = ""
			if i < len(r) {
				rec[i] = cellText(r[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
		if n++; n%flushEvery == 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// Write renders the export in format f: the workbook holds every table; a CSV
// file the one named table (the first when name is empty).
func Write(ctx context.Context, w io.Writer, f Format, tables []Table, name string) error {
	if f == XLSX {
		return WriteXLSX(ctx, w, tables)
	}
	t, ok := Pick(tables, name)
	if !ok {
		return errors.New("no such table: " + name)
	}
	return WriteCSV(ctx, w, t)
}

// Pick returns the table called name, or the first when name is empty.
func Pick(tables []Table, name string) (Table, bool) {
	for _, t := range tables {
		if name == "" || t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// Names lists the tables' names.
func Names(tables []Table) []string {
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = t.Name
	}
	return out
}

// Slice is a table source over rows already in memory (a report aggregated
// per territory or rep, whose size is the organisation's, not its accounts').
func Slice(rows []Row) func(context.Context, func(Row) error) error {
	return func(_ context.Context, emit func(Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}
