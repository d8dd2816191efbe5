package reports

import (
	"math"
	"math/big"
	"strconv"
)

// ratio returns num ÷ den rounded half away from zero to the given decimals
// (at most 6), or 0 when den is zero (the contract's rule). It is exact: a value
// like 12.25 never rounds the wrong way through binary floating point. The
// organisation-wide coverage report computes some 400k of these, so integers
// do the work and math/big only takes over when a product would overflow.
func ratio(num, den int64, decimals int) float64 {
	if den == 0 {
		return 0
	}
	if den < 0 {
		num, den = -num, -den
	}
	scale := int64(math.Pow10(decimals))
	abs := num
	if abs < 0 {
		abs = -abs
	}
	// round(|num|·scale / den) = floor((2·|num|·scale + den) / (2·den))
	if abs <= (math.MaxInt64/2-den)/scale && den <= math.MaxInt64/2 {
		q := (2*abs*scale + den) / (2 * den)
		if num < 0 {
			q = -q
		}
		// q and scale are exact in a float64 (< 2^53 for any count a report
		// holds), so the division is the nearest float to the decimal q/scale.
		return float64(q) / float64(scale)
	}
	return ratioRat(new(big.Rat).SetFrac64(num, den), decimals)
}

func ratioRat(q *big.Rat, decimals int) float64 {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	scaled := new(big.Rat).Mul(q, new(big.Rat).SetInt(scale))
	// |scaled| + 1/2, truncated, with the sign put back.
	abs := new(big.Rat).Abs(scaled)
	abs.Add(abs, big.NewRat(1, 2))
	n := new(big.Int).Quo(abs.Num(), abs.Denom())
	if scaled.Sign() < 0 {
		n.Neg(n)
	}
	f, _ := strconv.ParseFloat(new(big.Rat).SetFrac(n, scale).FloatString(decimals), 64)
	return f
}

// mul returns a·b, or false when it overflows an int64.
func mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return c, true
}

// pctOf is 100 × num ÷ (den/denScale), to one decimal: den/denScale is an
// exact fraction (visits_required over the cadences' common multiple).
func pctOf(num, den, denScale int64) float64 {
	n, ok := mul(num, 100)
	if ok {
		n, ok = mul(n, denScale)
	}
	if !ok {
		if den == 0 {
			return 0
		}
		q := new(big.Rat).SetFrac(big.NewInt(num), big.NewInt(den))
		return ratioRat(q.Mul(q, big.NewRat(100*denScale, 1)), 1)
	}
	return ratio(n, den, 1)
}
