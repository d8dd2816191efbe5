package domain_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/fieldsync/fieldsync/domain"
)

func TestLineTotal(t *testing.T) {
	tests := []struct {
		name     string
		qty      int64
		price    int64
		discount domain.Percent
		want     int64
	}{
		{"NoDiscount", 3, 1999, 0, 5997},
		{"Whole", 2, 1250, 1000, 2250},
		{"FullDiscount", 5, 999, 10000, 0},
		{"HalfRoundsUp", 1, 5, 1000, 5},                                // 4.5 -> 5
		{"BelowHalfRoundsDown", 1, 1, 5100, 0},                         // 0.49 -> 0
		{"ExactHalfOfOne", 1, 1, 5000, 1},                              // 0.5 -> 1
		{"TwoDecimals", 3, 333, 1250, 874},                             // 874.125 -> 874
		{"TwoDecimalsUp", 7, 1099, 333, 7437},                          // 7693 × 0.9667 = 7436.8231 -> 7437
		{"NegativeHalfAway", 1, 5, 11000, -1},                          // -0.5 -> -1 (only before validation)
		{"ZeroQuantity", 0, 1000, 0, 0},                                // before validation
		{"Large", 1_000_000, 10_000_000_000, 1, 9_999_000_000_000_000}, // no float, no overflow
		{"Saturates", math.MaxInt64, math.MaxInt64, 0, math.MaxInt64},
		{"SaturatesNegative", math.MaxInt64, math.MaxInt64, 20000, math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := domain.OrderLine{ProductID: id4, Quantity: tt.qty, UnitPriceCents: tt.price, DiscountPct: tt.discount}
			if got := domain.LineTotal(l); got != tt.want {
				t.Errorf("LineTotal(%d × %d, -%s%%) = %d, want %d", tt.qty, tt.price, tt.discount, got, tt.want)
			}
		})
	}
}

func TestOrderTotal(t *testing.T) {
	lines := []domain.OrderLine{
		{Quantity: 1, UnitPriceCents: 5, DiscountPct: 1000}, // 4.5 -> 5
		{Quantity: 1, UnitPriceCents: 5, DiscountPct: 1000}, // 5 again: rounding is per line
		{Quantity: 3, UnitPriceCents: 100, DiscountPct: 0},  // 300
	}
	if got := domain.OrderTotal(lines); got != 310 {
		t.Errorf("OrderTotal = %d, want 310", got)
	}
	if got := domain.OrderTotal(nil); got != 0 {
		t.Errorf("OrderTotal(nil) = %d", got)
	}
	huge := domain.OrderLine{Quantity: math.MaxInt64, UnitPriceCents: 1}
	if got := domain.OrderTotal([]domain.OrderLine{huge, huge}); got != math.MaxInt64 {
		t.Errorf("OrderTotal overflow = %d, want saturation", got)
	}
}

func TestPriceLines(t *testing.T) {
	products := map[string]domain.Product{
		id1: {ID: id1, UnitPriceCents: 700, Currency: "EUR", Active: true},
		id2: {ID: id2, UnitPriceCents: 900, Currency: "EUR", Active: false},
		id3: {ID: id3, UnitPriceCents: 100, Currency: "USD", Active: true},
	}
	t.Run("Prices", func(t *testing.T) {
		in := []domain.OrderLine{{ProductID: id1, Quantity: 2, UnitPriceCents: 1, DiscountPct: 500}}
		out, err := domain.PriceLines(in, products)
		if err != nil {
			t.Fatal(err)
		}
		want := []domain.OrderLine{{ProductID: id1, Quantity: 2, UnitPriceCents: 700, DiscountPct: 500}}
		if !reflect.DeepEqual(out, want) {
			t.Errorf("PriceLines = %+v, want %+v", out, want)
		}
		if in[0].UnitPriceCents != 1 {
			t.Errorf("PriceLines modified its input")
		}
	})
	t.Run("ErrUnknownOrInactive", func(t *testing.T) {
		in := []domain.OrderLine{{ProductID: id1, Quantity: 1}, {ProductID: id2, Quantity: 1}, {ProductID: id4, Quantity: 1}}
		_, err := domain.PriceLines(in, products)
		wantFields(t, err, "lines[1].product_id: unknown or inactive product", "lines[2].product_id: unknown or inactive product")
	})
	t.Run("ErrNoLines", func(t *testing.T) {
		_, err := domain.PriceLines(nil, products)
		wantFields(t, err, "lines: an order needs at least one line to be submitted")
	})
	t.Run("Currency", func(t *testing.T) {
		o := order()
		o.Lines = []domain.OrderLine{{ProductID: id1}, {ProductID: id4}, {ProductID: id3}}
		wantFields(t, domain.CheckCurrency(o, products), "lines[2].product_id: is priced in USD, the order is in EUR")
		o.Lines = o.Lines[:2]
		wantFields(t, domain.CheckCurrency(o, products))
	})
}
