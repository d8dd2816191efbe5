package reports

import (
	"math/big"
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
	} {
		if got := ratio(big.NewRat(tc.num, 1), big.NewRat(tc.den, 1), tc.decimals); got != tc.want {
			t.Errorf("ratio(%d, %d, %d) = %v, want %v", tc.num, tc.den, tc.decimals, got, tc.want)
		}
	}
}
