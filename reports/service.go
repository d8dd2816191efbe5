package reports

import (
	"fmt"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/store"
)

// Cadence is how often, in days, an account of each class should be visited.
type Cadence struct {
	A, B, C int
}

// DefaultCadence is the contract's: weekly, fortnightly, monthly.
var DefaultCadence = Cadence{A: 7, B: 14, C: 30}

// Days returns the cadence of an account class.
func (c Cadence) Days(class string) int {
	switch class {
	case domain.ClassA:
		return c.A
	case domain.ClassB:
		return c.B
	}
	return c.C
}

// lcm is the least common multiple of the three cadences: visits_required over
// any mix of classes is a whole number of 1/lcm.
func (c Cadence) lcm() int64 {
	gcd := func(a, b int64) int64 {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	l := int64(c.A)
	for _, d := range []int64{int64(c.B), int64(c.C)} {
		l = l / gcd(l, d) * d
	}
	return l
}

// Service answers the reports. It only reads.
type Service struct {
	db       *store.DB
	cadence  Cadence
	currency string
	// loc is the organisation's time zone: what a day, today and a period mean
	// in the KPI report (UTC by default).
	loc *time.Location
}

// WithLocation returns the service reading KPI days in loc.
func (s *Service) WithLocation(loc *time.Location) *Service {
	c := *s
	c.loc = loc
	return &c
}

// Location is the time zone the KPI report reads days in.
func (s *Service) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// New returns a Service. The configuration validates cadences; a cadence below
// one day is read as one day rather than dividing by zero.
func New(db *store.DB, cadence Cadence, currency string) *Service {
	cadence.A, cadence.B, cadence.C = max(cadence.A, 1), max(cadence.B, 1), max(cadence.C, 1)
	return &Service{db: db, cadence: cadence, currency: currency}
}

// reportWorkMem is the memory Postgres may give each sort and hash of a report
// query. The default (4MB) makes the organisation-wide coverage report spill
// its groupings (tens of thousands of territories and reps) to disk; SET LOCAL
// raises it for the report's own read-only transaction only.
const reportWorkMem = "64MB"

func (s *Service) reportMemory(tx *store.Tx) error {
	if err := tx.WorkMem(reportWorkMem); err != nil {
		return fmt.Errorf("report memory: %w", err)
	}
	return nil
}
