package domain

import (
	"fmt"
	"math"
	"math/big"
)

// percentScale is 100% in Percent's hundredths.
const percentScale = 100 * 100

// LineTotal is quantity × unit price × (100 − discount) ÷ 100, rounded half away
// from zero to whole cents (docs/protocol.md §4.4). The product is taken exactly in big
// integers: validated lines cannot overflow int64 (see OrderLine), but a total
// computed before validation must not wrap around into a plausible number, so a
// result beyond int64 saturates instead.
func LineTotal(l OrderLine) int64 {
	n := new(big.Int).Mul(big.NewInt(l.Quantity), big.NewInt(l.UnitPriceCents))
	n.Mul(n, new(big.Int).Sub(big.NewInt(percentScale), big.NewInt(int64(l.DiscountPct))))
	q, r := new(big.Int).QuoRem(n, big.NewInt(percentScale), new(big.Int))
	// Half away from zero: |remainder| ≥ half the divisor moves q one step
	// further from zero, in the direction of the remainder's sign.
	if r.CmpAbs(big.NewInt(percentScale/2)) >= 0 {
		q.Add(q, big.NewInt(int64(r.Sign())))
	}
	return saturate(q)
}

// OrderTotal is the sum of the line totals, saturating like LineTotal.
func OrderTotal(lines []OrderLine) int64 {
	sum := new(big.Int)
	for _, l := range lines {
		sum.Add(sum, big.NewInt(LineTotal(l)))
	}
	return saturate(sum)
}

func saturate(n *big.Int) int64 {
	switch {
	case n.IsInt64():
		return n.Int64()
	case n.Sign() > 0:
		return math.MaxInt64
	}
	return math.MinInt64
}

// PriceLines prices an order being submitted from the catalogue: every line's
// product must exist and be active, and its unit price becomes the product's.
// It returns a new slice; lines is not modified.
func PriceLines(lines []OrderLine, products map[string]Product) ([]OrderLine, *Error) {
	if len(lines) == 0 {
		return nil, Invalid(FieldError{Field: "lines", Message: "an order needs at least one line to be submitted"})
	}
	out := make([]OrderLine, len(lines))
	var errs []FieldError
	for i, l := range lines {
		p, ok := products[l.ProductID]
		if !ok || !p.Active {
			errs = append(errs, FieldError{Field: fmt.Sprintf("lines[%d].product_id", i), Message: "unknown or inactive product"})
			continue
		}
		l.UnitPriceCents = p.UnitPriceCents
		out[i] = l
	}
	if len(errs) > 0 {
		return nil, Invalid(errs...)
	}
	return out, nil
}

// CheckCurrency reports lines whose product is priced in another currency than
// the order: a price list holds one currency per product and totals are never
// converted. Lines of unknown products are PriceLines' to report.
func CheckCurrency(o Order, products map[string]Product) *Error {
	var errs []FieldError
	for i, l := range o.Lines {
		p, ok := products[l.ProductID]
		if ok && p.Currency != o.Currency {
			errs = append(errs, FieldError{
				Field:   fmt.Sprintf("lines[%d].product_id", i),
				Message: fmt.Sprintf("is priced in %s, the order is in %s", p.Currency, o.Currency),
			})
		}
	}
	if len(errs) > 0 {
		return Invalid(errs...)
	}
	return nil
}
