package reports

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

func TestReports_ParseParams(t *testing.T) {
	now := at("2026-03-20 23:59")
	p, err := ParseParams(now, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if Date(p.To).String() != "2026-03-20" || Date(p.From).String() != "2026-02-21" || p.Days() != 28 {
		t.Errorf("defaults = %s..%s (%d days), want 2026-02-21..2026-03-20 (28)", Date(p.From), Date(p.To), p.Days())
	}
	p, err = ParseParams(now, "", "2026-01-31", "")
	if err != nil || Date(p.From).String() != "2026-01-04" {
		t.Errorf("from defaults to to-27: got %s, %v", Date(p.From), err)
	}
	for _, tc := range []struct{ name, from, to, territory string }{
		{"BadDate", "2026-3-1", "", ""},
		{"BadTo", "", "yesterday", ""},
		{"FromAfterTo", "2026-03-11", "2026-03-10", ""},
		{"TooLong", "2025-01-01", "2026-03-10", ""},
		{"BadTerritory", "", "", "T1"},
	} {
		t.Run(tc.name+"/ErrBadRequest", func(t *testing.T) {
			_, err := ParseParams(now, tc.from, tc.to, tc.territory)
			if domain.ErrorCode(err) != domain.CodeBadRequest {
				t.Fatalf("error = %v, want bad_request", err)
			}
		})
	}
}

func TestReports_Ratio(t *testing.T) {
	for _, tc := range []struct {
		num, den int64
		decimals int
		want     float64
	}{
		{1, 4, 1, 0.3},       // half rounds away from zero
		{1225, 100, 1, 12.3}, // 12.25 exactly: no binary-float surprise
		{-1, 4, 1, -0.3},
		{2, 3, 1, 0.7},
		{1, 3, 2, 0.33},
		{5, 0, 1, 0}, // division by zero gives 0
		{0, 7, 1, 0},
		{1, -4, 1, -0.3},
		{7, 8, 2, 0.88}, // 0.875
		{math.MaxInt64 / 3, 1, 1, 3.0744573456182584e18}, // too big for integers: math/big's answer
	} {
		if got := ratio(tc.num, tc.den, tc.decimals); got != tc.want {
			t.Errorf("ratio(%d, %d, %d) = %v, want %v", tc.num, tc.den, tc.decimals, got, tc.want)
		}
	}
}

// TestRatio_MatchesExactRationals: the integer path rounds exactly as the
// math/big one, including at the halves where floats go wrong.
func TestRatio_MatchesExactRationals(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		num, den := rnd.Int64N(2_000_000)-1_000_000, rnd.Int64N(5000)+1
		if i%4 == 0 { // land on halves: num/den = k + 0.5 at some scale
			den = 2 * int64(math.Pow10(rnd.IntN(3)))
		}
		for decimals := 0; decimals <= 2; decimals++ {
			got, want := ratio(num, den, decimals), ratioRat(big.NewRat(num, den), decimals)
			if got != want {
				t.Fatalf("ratio(%d, %d, %d) = %v, exact rounding gives %v", num, den, decimals, got, want)
			}
		}
	}
	want := big.NewRat(math.MaxInt64/50, 3)
	if got, want := pctOf(math.MaxInt64/50, 3, 7), ratioRat(want.Mul(want, big.NewRat(700, 1)), 1); got != want {
		t.Errorf("pctOf on an overflowing product = %v, want %v", got, want)
	}
}
