package reports

import (
	"context"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/domain"
	"github.com/fieldsync/fieldsync/internal/testdb"
	"github.com/fieldsync/fieldsync/store"
	"github.com/google/uuid"
)

// localEvents are one account each, with one completed visit checked in (and
// planned) at the instant and one confirmed order submitted then, worth the
// cents: a sum of cents names the events it holds.
//
// Europe/Berlin is UTC+1, +2 in summer; 2026-03-29 has 23 hours (02:00 CET
// becomes 03:00 CEST), 2026-10-25 has 25 (03:00 CEST becomes 02:00 CET).
// America/Los_Angeles is UTC-7 in summer, -8 in winter, from 2026-11-01
// 09:00Z (a 25-hour 1 November).
var localEvents = []struct {
	name  string
	at    string // UTC
	cents int64
}{
	{"b1", "2026-11-15 22:30", 1},   // Berlin 15 Nov 23:30 CET
	{"b2", "2026-11-15 23:30", 2},   // Berlin 16 Nov 00:30 CET
	{"s1", "2026-03-28 23:30", 4},   // Berlin 29 Mar 00:30 CET, the 23-hour day
	{"s2", "2026-03-29 21:30", 8},   // Berlin 29 Mar 23:30 CEST
	{"w1", "2026-10-24 22:30", 16},  // Berlin 25 Oct 00:30 CEST, the 25-hour day
	{"w2", "2026-10-25 22:30", 32},  // Berlin 25 Oct 23:30 CET
	{"l1", "2026-11-01 06:30", 64},  // Los Angeles 31 Oct 23:30 PDT
	{"l2", "2026-11-01 07:30", 128}, // Los Angeles 1 Nov 00:30 PDT
	{"l3", "2026-12-01 04:00", 256}, // Los Angeles 30 Nov 20:00 PST
	{"l4", "2026-12-01 08:30", 512}, // Los Angeles 1 Dec 00:30 PST
}

type localWorld struct{ ids map[string]string }

func buildLocalWorld(t *testing.T, db *store.DB) localWorld {
	t.Helper()
	w := localWorld{ids: map[string]string{}}
	for _, n := range []string{"T", "director", "rep"} {
		w.ids[n] = uuid.NewString()
	}
	now := at("2026-01-01 00:00")
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		if _, err := store.CreateTerritory(tx.At(now), domain.Territory{ID: w.ids["T"], Name: "T"}); err != nil {
			return err
		}
		for _, u := range []struct {
			name  string
			role  domain.Role
			terrs []string
		}{{"director", domain.RoleDirector, nil}, {"rep", domain.RoleRep, []string{w.ids["T"]}}} {
			if _, err := store.CreateUser(tx.At(now), store.UserRecord{User: domain.User{ID: w.ids[u.name], Name: u.name,
				Role: u.role, TerritoryIDs: u.terrs}, Email: u.name + "@example.com", PasswordHash: "x"}); err != nil {
				return err
			}
		}
		for _, e := range localEvents {
			if err := w.add(tx, now, e.name, e.at, e.cents); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("build world: %v", err)
	}
	return w
}

// add writes an event: an account, its completed visit and confirmed order.
func (w localWorld) add(tx *store.Tx, now time.Time, name, when string, cents int64) error {
	w.ids[name] = uuid.NewString()
	acc, err := store.CreateAccount(tx.At(now), domain.Account{ID: w.ids[name], Name: name,
		TerritoryID: w.ids["T"], Class: "A", Status: "active"})
	if err != nil {
		return err
	}
	in := at(when)
	if _, err := store.CreateVisit(tx.At(now), acc, domain.Visit{ID: uuid.NewString(), AccountID: acc.ID,
		RepID: w.ids["rep"], Status: "completed", PlannedAt: in, CheckedInAt: &in,
		CheckedOutAt: ptr(in.Add(time.Minute))}); err != nil {
		return err
	}
	id := uuid.NewString()
	_, err = store.CreateOrder(tx.At(now), acc, domain.Order{ID: id, Number: ptr("SO-" + id[:8]),
		AccountID: acc.ID, RepID: w.ids["rep"], Status: "confirmed", TotalCents: cents, Currency: "EUR",
		SubmittedAt: &in})
	return err
}

func (w localWorld) director() domain.Caller {
	return domain.Caller{UserID: w.ids["director"], Role: domain.RoleDirector}
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// setZone buckets the report tables in loc and checks that they hold what a
// computation from scratch says.
func setZone(t *testing.T, db *store.DB, loc *time.Location) {
	t.Helper()
	if _, err := store.SetReportTimeZone(context.Background(), db, loc); err != nil {
		t.Fatal(err)
	}
	drift, err := store.ReportAggregateDrift(context.Background(), db, 5)
	if err != nil || len(drift) > 0 {
		t.Fatalf("report tables in %s: %v %v", loc, drift, err)
	}
}

type dayCase struct {
	from, to        string
	visits, revenue int64
}

// checkDays reads coverage and the orders report for each range: completed
// visits, accounts visited (one visit each) and revenue.
func checkDays(t *testing.T, s *Service, w localWorld, cases []dayCase) {
	t.Helper()
	for _, c := range cases {
		p, err := ParseParams(at("2027-01-15 12:00"), c.from, c.to, "")
		if err != nil {
			t.Fatal(err)
		}
		cov, err := s.Coverage(context.Background(), w.director(), p)
		if err != nil {
			t.Fatal(err)
		}
		ord, err := s.Orders(context.Background(), w.director(), p)
		if err != nil {
			t.Fatal(err)
		}
		if cov.Totals.VisitsCompleted != c.visits || cov.Totals.VisitsPlanned != c.visits ||
			cov.Totals.AccountsVisited != c.visits || cov.Totals.RevenueCents != c.revenue ||
			ord.Totals.ValueCents != c.revenue {
			t.Errorf("%s %s..%s: visits %d planned %d accounts visited %d revenue %d, orders report %d; want %d visits, %d cents",
				s.Location(), c.from, c.to, cov.Totals.VisitsCompleted, cov.Totals.VisitsPlanned,
				cov.Totals.AccountsVisited, cov.Totals.RevenueCents, ord.Totals.ValueCents, c.visits, c.revenue)
		}
	}
}

type overdueCase struct {
	account, to string
	overdue     bool
	last        string // the last visit's date, when overdue
	since       int
}

func checkOverdue(t *testing.T, s *Service, w localWorld, cases []overdueCase) {
	t.Helper()
	for _, c := range cases {
		p, err := ParseParams(at("2027-01-15 12:00"), "", c.to, "")
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.Overdue(context.Background(), w.director(), p, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var got *OverdueAccount
		for i := range page.Items {
			if page.Items[i].AccountID == w.ids[c.account] {
				got = &page.Items[i]
			}
		}
		switch {
		case got == nil && c.overdue:
			t.Errorf("%s as of %s: %s not overdue, want overdue", s.Location(), c.to, c.account)
		case got != nil && !c.overdue:
			t.Errorf("%s as of %s: %s overdue (last %v, %v days), want not", s.Location(), c.to, c.account,
				got.LastVisitDate, *got.DaysSince)
		case got != nil && (got.LastVisitDate == nil || got.LastVisitDate.String() != c.last ||
			*got.DaysSince != c.since || *got.DaysOverdue != c.since-testCadence.A):
			t.Errorf("%s as of %s: %s last %v, %v days since; want %s, %d", s.Location(), c.to, c.account,
				got.LastVisitDate, *got.DaysSince, c.last, c.since)
		}
	}
}

func checkKPIRevenue(t *testing.T, s *Service, w localWorld, period, asOf string, revenue, visits int64) {
	t.Helper()
	p, err := ParseKPIParams(at("2027-01-15 12:00"), period, asOf, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.KPIs(context.Background(), w.director(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Totals.RevenueCents != revenue || got.Totals.VisitsCompleted != visits {
		t.Errorf("%s KPIs %s as of %s: revenue %d, visits %d; want %d, %d", s.Location(), period, asOf,
			got.Totals.RevenueCents, got.Totals.VisitsCompleted, revenue, visits)
	}
}

// A visit checked in at 23:30 in Berlin counts for that Berlin day, one at
// 00:30 for the next, in coverage, the orders report, overdue and the KPIs,
// including on the 23- and 25-hour days of the daylight-saving changes; the
// report tables are bucketed by the triggers as the rows are written.
func TestReports_LocalDaysBerlin(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		berlin := zone(t, "Europe/Berlin")
		setZone(t, db, berlin) // before the writes: the triggers bucket them
		w := buildLocalWorld(t, db)
		setZone(t, db, berlin)
		s := newService(t, db).WithLocation(berlin)
		checkDays(t, s, w, []dayCase{
			{"2026-11-15", "2026-11-15", 1, 1}, // b1 at 23:30: the 15th
			{"2026-11-16", "2026-11-16", 1, 2}, // b2 at 00:30: the 16th, though the 15th in UTC
			{"2026-03-28", "2026-03-28", 0, 0},
			{"2026-03-29", "2026-03-29", 2, 4 + 8}, // both ends of the 23-hour day
			{"2026-03-30", "2026-03-30", 0, 0},
			{"2026-10-24", "2026-10-24", 0, 0},
			{"2026-10-25", "2026-10-25", 2, 16 + 32}, // both ends of the 25-hour day
			{"2026-10-26", "2026-10-26", 0, 0},
			{"2026-11-01", "2026-11-30", 4, 1 + 2 + 64 + 128},
		})
		checkOverdue(t, s, w, []overdueCase{
			// cadence A is 5 days: overdue after more than 5 days since the last visit's date.
			{"b1", "2026-11-20", false, "", 0},
			{"b1", "2026-11-21", true, "2026-11-15", 6},
			{"b2", "2026-11-21", false, "", 0}, // the 16th: 5 days
			{"b2", "2026-11-22", true, "2026-11-16", 6},
			{"s1", "2026-04-03", false, "", 0},
			{"s1", "2026-04-04", true, "2026-03-29", 6},
			{"s2", "2026-04-03", false, "", 0},
			{"s2", "2026-04-04", true, "2026-03-29", 6},
			{"w1", "2026-10-30", false, "", 0},
			{"w1", "2026-10-31", true, "2026-10-25", 6},
			{"w2", "2026-10-31", true, "2026-10-25", 6},
		})
		checkKPIRevenue(t, s, w, "2026-03", "2026-03-28", 0, 0) // s1 is on the 29th in Berlin
		checkKPIRevenue(t, s, w, "2026-03", "2026-03-29", 12, 2)
		checkKPIRevenue(t, s, w, "2026-10", "2026-10-25", 48, 2)
		checkKPIRevenue(t, s, w, "2026-11", "2026-11-15", 1+64+128, 3)
		checkKPIRevenue(t, s, w, "2026-11", "2026-11-30", 1+2+64+128, 4)
	})
}

// The month of a zone west of UTC: an order at 20:00 on 30 November in Los
// Angeles is November's there (December's in UTC), one at 23:30 on 31
// October is October's (November's in UTC). The tables were written in UTC
// and re-bucketed by the zone change; going back to UTC restores UTC days.
func TestReports_LocalDaysLosAngeles(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *store.DB) {
		w := buildLocalWorld(t, db)
		la := zone(t, "America/Los_Angeles")
		setZone(t, db, la) // after the writes: a rebuild buckets them
		s := newService(t, db).WithLocation(la)
		// b1 and b2 are 14:30 and 15:30 on the 15th in Los Angeles.
		checkDays(t, s, w, []dayCase{
			{"2026-10-31", "2026-10-31", 1, 64},
			{"2026-11-01", "2026-11-01", 1, 128}, // the 25-hour day
			{"2026-11-01", "2026-11-30", 4, 1 + 2 + 128 + 256},
			{"2026-12-01", "2026-12-01", 1, 512},
			{"2026-11-15", "2026-11-15", 2, 3},
		})
		checkKPIRevenue(t, s, w, "2026-11", "2026-11-30", 1+2+128+256, 4)
		checkKPIRevenue(t, s, w, "2026-10", "2026-10-31", 16+32+64, 3)
		checkKPIRevenue(t, s, w, "2026-Q4", "2026-12-31", 1+2+16+32+64+128+256+512, 8)
		checkOverdue(t, s, w, []overdueCase{
			{"l3", "2026-12-05", false, "", 0},
			{"l3", "2026-12-06", true, "2026-11-30", 6},
		})
		// Writes after the change are bucketed in the new zone too, also on
		// connections whose triggers ran (and cached their plans) before it.
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			return w.add(tx, at("2026-01-01 00:00"), "l5", "2026-12-01 07:30", 1024) // 30 Nov 23:30 PST
		}); err != nil {
			t.Fatal(err)
		}
		setZone(t, db, la)
		checkDays(t, s, w, []dayCase{{"2026-11-30", "2026-11-30", 2, 256 + 1024}})

		// Back to UTC: the UTC days, and a service still reading Los Angeles
		// days refuses the tables rather than cut UTC days by its own.
		setZone(t, db, time.UTC)
		utc := newService(t, db)
		checkDays(t, utc, w, []dayCase{
			{"2026-12-01", "2026-12-01", 3, 256 + 512 + 1024},
			{"2026-11-15", "2026-11-15", 2, 3},
			{"2026-03-28", "2026-03-28", 1, 4},
			{"2026-03-29", "2026-03-29", 1, 8},
			{"2026-10-24", "2026-10-24", 1, 16},
			{"2026-10-25", "2026-10-25", 1, 32},
			{"2026-11-01", "2026-11-30", 4, 1 + 2 + 64 + 128},
		})
		checkKPIRevenue(t, utc, w, "2026-11", "2026-11-30", 1+2+64+128, 4)
		checkOverdue(t, utc, w, []overdueCase{
			{"l3", "2026-12-06", false, "", 0},
			{"l3", "2026-12-07", true, "2026-12-01", 6},
		})
		p, err := ParseParams(at("2027-01-15 12:00"), "2026-11-01", "2026-11-30", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Coverage(context.Background(), w.director(), p); domain.ErrorCode(err) != domain.CodeUnavailable {
			t.Errorf("coverage on tables of another zone: %v, want unavailable", err)
		}
		if _, err := s.Orders(context.Background(), w.director(), p); domain.ErrorCode(err) != domain.CodeUnavailable {
			t.Errorf("orders report on tables of another zone: %v, want unavailable", err)
		}
	})
}

// Today is the organisation's: at 23:30Z on 31 October it is already 1
// November in Berlin, still 31 October in Los Angeles at 06:30Z on 1 November.
func TestReports_LocalToday(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{at("2026-10-31 23:30").In(zone(t, "Europe/Berlin")), "2026-11-01"},
		{at("2026-11-01 06:30").In(zone(t, "America/Los_Angeles")), "2026-10-31"},
		{at("2026-10-31 23:30"), "2026-10-31"},
	} {
		p, err := ParseParams(c.now, "", "", "")
		if err != nil || Date(p.To).String() != c.want {
			t.Errorf("today at %v: %v %v, want %s", c.now, Date(p.To), err, c.want)
		}
	}
}
