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
	// in every report (UTC by default; docs/reports.md "Days and the time
	// zone").
	loc *time.Location
	// snaps, when set, answers the coverage and orders reports of large
	// scopes from organisation-wide snapshots (Snapshots).
	snaps *Snapshots
	// kpiSnaps, likewise, answers the KPI report of large scopes.
	kpiSnaps *Snapshots
	// page, when set, is the visibility of the caller of one page's
	// reports, loaded once (ForPage).
	page *domain.Visibility
	// trees keeps the whole territory tree between reports while no
	// territory changes (store.TreeCache).
	trees *store.TreeCache
}

// WithTreeCache returns the service keeping the territory tree in trees,
// which services reading one organisation may share.
func (s *Service) WithTreeCache(trees *store.TreeCache) *Service {
	c := *s
	c.trees = trees
	return &c
}

// WithLocation returns the service reading days in loc. The report day tables
// must be bucketed in the same zone (store.SetReportTimeZone): the coverage
// and orders reports refuse to answer otherwise.
func (s *Service) WithLocation(loc *time.Location) *Service {
	c := *s
	c.loc = loc
	return &c
}

// Location is the time zone the reports read days in.
func (s *Service) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// midnight is the instant the calendar date d (a UTC midnight) starts in the
// organisation's zone. Consecutive midnights are 23 or 25 hours apart around
// a daylight-saving change. It is returned in UTC: SQLite compares the stored
// times as text, which all carry +00:00.
func (s *Service) midnight(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.Location()).UTC()
}

// localDay is the organisation's calendar date of the instant t.
func (s *Service) localDay(t time.Time) time.Time { return day(t.In(s.Location())) }

// checkZone refuses to read the day tables when they are bucketed in another
// zone than the service's: sums of days of one zone cut by another would be
// wrong without a sign of it. That happens when a server started with another
// FIELDSYNC_TIMEZONE re-bucketed the tables and this one was not restarted;
// it answers 503 until it is.
func (s *Service) checkZone(tx *store.Tx) error {
	name, err := store.ReportTimeZone(tx)
	if err != nil {
		return err
	}
	if name != s.Location().String() {
		return &domain.Error{Code: domain.CodeUnavailable, Message: fmt.Sprintf(
			"the report tables hold days of %s, this server reads days of %s; restart it", name, s.Location())}
	}
	return nil
}

// New returns a Service. The configuration validates cadences; a cadence below
// one day is read as one day rather than dividing by zero.
func New(db *store.DB, cadence Cadence, currency string) *Service {
	cadence.A, cadence.B, cadence.C = max(cadence.A, 1), max(cadence.B, 1), max(cadence.C, 1)
	return &Service{db: db, cadence: cadence, currency: currency, trees: &store.TreeCache{}}
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
