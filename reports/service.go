package reports

import (
	"fmt"

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

func (c Cadence) max() int { return max(c.A, c.B, c.C) }

// Service answers the reports. It only reads.
type Service struct {
	db       *store.DB
	cadence  Cadence
	currency string
}

// New returns a Service. A cadence below one day is a configuration error.
func New(db *store.DB, cadence Cadence, currency string) (*Service, error) {
	if cadence.A < 1 || cadence.B < 1 || cadence.C < 1 {
		return nil, fmt.Errorf("reports: cadence days must be at least 1, got %+v", cadence)
	}
	return &Service{db: db, cadence: cadence, currency: currency}, nil
}

// Cadence is the configured visit cadence.
func (s *Service) Cadence() Cadence { return s.cadence }
