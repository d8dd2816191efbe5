package domain

import (
	"fmt"
	"strconv"
	"time"
)

// TableTargets is the synced table of sales targets. Devices only pull it: no
// role has a push right on it (pushRights), so a mutation of it is forbidden.
const TableTargets = "targets"

// Target is a sales target of one subject, a territory or a rep (exactly one
// of TerritoryID and RepID is set), for one period: a calendar month
// ("2026-11") or quarter ("2026-Q4"). PeriodStart and PeriodEnd are its first
// and last day (YYYY-MM-DD, inclusive); the server derives them from Period.
// Visits and NewAccounts are optional: null means no target for that figure.
type Target struct {
	ID           string  `json:"id"`
	TerritoryID  *string `json:"territory_id"`
	RepID        *string `json:"rep_id"`
	Period       string  `json:"period"`
	PeriodStart  string  `json:"period_start"`
	PeriodEnd    string  `json:"period_end"`
	RevenueCents int64   `json:"revenue_cents"`
	Visits       *int64  `json:"visits"`
	NewAccounts  *int64  `json:"new_accounts"`
	UpdatedBy    string  `json:"updated_by"`
	Meta
}

// TargetValues are the figures of a target, as its history records them.
type TargetValues struct {
	RevenueCents int64  `json:"revenue_cents"`
	Visits       *int64 `json:"visits"`
	NewAccounts  *int64 `json:"new_accounts"`
}

// Values returns the figures of t.
func (t Target) Values() TargetValues {
	return TargetValues{RevenueCents: t.RevenueCents, Visits: t.Visits, NewAccounts: t.NewAccounts}
}

// TargetChange is one entry of a target's history: who changed it when, from
// what (nil for the create) to what.
type TargetChange struct {
	TargetID  string        `json:"target_id"`
	Version   int64         `json:"version"`
	ChangedBy string        `json:"changed_by"`
	ChangedAt time.Time     `json:"changed_at"`
	Old       *TargetValues `json:"old"`
	New       TargetValues  `json:"new"`
}

// Subject is the uniqueness key of a target: one target per subject and period.
func (t Target) Subject() string {
	if t.RepID != nil {
		return "r:" + *t.RepID
	}
	if t.TerritoryID != nil {
		return "t:" + *t.TerritoryID
	}
	return ""
}

// TargetKeys are the scope keys of a target row. A rep's target reaches that
// rep's devices (their own user key); a territory's target reaches whoever sees
// the territory's accounts: the reps assigned to it and the managers above it.
// Directors and ops see every row.
func TargetKeys(t Target) []string {
	if t.RepID != nil {
		return []string{UserKey(*t.RepID)}
	}
	if t.TerritoryID != nil {
		return []string{TerritoryKey(*t.TerritoryID)}
	}
	return nil
}

// Period is a calendar month or quarter, as first and last day (inclusive).
type Period struct {
	Name  string
	Start time.Time // midnight of the first day, UTC-based calendar date
	End   time.Time // midnight of the last day
}

// ParsePeriod reads "YYYY-MM" (a month) or "YYYY-Qn" (a quarter).
func ParsePeriod(s string) (Period, error) {
	bad := fmt.Errorf("must be a month YYYY-MM or a quarter YYYY-Qn")
	if len(s) != 7 || s[4] != '-' {
		return Period{}, bad
	}
	year, err := strconv.Atoi(s[:4])
	if err != nil || year < 2000 || year > 2999 {
		return Period{}, bad
	}
	var first time.Month
	var months int
	if s[5] == 'Q' {
		q := int(s[6] - '0')
		if q < 1 || q > 4 {
			return Period{}, bad
		}
		first, months = time.Month(3*(q-1)+1), 3
	} else {
		m, err := strconv.Atoi(s[5:])
		if err != nil || m < 1 || m > 12 || s[5] < '0' || s[5] > '1' {
			return Period{}, bad
		}
		first, months = time.Month(m), 1
	}
	start := time.Date(year, first, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, months, -1)
	return Period{Name: s, Start: start, End: end}, nil
}

// Quarter reports whether the period is a quarter.
func (p Period) Quarter() bool { return p.Name[5] == 'Q' }

// Previous is the period of the same kind just before p.
func (p Period) Previous() Period {
	months := 1
	if p.Quarter() {
		months = 3
	}
	return p.shift(-months)
}

// YearBefore is the same period one year earlier.
func (p Period) YearBefore() Period { return p.shift(-12) }

func (p Period) shift(months int) Period {
	start := p.Start.AddDate(0, months, 0)
	n := 1
	name := start.Format("2006-01")
	if p.Quarter() {
		n = 3
		name = fmt.Sprintf("%d-Q%d", start.Year(), (int(start.Month())-1)/3+1)
	}
	return Period{Name: name, Start: start, End: start.AddDate(0, n, -1)}
}

// Days is the number of days of the period.
func (p Period) Days() int { return int(p.End.Sub(p.Start).Hours()/24) + 1 }

// maxTargetCents bounds a revenue target (a hundred million in major units),
// and maxTargetCount the visits and new-account targets.
const (
	maxTargetCents = 10_000_000_000
	maxTargetCount = 1_000_000
)

// ValidateTarget checks the figures and the subject of a target; Period must
// already have been parsed into PeriodStart and PeriodEnd.
func ValidateTarget(t Target) *Error {
	var fe []FieldError
	switch {
	case t.TerritoryID == nil && t.RepID == nil:
		fe = append(fe, FieldError{Field: "territory_id", Message: "set territory_id or rep_id"})
	case t.TerritoryID != nil && t.RepID != nil:
		fe = append(fe, FieldError{Field: "rep_id", Message: "a target is for a territory or a rep, not both"})
	}
	if t.RevenueCents < 0 || t.RevenueCents > maxTargetCents {
		fe = append(fe, FieldError{Field: "revenue_cents", Message: fmt.Sprintf("must be between 0 and %d", int64(maxTargetCents))})
	}
	for _, c := range []struct {
		field string
		v     *int64
	}{{"visits", t.Visits}, {"new_accounts", t.NewAccounts}} {
		if c.v != nil && (*c.v < 0 || *c.v > maxTargetCount) {
			fe = append(fe, FieldError{Field: c.field, Message: fmt.Sprintf("must be between 0 and %d", maxTargetCount)})
		}
	}
	if len(fe) > 0 {
		return Invalid(fe...)
	}
	return nil
}
