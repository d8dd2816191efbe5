package domain

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Percent is a percentage with two decimals held as an integer count of
// hundredths (12.5% is 1250), so discounts never pass through a float.
type Percent int64

// MarshalJSON writes the shortest decimal form: 12.5, 10, 0.25.
func (p Percent) MarshalJSON() ([]byte, error) {
	return []byte(p.String()), nil
}

func (p Percent) String() string {
	s := fmt.Sprintf("%d.%02d", int64(p)/100, abs64(int64(p)%100))
	if p < 0 && p > -100 {
		s = "-" + s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// UnmarshalJSON accepts a JSON number with at most two decimals; anything finer
// would be silently rounded, which a discount must never be.
func (p *Percent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*p = 0
		return nil
	}
	v, err := ParsePercent(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParsePercent parses "12", "12.5" or "12.50".
func ParsePercent(s string) (Percent, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || (hasFrac && (frac == "" || len(frac) > 2)) || strings.ContainsAny(s, "eE+") {
		return 0, fmt.Errorf("percent %q: want a number with at most two decimals", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1_000_000 {
		return 0, fmt.Errorf("percent %q: not a number", s)
	}
	var f int64
	if hasFrac {
		if len(frac) == 1 {
			frac += "0"
		}
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil || f < 0 {
			return 0, fmt.Errorf("percent %q: not a number", s)
		}
	}
	v := Percent(w*100 + f)
	if neg {
		v = -v
	}
	return v, nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
