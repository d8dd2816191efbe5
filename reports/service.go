package reports

import (
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

// Service answers the reports. It only reads.
type Service struct {
	db       *store.DB
	cadence  Cadence
	currency string
}

// New returns a Service. The configuration validates cadences; a cadence below
// one day is read as one day rather than dividing by zero.
func New(db *store.DB, cadence Cadence, currency string) *Service {
	cadence.A, cadence.B, cadence.C = max(cadence.A, 1), max(cadence.B, 1), max(cadence.C, 1)
	return &Service{db: db, cadence: cadence, currency: currency}
}

// Cadence is the configured visit cadence.
func (s *Service) Cadence() Cadence { return s.cadence }
