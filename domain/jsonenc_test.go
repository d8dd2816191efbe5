package domain

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// rowGen draws row values that reach every branch of the appenders: nil and
// non-nil pointers and slices, strings that need escaping, floats on both sides
// of the exponent cutoffs, times with and without nanoseconds, and now and then
// a value encoding/json refuses (NaN, year 10000) so the error path is compared too.
type rowGen struct{ r *rand.Rand }

var oddStrings = []string{
	"", " ", "<>&\u2028\x00\xff", "\u2029", "\"\\/", "\b\f\n\r\t\x01\x1f\x7f",
	"héllo wörld", "日本語", "emoji 🙂", "\xed\xa0\x80", "\xc3", "a\xffb\xfe",
	"</script>", "O'Brien & Sons", "6f1c2d3e-4a5b-4c6d-8e7f-901234567890",
}

func (g rowGen) str() string {
	switch g.r.IntN(4) {
	case 0:
		return oddStrings[g.r.IntN(len(oddStrings))]
	case 1: // random bytes: invalid UTF-8 and control characters
		b := make([]byte, g.r.IntN(12))
		for i := range b {
			b[i] = byte(g.r.UintN(256))
		}
		return string(b)
	case 2: // random runes, including the separators and surrogate range
		var sb strings.Builder
		for range g.r.IntN(8) {
			sb.WriteRune(rune(g.r.IntN(0x2100)))
		}
		return sb.String()
	}
	return oddStrings[g.r.IntN(len(oddStrings))] + oddStrings[g.r.IntN(len(oddStrings))]
}

func (g rowGen) optStr() *string {
	if g.r.IntN(3) == 0 {
		return nil
	}
	s := g.str()
	return &s
}

var oddFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99999e-7, 1e-7, 1e20, 1e21,
	-1e21, 999999999999999999999, 5e-324, math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, 123456.789, 1e-9, 1.5e-10, 1e100, 45.5013, -122.0001,
}

func (g rowGen) float() float64 {
	switch g.r.IntN(20) {
	case 0:
		return math.NaN()
	case 1:
		return math.Inf(1 - 2*g.r.IntN(2))
	}
	switch g.r.IntN(3) {
	case 0:
		return oddFloats[g.r.IntN(len(oddFloats))]
	case 1:
		for {
			if f := math.Float64frombits(g.r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	}
	return (g.r.Float64() - 0.5) * math.Pow(10, float64(g.r.IntN(50)-25))
}

func (g rowGen) optFloat() *float64 {
	if g.r.IntN(3) == 0 {
		return nil
	}
	f := g.float()
	return &f
}

var zones = []*time.Location{time.UTC, time.UTC, time.UTC, time.FixedZone("", 2*3600+30*60), time.FixedZone("X", -8*3600)}

func (g rowGen) time() time.Time {
	sec := g.r.Int64N(4_102_444_800) // 1970..2100
	var nsec int64
	switch g.r.IntN(4) {
	case 0:
		nsec = g.r.Int64N(1e9)
	case 1:
		nsec = g.r.Int64N(1000) * 1e6
	}
	t := time.Unix(sec, nsec).In(zones[g.r.IntN(len(zones))])
	switch g.r.IntN(40) {
	case 0:
		t = t.AddDate(9000, 0, 0) // past year 9999: MarshalJSON's error
	case 1:
		t = time.Time{}
	}
	return t
}

func (g rowGen) optInt() *int64 {
	if g.r.IntN(3) == 0 {
		return nil
	}
	v := g.r.Int64() - g.r.Int64()
	return &v
}

func (g rowGen) optTime() *time.Time {
	if g.r.IntN(3) == 0 {
		return nil
	}
	t := g.time()
	return &t
}

func (g rowGen) meta() Meta {
	return Meta{Version: g.r.Int64() - g.r.Int64(), UpdatedAt: g.time()}
}

func (g rowGen) strs() []string {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	s := make([]string, 1+g.r.IntN(4))
	for i := range s {
		s[i] = g.str()
	}
	return s
}

func (g rowGen) percent() Percent {
	if g.r.IntN(2) == 0 {
		return Percent(g.r.Int64N(20001) - 10000)
	}
	return Percent(g.r.Int64() - g.r.Int64())
}

func (g rowGen) lines() []OrderLine {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []OrderLine{}
	}
	ls := make([]OrderLine, 1+g.r.IntN(5))
	for i := range ls {
		ls[i] = OrderLine{ProductID: g.str(), Quantity: g.r.Int64N(2e6) - 1e6,
			UnitPriceCents: g.r.Int64(), DiscountPct: g.percent()}
	}
	return ls
}

func (g rowGen) row(table string) any {
	switch table {
	case TableTerritories:
		return Territory{ID: g.str(), Name: g.str(), ParentID: g.optStr(), Meta: g.meta()}
	case TableUsers:
		return User{ID: g.str(), Name: g.str(), Role: Role(g.str()), TerritoryIDs: g.strs(), Meta: g.meta()}
	case TableProducts:
		return Product{ID: g.str(), SKU: g.str(), Name: g.str(), UnitPriceCents: g.r.Int64() - g.r.Int64(),
			Currency: g.str(), Active: g.r.IntN(2) == 0, Meta: g.meta()}
	case TableAccounts:
		return Account{ID: g.str(), Name: g.str(), TerritoryID: g.str(), OwnerID: g.optStr(), Class: g.str(),
			Status: g.str(), Address: g.optStr(), Phone: g.optStr(), Email: g.optStr(),
			Lat: g.optFloat(), Lng: g.optFloat(), Meta: g.meta()}
	case TableVisits:
		return Visit{ID: g.str(), AccountID: g.str(), RepID: g.str(), Status: g.str(), PlannedAt: g.time(),
			CheckedInAt: g.optTime(), CheckedOutAt: g.optTime(), CheckInLat: g.optFloat(),
			CheckInLng: g.optFloat(), CheckInDistanceM: g.optFloat(), Outcome: g.optStr(),
			Report: g.optStr(), Meta: g.meta()}
	case TableOrders:
		return Order{ID: g.str(), Number: g.optStr(), AccountID: g.str(), RepID: g.str(), VisitID: g.optStr(),
			Status: g.str(), Lines: g.lines(), TotalCents: g.r.Int64() - g.r.Int64(), Currency: g.str(),
			Note: g.optStr(), Reason: g.optStr(), SubmittedAt: g.optTime(), Meta: g.meta()}
	case TableAccountNotes:
		return AccountNote{ID: g.str(), AccountID: g.str(), AuthorID: g.str(), Body: g.str(),
			ConflictOf: g.optStr(), Meta: g.meta()}
	case TableTargets:
		return Target{ID: g.str(), TerritoryID: g.optStr(), RepID: g.optStr(), Period: g.str(),
			PeriodStart: g.str(), PeriodEnd: g.str(), RevenueCents: g.r.Int64() - g.r.Int64(),
			Visits: g.optInt(), NewAccounts: g.optInt(), UpdatedBy: g.str(), Meta: g.meta()}
	case TableAttachments:
		return Attachment{ID: g.str(), ParentTable: g.str(), ParentID: g.str(), AccountID: g.str(), Kind: g.str(),
			ContentType: g.str(), Size: g.r.Int64() - g.r.Int64(), SHA256: g.str(), CapturedAt: g.optTime(),
			CapturedLat: g.optFloat(), CapturedLng: g.optFloat(), Caption: g.optStr(), UploaderID: g.str(),
			Status: g.str(), Meta: g.meta()}
	}
	panic("no generator for " + table)
}

// assertSameAsMarshal fails unless AppendJSON writes exactly what json.Marshal
// writes for row, or fails exactly as it fails. The prefix checks that AppendJSON
// appends and never touches what b already holds.
func assertSameAsMarshal(t *testing.T, row any) {
	t.Helper()
	want, wantErr := json.Marshal(row)
	prefix := []byte("prefix:")
	got, err := AppendJSON(append([]byte(nil), prefix...), row)
	if (err != nil) != (wantErr != nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%#v:\nerror %v, json.Marshal error %v", row, err, wantErr)
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("%#v: prefix lost: %q", row, got)
	}
	if err == nil && !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("%#v:\n got %s\nwant %s", row, got[len(prefix):], want)
	}
}

func TestAppendJSON_MatchesMarshal(t *testing.T) {
	for i, table := range SyncedTables {
		t.Run(table, func(t *testing.T) {
			g := rowGen{rand.New(rand.NewPCG(20240611, uint64(i)))}
			for range 3000 {
				assertSameAsMarshal(t, g.row(table))
			}
		})
	}
}

func TestAppendJSON_MatchesMarshal_ZeroRows(t *testing.T) {
	for _, row := range []any{Territory{}, User{}, Product{}, Account{}, Visit{}, Order{}, AccountNote{}} {
		assertSameAsMarshal(t, row)
	}
}

func TestAppendJSON_MatchesMarshal_NilAndEmptySlices(t *testing.T) {
	for _, row := range []any{
		Order{Lines: nil}, Order{Lines: []OrderLine{}},
		User{TerritoryIDs: nil}, User{TerritoryIDs: []string{}},
	} {
		assertSameAsMarshal(t, row)
	}
	got, err := AppendJSON(nil, Order{})
	if err != nil || !bytes.Contains(got, []byte(`"lines":null`)) {
		t.Fatalf("nil lines: %s, %v", got, err)
	}
}

func TestAppendJSON_MatchesMarshal_OtherTypes(t *testing.T) {
	for _, v := range []any{&Visit{}, Meta{}, map[string]int{"a": 1}, nil, math.NaN()} {
		assertSameAsMarshal(t, v)
	}
}

func TestAppendPercent_MatchesMarshalJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	ps := []Percent{0, 1, -1, 10, -10, 99, -99, 100, -100, 101, -101, 1250, -1250, 1000, math.MaxInt64, math.MinInt64}
	for range 20000 {
		ps = append(ps, Percent(r.Int64N(400001)-200000))
	}
	for _, p := range ps {
		want, _ := p.MarshalJSON()
		if got := appendPercent(nil, p); !bytes.Equal(got, want) {
			t.Fatalf("Percent(%d): got %s, want %s", int64(p), got, want)
		}
	}
}

func FuzzAppendJSONVisit(f *testing.F) {
	f.Add("<>&\u2028\x00\xff", "report", 45.5, -1e-7, 1e21, int64(1700000000), int64(123456789))
	f.Add("", "\u2029\"\\", math.Copysign(0, -1), 5e-324, math.MaxFloat64, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, outcome, report string, lat, lng, dist float64, sec, nsec int64) {
		at := time.Unix(sec, nsec).UTC()
		assertSameAsMarshal(t, Visit{ID: outcome + report, Status: report, PlannedAt: at,
			CheckedInAt: &at, CheckInLat: &lat, CheckInLng: &lng, CheckInDistanceM: &dist,
			Outcome: &outcome, Report: &report, Meta: Meta{Version: sec, UpdatedAt: at}})
	})
}

func benchRows() map[string]any {
	at := time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)
	lat, lng, dist := 52.520008, 13.404954, 37.25
	outcome, report := "order_taken", "Met the buyer; new shelf layout <agreed> & trial order placed."
	note := "deliver before noon"
	id := "6f1c2d3e-4a5b-4c6d-8e7f-901234567890"
	lines := make([]OrderLine, 5)
	for i := range lines {
		lines[i] = OrderLine{ProductID: id, Quantity: int64(i + 1), UnitPriceCents: 1999, DiscountPct: 1250}
	}
	return map[string]any{
		"visit": Visit{ID: id, AccountID: id, RepID: id, Status: VisitCompleted, PlannedAt: at,
			CheckedInAt: &at, CheckedOutAt: &at, CheckInLat: &lat, CheckInLng: &lng,
			CheckInDistanceM: &dist, Outcome: &outcome, Report: &report, Meta: Meta{Version: 7, UpdatedAt: at}},
		"order": Order{ID: id, AccountID: id, RepID: id, VisitID: &id, Status: OrderSubmitted, Lines: lines,
			TotalCents: 26986, Currency: "EUR", Note: &note, SubmittedAt: &at, Meta: Meta{Version: 3, UpdatedAt: at}},
	}
}

// BenchmarkAppendJSON compares the appenders with json.Marshal on typical rows:
// BenchmarkAppendJSON/visit against BenchmarkAppendJSON/visit_json.Marshal.
func BenchmarkAppendJSON(b *testing.B) {
	for _, name := range []string{"visit", "order"} {
		row := benchRows()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := AppendJSON(nil, row); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"_json.Marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestHTMLSafe_MatchesMarshal(t *testing.T) {
	for c := range byte(utf8.RuneSelf) {
		want, _ := json.Marshal(string(rune(c)))
		if got := htmlSafe(c); got != (string(want) == `"`+string(rune(c))+`"`) {
			t.Errorf("htmlSafe(%#x) = %v, json.Marshal writes %s", c, got, want)
		}
	}
}

// The sizing pass must not come up short when nothing needs escaping, or every
// row would be written into a slice that grows after all.
func TestAppendJSON_SizingCoversUnescapedRows(t *testing.T) {
	check := func(row any) {
		t.Helper()
		want, err := json.Marshal(row)
		if err != nil || bytes.IndexByte(want, '\\') >= 0 {
			return
		}
		w := jsonWriter{sizing: true}
		if !w.row(row) || w.n < len(want) {
			t.Fatalf("%#v: sized %d bytes, writes %d", row, w.n, len(want))
		}
	}
	for _, row := range benchRows() {
		check(row)
	}
	for i, table := range SyncedTables {
		g := rowGen{rand.New(rand.NewPCG(99, uint64(i)))}
		for range 3000 {
			check(g.row(table))
		}
	}
}
