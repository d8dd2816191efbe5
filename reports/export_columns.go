package reports

import (
	"context"
	"reflect"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/export"
)

// An export's columns are the JSON report's fields, named as in the JSON, so
// a spreadsheet and an API client read the same figures under the same names
// (docs/api.md "Exports"). columnsOf finds them once per row type by the json
// tags, embedded structs flattened; lists of strings become one cell joined by
// "; "; lists of structs are left to the table that knows them.

type column struct {
	name  string
	index []int
}

func columnsOf(t reflect.Type) []column {
	var out []column
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for _, c := range columnsOf(f.Type) {
				out = append(out, column{c.name, append([]int{i}, c.index...)})
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		if k := f.Type.Kind(); k == reflect.Slice && f.Type.Elem().Kind() != reflect.String || k == reflect.Map {
			continue
		}
		out = append(out, column{name, []int{i}})
	}
	return out
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

var (
	dateType = reflect.TypeFor[Date]()
	timeType = reflect.TypeFor[time.Time]()
)

// cells reads the columns of v (a struct) as export cells.
func cells(v reflect.Value, cols []column) export.Row {
	out := make(export.Row, len(cols))
	for i, c := range cols {
		out[i] = cell(v.FieldByIndex(c.index))
	}
	return out
}

func cell(f reflect.Value) any {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return nil
		}
		f = f.Elem()
	}
	switch {
	case f.Type() == dateType:
		return f.Interface().(Date).String()
	case f.Type() == timeType:
		return f.Interface().(time.Time)
	}
	switch f.Kind() {
	case reflect.String:
		return f.String()
	case reflect.Bool:
		return f.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return f.Int()
	case reflect.Float32, reflect.Float64:
		return f.Float()
	case reflect.Slice:
		parts := make([]string, f.Len())
		for i := range parts {
			parts[i] = f.Index(i).String()
		}
		return strings.Join(parts, "; ")
	}
	return nil
}

// structTable is a table of the rows of a slice of structs of type T, read as
// the export goes, plus extra columns the struct's own fields do not give.
func structTable[T any](name string, rows []T, extra []string, more func(T) []any) export.Table {
	cols := columnsOf(reflect.TypeFor[T]())
	return export.Table{Name: name, Columns: append(names(cols), extra...),
		Rows: func(_ context.Context, emit func(export.Row) error) error {
			for i := range rows {
				r := cells(reflect.ValueOf(&rows[i]).Elem(), cols)
				if more != nil {
					r = append(r, more(rows[i])...)
				}
				if err := emit(r); err != nil {
					return err
				}
			}
			return nil
		}}
}
