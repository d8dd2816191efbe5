package domain

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Every pull encodes each row it sends; through encoding/json that is reflection
// per field and most of a pull's CPU. These appenders write the same bytes by
// hand. Their tests compare them with json.Marshal on random rows, so a field
// added to a row type and not here fails the build's tests, not a device.

// AppendJSON appends the JSON encoding of row to b, byte for byte what
// encoding/json.Marshal(row) produces. row must be one of the row types
// (value, not pointer); any other type falls back to json.Marshal.
func AppendJSON(b []byte, row any) ([]byte, error) {
	// A first pass only measures, so the row is written into one allocation
	// instead of a growing slice (growth was a third of the time).
	w := jsonWriter{sizing: true}
	if w.row(row) {
		w.sizing = false
		w.b = slices.Grow(b, w.n)
		w.row(row)
	}
	if !w.bad {
		return w.b, nil
	}
	// A value encoding/json refuses (NaN, a year past 9999) or a type not handled
	// here: let it answer, so the error is its own.
	out, err := json.Marshal(row)
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}

// jsonWriter appends to b, or while sizing only adds up in n how many bytes it
// would append (escapes aside). Each key argument is the literal that precedes
// the value: `{"id":` for the first field, `,"name":` for the others.
type jsonWriter struct {
	b      []byte
	sizing bool
	n      int
	bad    bool // a value encoding/json would refuse; AppendJSON defers to it
}

// row writes row if it is one of the row types and reports whether it was.
func (w *jsonWriter) row(row any) bool {
	switch r := row.(type) {
	case Territory:
		w.territory(&r)
	case User:
		w.user(&r)
	case Product:
		w.product(&r)
	case Account:
		w.account(&r)
	case Visit:
		w.visit(&r)
	case Order:
		w.order(&r)
	case AccountNote:
		w.accountNote(&r)
	case Target:
		w.target(&r)
	case Attachment:
		w.attachment(&r)
	default:
		w.bad = true
	}
	return !w.bad
}

func (w *jsonWriter) target(r *Target) {
	w.str(`{"id":`, r.ID)
	w.optStr(`,"territory_id":`, r.TerritoryID)
	w.optStr(`,"rep_id":`, r.RepID)
	w.str(`,"period":`, r.Period)
	w.str(`,"period_start":`, r.PeriodStart)
	w.str(`,"period_end":`, r.PeriodEnd)
	w.int(`,"revenue_cents":`, r.RevenueCents)
	w.optInt(`,"visits":`, r.Visits)
	w.optInt(`,"new_accounts":`, r.NewAccounts)
	w.str(`,"updated_by":`, r.UpdatedBy)
	w.meta(&r.Meta)
}

func (w *jsonWriter) optInt(key string, v *int64) {
	if v == nil {
		w.null(key)
		return
	}
	w.int(key, *v)
}

func (w *jsonWriter) territory(r *Territory) {
	w.str(`{"id":`, r.ID)
	w.str(`,"name":`, r.Name)
	w.optStr(`,"parent_id":`, r.ParentID)
	w.meta(&r.Meta)
}

func (w *jsonWriter) user(r *User) {
	w.str(`{"id":`, r.ID)
	w.str(`,"name":`, r.Name)
	w.str(`,"role":`, string(r.Role))
	if r.TerritoryIDs == nil {
		w.raw(`,"territory_ids":null`)
	} else {
		w.raw(`,"territory_ids":[`)
		for i, id := range r.TerritoryIDs {
			w.str(listSep(i), id)
		}
		w.raw("]")
	}
	w.meta(&r.Meta)
}

func (w *jsonWriter) product(r *Product) {
	w.str(`{"id":`, r.ID)
	w.str(`,"sku":`, r.SKU)
	w.str(`,"name":`, r.Name)
	w.int(`,"unit_price_cents":`, r.UnitPriceCents)
	w.str(`,"currency":`, r.Currency)
	if r.Active {
		w.raw(`,"active":true`)
	} else {
		w.raw(`,"active":false`)
	}
	w.meta(&r.Meta)
}

func (w *jsonWriter) account(r *Account) {
	w.str(`{"id":`, r.ID)
	w.str(`,"name":`, r.Name)
	w.str(`,"territory_id":`, r.TerritoryID)
	w.optStr(`,"owner_id":`, r.OwnerID)
	w.str(`,"class":`, r.Class)
	w.str(`,"status":`, r.Status)
	w.optStr(`,"address":`, r.Address)
	w.optStr(`,"phone":`, r.Phone)
	w.optStr(`,"email":`, r.Email)
	w.optFloat(`,"lat":`, r.Lat)
	w.optFloat(`,"lng":`, r.Lng)
	w.meta(&r.Meta)
}

func (w *jsonWriter) visit(r *Visit) {
	w.str(`{"id":`, r.ID)
	w.str(`,"account_id":`, r.AccountID)
	w.str(`,"rep_id":`, r.RepID)
	w.str(`,"status":`, r.Status)
	w.time(`,"planned_at":`, r.PlannedAt)
	w.optTime(`,"checked_in_at":`, r.CheckedInAt)
	w.optTime(`,"checked_out_at":`, r.CheckedOutAt)
	w.optFloat(`,"check_in_lat":`, r.CheckInLat)
	w.optFloat(`,"check_in_lng":`, r.CheckInLng)
	w.optFloat(`,"check_in_distance_m":`, r.CheckInDistanceM)
	w.optStr(`,"outcome":`, r.Outcome)
	w.optStr(`,"report":`, r.Report)
	w.meta(&r.Meta)
}

func (w *jsonWriter) order(r *Order) {
	w.str(`{"id":`, r.ID)
	w.optStr(`,"number":`, r.Number)
	w.str(`,"account_id":`, r.AccountID)
	w.str(`,"rep_id":`, r.RepID)
	w.optStr(`,"visit_id":`, r.VisitID)
	w.str(`,"status":`, r.Status)
	w.lines(r.Lines)
	w.int(`,"total_cents":`, r.TotalCents)
	w.str(`,"currency":`, r.Currency)
	w.optStr(`,"note":`, r.Note)
	w.optStr(`,"reason":`, r.Reason)
	w.optTime(`,"submitted_at":`, r.SubmittedAt)
	w.meta(&r.Meta)
}

func (w *jsonWriter) lines(lines []OrderLine) {
	if lines == nil {
		w.raw(`,"lines":null`)
		return
	}
	w.raw(`,"lines":[`)
	for i := range lines {
		l := &lines[i]
		if i > 0 {
			w.raw(",")
		}
		w.str(`{"product_id":`, l.ProductID)
		w.int(`,"quantity":`, l.Quantity)
		w.int(`,"unit_price_cents":`, l.UnitPriceCents)
		w.percent(`,"discount_pct":`, l.DiscountPct)
		w.raw("}")
	}
	w.raw("]")
}

func (w *jsonWriter) accountNote(r *AccountNote) {
	w.str(`{"id":`, r.ID)
	w.str(`,"account_id":`, r.AccountID)
	w.str(`,"author_id":`, r.AuthorID)
	w.str(`,"body":`, r.Body)
	w.optStr(`,"conflict_of":`, r.ConflictOf)
	w.meta(&r.Meta)
}

// meta writes the embedded Meta's fields, which encoding/json places where the
// embedding is (last in every row), and closes the object.
func (w *jsonWriter) meta(m *Meta) {
	w.int(`,"version":`, m.Version)
	w.time(`,"updated_at":`, m.UpdatedAt)
	w.raw("}")
}

func listSep(i int) string {
	if i == 0 {
		return ""
	}
	return ","
}

// The longest each kind of value can be: -9223372036854775808, a shortest
// float64 such as -2.2250738585072014e-308, a quoted RFC 3339 time with
// nanoseconds and a zone offset, a Percent of math.MinInt64.
const (
	maxIntLen     = 20
	maxFloatLen   = 24
	maxTimeLen    = len(`"2006-01-02T15:04:05.999999999-07:00"`)
	maxPercentLen = 21
)

func (w *jsonWriter) raw(s string) {
	if w.sizing {
		w.n += len(s)
		return
	}
	w.b = append(w.b, s...)
}

func (w *jsonWriter) str(key, s string) {
	if w.sizing {
		w.n += len(key) + len(s) + 2
		return
	}
	w.b = append(w.b, key...)
	w.b = appendJSONString(w.b, s)
}

func (w *jsonWriter) optStr(key string, s *string) {
	if s == nil {
		w.null(key)
		return
	}
	w.str(key, *s)
}

func (w *jsonWriter) null(key string) {
	w.raw(key)
	w.raw("null")
}

func (w *jsonWriter) int(key string, v int64) {
	if w.sizing {
		w.n += len(key) + maxIntLen
		return
	}
	w.b = strconv.AppendInt(append(w.b, key...), v, 10)
}

func (w *jsonWriter) percent(key string, p Percent) {
	if w.sizing {
		w.n += len(key) + maxPercentLen
		return
	}
	w.b = appendPercent(append(w.b, key...), p)
}

func (w *jsonWriter) optFloat(key string, f *float64) {
	switch {
	case f == nil:
		w.null(key)
	case math.IsInf(*f, 0) || math.IsNaN(*f):
		w.bad = true
	case w.sizing:
		w.n += len(key) + maxFloatLen
	default:
		w.b = appendJSONFloat(append(w.b, key...), *f)
	}
}

// time writes what time.Time.MarshalJSON writes; AppendText shares its strict
// RFC 3339 formatting without allocating. A time MarshalJSON refuses is found
// only when writing; that pass then stops and AppendJSON defers to json.Marshal.
func (w *jsonWriter) time(key string, t time.Time) {
	if w.sizing {
		w.n += len(key) + maxTimeLen
		return
	}
	b, err := t.AppendText(append(append(w.b, key...), '"'))
	if err != nil {
		w.bad = true
		return
	}
	w.b = append(b, '"')
}

func (w *jsonWriter) optTime(key string, t *time.Time) {
	if t == nil {
		w.null(key)
		return
	}
	w.time(key, *t)
}

// appendJSONFloat is encoding/json's float64 encoder: like ES6 number-to-string,
// 'e' format only below 1e-6 or from 1e21, with the exponent not padded.
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendPercent writes what Percent.MarshalJSON writes (12.5, 10, -0.25) without
// going through fmt.
func appendPercent(b []byte, p Percent) []byte {
	if p < 0 && p > -100 {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, int64(p)/100, 10)
	frac := abs64(int64(p) % 100)
	if frac == 0 {
		return b
	}
	b = append(b, '.', byte('0'+frac/10))
	if frac%10 != 0 {
		b = append(b, byte('0'+frac%10))
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's appendString with escapeHTML set, which is
// what json.Marshal uses: <, > and & escaped, U+2028 and U+2029 escaped, invalid
// UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, src string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			if htmlSafe(c) {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			dst = appendEscapedASCII(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// The ASCII bytes that go into a JSON string as they are (encoding/json's
// htmlSafeSet): printable ASCII and DEL, less ", \, <, > and &. One bit per byte
// value, so the scan of a string is a shift and a mask instead of six compares.
const (
	htmlSafeLo = uint64(0xffffffff00000000) &^ (1<<'"' | 1<<'&' | 1<<'<' | 1<<'>')
	htmlSafeHi = ^uint64(0) &^ (1 << ('\\' - 64))
)

// htmlSafe reports whether the ASCII byte c goes into a JSON string as is.
func htmlSafe(c byte) bool {
	mask := htmlSafeLo
	if c >= 64 {
		mask = htmlSafeHi
	}
	return mask>>(c&63)&1 != 0
}

func appendEscapedASCII(dst []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
