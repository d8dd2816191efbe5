package export

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The workbook is written here as a zip archive streamed to the client: each
// sheet's XML is compressed into the archive as its rows come, so the first
// bytes go out at once, nothing waits in memory or in a temporary file, and
// the memory held is the compressor's and a few buffers whatever the rows.
// Excelize, used before, builds the archive only once every sheet is complete
// (its stream writer parks the sheet XML in a temporary file, then the whole
// zip is assembled in a bytes.Buffer): 654 MB of RSS and the first byte after
// 352 s for 1.33M orders (docs/benchmarks.md "Exports at 1M accounts").
//
// The package holds the minimal parts of SpreadsheetML (ECMA-376): the
// worksheets with inline strings (no shared strings table, which would have
// to hold every distinct text until the end), a workbook listing them, a
// style sheet (bold header, date format), the relationships and the content
// types. The parts a reader finds through the central directory may come in
// any order, so the worksheets go first and the parts that list them last.

// xlsxMaxRows is a worksheet's limit (header included); a longer table goes
// on in a second sheet, "name (2)", with the header again.
const xlsxMaxRows = 1 << 20

// xlsxMaxText is a cell's limit in characters; longer text is cut.
const xlsxMaxText = 32767

// xlsxMaxSheetBytes keeps a worksheet's XML well under 4 GiB: a larger zip
// entry needs zip64 sizes, which archive/zip writes only in the data
// descriptor and the central directory, not in the local header some readers
// check. A table whose XML would grow past it goes on in the next sheet, as
// for the row limit. Orders are about 700 bytes a row, so only rows of long
// texts come near it.
const xlsxMaxSheetBytes = 3 << 30

// sheetLimits are where a sheet ends; tests make them small.
type sheetLimits struct {
	rows  int   // rows, header included
	bytes int64 // bytes of XML, after which no row starts
}

// Style ids of styles.xml's cellXfs.
const (
	styleHeader = "1"
	styleTime   = "2"
)

const (
	nsMain  = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRels  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	xmlDecl = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
)

// WriteXLSX writes the tables as the sheets of one workbook to w, streamed:
// w gets compressed rows while the sources still read (flushed every
// flushEvery rows when w is a *bufio.Writer, like CSV). Cells are typed: text
// is never a formula there, so it is written as it is.
func WriteXLSX(ctx context.Context, w io.Writer, tables []Table) error {
	return writeXLSX(ctx, w, tables, sheetLimits{rows: xlsxMaxRows, bytes: xlsxMaxSheetBytes})
}

func writeXLSX(ctx context.Context, w io.Writer, tables []Table, lim sheetLimits) error {
	wb := newWorkbook(w)
	for _, t := range tables {
		if err := wb.table(ctx, t, lim); err != nil {
			return err
		}
	}
	if err := wb.close(); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// workbook is the archive being written and the sheets it has so far.
type workbook struct {
	out     io.Writer
	zw      *zip.Writer
	deflate *flate.Writer // the open entry's compressor, flushed with the rows
	sheets  []string
	// The open sheet: its buffered writer, the bytes it has had, its next row.
	sw     *bufio.Writer
	cnt    *counter
	row    int
	rowRef []byte   // row's number as text, for the cells' references
	num    [32]byte // scratch for a cell's number
}

// counter counts the bytes of an entry.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newWorkbook(w io.Writer) *workbook {
	wb := &workbook{out: w, zw: zip.NewWriter(w)}
	// One compressor for every entry (an entry is closed before the next is
	// created), kept so that a flush can push its pending output.
	wb.zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		if wb.deflate == nil {
			fw, err := flate.NewWriter(out, flate.DefaultCompression)
			wb.deflate = fw
			return fw, err
		}
		wb.deflate.Reset(out)
		return wb.deflate, nil
	})
	return wb
}

// entry starts a part of the package.
func (wb *workbook) entry(name string) (io.Writer, error) {
	e, err := wb.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", name, err)
	}
	return e, nil
}

// table writes one table: its sheet, and more sheets past a sheet's limits.
func (wb *workbook) table(ctx context.Context, t Table, lim sheetLimits) error {
	part := 1
	cols := make([]string, len(t.Columns))
	for i := range cols {
		cols[i] = columnName(i)
	}
	head := make(Row, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c
	}
	start := func() error {
		if err := wb.startSheet(sheetName(t.Name, part)); err != nil {
			return err
		}
		return wb.writeRow(cols, head, styleHeader)
	}
	if err := start(); err != nil {
		return err
	}
	n := 0
	err := t.Rows(ctx, func(r Row) error {
		if wb.row > lim.rows || wb.cnt.n+int64(wb.sw.Buffered()) >= lim.bytes {
			if err := wb.endSheet(); err != nil {
				return err
			}
			part++
			if err := start(); err != nil {
				return err
			}
		}
		if err := wb.writeRow(cols, r, ""); err != nil {
			return err
		}
		if n++; n%flushEvery == 0 {
			return wb.flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return wb.endSheet()
}

func (wb *workbook) startSheet(name string) error {
	wb.sheets = append(wb.sheets, name)
	e, err := wb.entry(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(wb.sheets)))
	if err != nil {
		return err
	}
	wb.cnt = &counter{w: e}
	wb.sw = bufio.NewWriterSize(wb.cnt, 32<<10)
	wb.row = 1
	_, err = wb.sw.WriteString(xmlDecl + `<worksheet xmlns="` + nsMain + `" xmlns:r="` + nsRels + `"><sheetData>`)
	return sheetErr(err)
}

func (wb *workbook) endSheet() error {
	_, _ = wb.sw.WriteString(`</sheetData></worksheet>`)
	return sheetErr(wb.sw.Flush())
}

// flush pushes what the rows so far compressed to: through the compressor
// (a sync flush, which ends a deflate block but keeps its window), the zip
// writer's buffer and the caller's *bufio.Writer.
func (wb *workbook) flush() error {
	if err := wb.sw.Flush(); err != nil {
		return sheetErr(err)
	}
	if err := wb.deflate.Flush(); err != nil {
		return sheetErr(err)
	}
	if err := wb.zw.Flush(); err != nil {
		return sheetErr(err)
	}
	if bw, ok := wb.out.(*bufio.Writer); ok {
		return sheetErr(bw.Flush())
	}
	return nil
}

func sheetErr(err error) error {
	if err != nil {
		return fmt.Errorf("write sheet: %w", err)
	}
	return nil
}

// writeRow writes a row of cells; style is a cellXfs id for every cell, or
// "" for the cells' own (times get the date format).
func (wb *workbook) writeRow(cols []string, r Row, style string) error {
	w := wb.sw
	wb.rowRef = strconv.AppendInt(wb.rowRef[:0], int64(wb.row), 10)
	_, _ = w.WriteString(`<row r="`)
	_, _ = w.Write(wb.rowRef)
	_, _ = w.WriteString(`">`)
	for i, col := range cols {
		if i >= len(r) || r[i] == nil {
			continue
		}
		wb.cell(col, r[i], style)
	}
	_, err := w.WriteString(`</row>`)
	wb.row++
	return sheetErr(err)
}

// Excel's 1900 date system in Unix seconds: day 0 as it counts from March
// 1900 on (it takes 1900 for a leap year, so earlier dates are one day off),
// and the times it shows as dates, from 1 March 1900 to the end of 9999.
const (
	excelEpoch = -2209161600  // 1899-12-30T00:00:00Z
	excelFirst = -2203891200  // 1900-03-01T00:00:00Z
	excelLast  = 253402300800 // 10000-01-01T00:00:00Z, the first time too late
)

// cell writes one cell: a number, a boolean, a date (a number of days shown
// with the date format) or inline text.
func (wb *workbook) cell(col string, v any, style string) {
	w := wb.sw
	open := func(typ, s string) {
		_, _ = w.WriteString(`<c r="`)
		_, _ = w.WriteString(col)
		_, _ = w.Write(wb.rowRef)
		if style != "" {
			s = style
		}
		if s != "" {
			_, _ = w.WriteString(`" s="`)
			_, _ = w.WriteString(s)
		}
		if typ != "" {
			_, _ = w.WriteString(`" t="`)
			_, _ = w.WriteString(typ)
		}
		_, _ = w.WriteString(`">`)
	}
	number := func(b []byte, typ, s string) {
		open(typ, s)
		_, _ = w.WriteString(`<v>`)
		_, _ = w.Write(b)
		_, _ = w.WriteString(`</v></c>`)
	}
	text := func(s string) {
		open("inlineStr", "")
		s = truncate(s)
		if s != strings.TrimSpace(s) { // else a reader may trim it
			_, _ = w.WriteString(`<is><t xml:space="preserve">`)
		} else {
			_, _ = w.WriteString(`<is><t>`)
		}
		writeText(w, s)
		_, _ = w.WriteString(`</t></is></c>`)
	}
	switch x := v.(type) {
	case string:
		text(x)
	case bool:
		b := []byte("0")
		if x {
			b = []byte("1")
		}
		number(b, "b", "")
	case int:
		number(strconv.AppendInt(wb.num[:0], int64(x), 10), "", "")
	case int64:
		number(strconv.AppendInt(wb.num[:0], x, 10), "", "")
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) { // no such number in a sheet
			text(strconv.FormatFloat(x, 'f', -1, 64))
			return
		}
		number(strconv.AppendFloat(wb.num[:0], x, 'f', -1, 64), "", "")
	case time.Time:
		x = x.UTC()
		if sec := x.Unix(); sec < excelFirst || sec >= excelLast {
			text(x.Format(time.RFC3339Nano))
			return
		}
		days := float64(x.Unix()-excelEpoch)/86400 + float64(x.Nanosecond())/86400e9
		number(strconv.AppendFloat(wb.num[:0], days, 'f', -1, 64), "", styleTime)
	default:
		text(fmt.Sprint(v))
	}
}

// truncate cuts text to a cell's limit of characters.
func truncate(s string) string {
	if len(s) <= xlsxMaxText || utf8.RuneCountInString(s) <= xlsxMaxText {
		return s
	}
	n := 0
	for i := range s {
		if n == xlsxMaxText {
			return s[:i]
		}
		n++
	}
	return s
}

// writeText writes s as XML character data: markup characters escaped, a
// carriage return as a reference (a parser would read a literal one as a line
// feed), and what XML 1.0 cannot hold (other control characters, invalid
// UTF-8, U+FFFE, U+FFFF) as U+FFFD.
func writeText(w *bufio.Writer, s string) {
	last := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '\r':
			esc = "&#xD;"
		case r == '\t' || r == '\n':
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r == utf8.RuneError && size == 1):
			esc = "\uFFFD"
		}
		if esc != "" {
			_, _ = w.WriteString(s[last:i])
			_, _ = w.WriteString(esc)
			last = i + size
		}
		i += size
	}
	_, _ = w.WriteString(s[last:])
}

// columnName is a column's letters: 0 is A, 25 Z, 26 AA.
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}

func sheetName(name string, part int) string {
	suffix := ""
	if part > 1 {
		suffix = fmt.Sprintf(" (%d)", part)
	}
	// 31 characters at most, the part number kept so the names stay distinct.
	if r := []rune(name); len(r)+len(suffix) > 31 {
		name = string(r[:31-len(suffix)])
	}
	return name + suffix
}

// close writes the parts that list the sheets and the archive's directory.
func (wb *workbook) close() error {
	var b strings.Builder
	b.WriteString(xmlDecl + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRels + `"><bookViews><workbookView/></bookViews><sheets>`)
	for i, name := range wb.sheets {
		fmt.Fprintf(&b, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, attr(name), i+1, i+1)
	}
	b.WriteString(`</sheets></workbook>`)
	workbookXML := b.String()

	b.Reset()
	b.WriteString(xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i := range wb.sheets {
		fmt.Fprintf(&b, `<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, nsRels, i+1)
	}
	fmt.Fprintf(&b, `<Relationship Id="rId%d" Type="%s/styles" Target="styles.xml"/>`, len(wb.sheets)+1, nsRels)
	b.WriteString(`</Relationships>`)
	workbookRels := b.String()

	const ct = "application/vnd.openxmlformats-officedocument.spreadsheetml."
	b.Reset()
	b.WriteString(xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="` + ct + `sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="` + ct + `styles+xml"/>`)
	for i := range wb.sheets {
		fmt.Fprintf(&b, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="%sworksheet+xml"/>`, i+1, ct)
	}
	b.WriteString(`</Types>`)
	contentTypes := b.String()

	for _, p := range []struct{ name, body string }{
		{"xl/workbook.xml", workbookXML},
		{"xl/_rels/workbook.xml.rels", workbookRels},
		{"xl/styles.xml", stylesXML},
		{"_rels/.rels", rootRels},
		{"[Content_Types].xml", contentTypes},
	} {
		e, err := wb.entry(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(e, p.body); err != nil {
			return fmt.Errorf("zip entry %s: %w", p.name, err)
		}
	}
	return wb.zw.Close()
}

func attr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

const rootRels = xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="` + nsRels + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`

// stylesXML: cellXfs 0 is the default, 1 (styleHeader) bold, 2 (styleTime)
// the date format yyyy-mm-dd hh:mm:ss (custom number formats start at 164).
const stylesXML = xmlDecl + `<styleSheet xmlns="` + nsMain + `">` +
	`<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>` +
	`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
	`<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
	`</styleSheet>`
