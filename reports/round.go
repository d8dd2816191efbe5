package reports

import (
	"math/big"
	"strconv"
)

// ratio returns num ÷ den rounded half away from zero to the given decimals,
// or 0 when den is zero (the contract's rule). It works on exact rationals so a
// value like 12.25 never rounds the wrong way through binary floating point.
func ratio(num, den *big.Rat, decimals int) float64 {
	if den.Sign() == 0 {
		return 0
	}
	q := new(big.Rat).Quo(num, den)
	f, _ := strconv.ParseFloat(roundHalfAway(q, decimals), 64)
	return f
}

func roundHalfAway(q *big.Rat, decimals int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	scaled := new(big.Rat).Mul(q, new(big.Rat).SetInt(scale))
	// |scaled| + 1/2, truncated, with the sign put back.
	abs := new(big.Rat).Abs(scaled)
	abs.Add(abs, big.NewRat(1, 2))
	n := new(big.Int).Quo(abs.Num(), abs.Denom())
	if scaled.Sign() < 0 {
		n.Neg(n)
	}
	return new(big.Rat).SetFrac(n, scale).FloatString(decimals)
}

func ratInt(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

// pct is 100 × num ÷ den, to one decimal.
func pct(num, den *big.Rat) float64 {
	return ratio(new(big.Rat).Mul(num, ratInt(100)), den, 1)
}
