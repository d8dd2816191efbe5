package store

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// The report day tables (migration 00004) bucket visits and orders by the day
// of the organisation's time zone; report_time_zone (migration 00021) records
// which zone they are bucketed in. docs/reports.md "Days and the time zone".

// ReportTimeZone returns the IANA name of the zone the report day tables are
// bucketed in.
func ReportTimeZone(tx *Tx) (string, error) {
	var name string
	if err := tx.g.Raw("SELECT name FROM report_time_zone").Scan(&name).Error; err != nil {
		return "", fmt.Errorf("report time zone: %w", err)
	}
	return name, nil
}

// SetReportTimeZone makes loc the zone of the report day tables. When the
// recorded zone is another, it records loc and rebuilds the tables from the
// base tables in the same transaction, holding writers of accounts, visits and
// orders out until it commits, so no report ever reads days of two zones. It
// reports whether it rebuilt; with the zone unchanged it only reads.
func SetReportTimeZone(ctx context.Context, db *DB, loc *time.Location) (bool, error) {
	name := loc.String()
	cur, err := ReportTimeZone(db.Autocommit(ctx))
	if err != nil || cur == name {
		return false, err
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := lockReportBase(tx); err != nil {
			return err
		}
		// Another instance may have switched while this one waited.
		if cur, err = ReportTimeZone(tx); err != nil || cur == name {
			return err
		}
		if db.Dialect == Postgres {
			if err := defineDayFunction(tx, name); err != nil {
				return err
			}
		} else if err := writeZoneShifts(tx, loc); err != nil {
			return err
		}
		if err := tx.g.Exec("UPDATE report_time_zone SET name = ?", name).Error; err != nil {
			return fmt.Errorf("record report time zone: %w", err)
		}
		return rebuildReportAggregates(tx)
	})
	if err != nil {
		return false, fmt.Errorf("report time zone %s → %s: %w", cur, name, err)
	}
	return true, nil
}

// defineDayFunction makes fieldsync_utc_day, which the triggers and views of
// migration 00004 call, return the date of an instant in the zone (Postgres'
// zone database, so its daylight-saving rules). The zone is a literal in the
// body so that the function stays inlinable (migration 00021 says why).
func defineDayFunction(tx *Tx, name string) error {
	// A name Postgres does not know fails here, not in every trigger; the
	// check also keeps anything but a zone name out of the DDL below.
	if !zoneName.MatchString(name) {
		return fmt.Errorf("time zone %q: not an IANA zone name", name)
	}
	if err := tx.g.Exec("SELECT now() AT TIME ZONE ?", name).Error; err != nil {
		return fmt.Errorf("postgres does not know time zone %q: %w", name, err)
	}
	body := "CREATE OR REPLACE FUNCTION fieldsync_utc_day(ts timestamptz) RETURNS date\n" +
		"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (ts AT TIME ZONE '" + name + "')::date $$"
	if err := tx.g.Exec(body).Error; err != nil {
		return fmt.Errorf("define the day function for %s: %w", name, err)
	}
	return nil
}

// zoneName is what IANA zone names are made of.
var zoneName = regexp.MustCompile(`^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$`)

// zoneShiftsFrom and zoneShiftsTo bound the offsets written for SQLite: its
// triggers read instants before the first with the first offset and after the
// last with the last.
var (
	zoneShiftsFrom = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	zoneShiftsTo   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// writeZoneShifts replaces report_zone_shifts (SQLite, which knows no time
// zones) with loc's UTC offsets from the instant each starts, as date()
// modifiers, from Go's zone database.
func writeZoneShifts(tx *Tx, loc *time.Location) error {
	type shift struct{ StartsAt, Shift string }
	modifier := func(t time.Time) string {
		_, off := t.In(loc).Zone()
		return fmt.Sprintf("%+d seconds", off)
	}
	rows := []shift{{"0000-01-01 00:00:00", modifier(zoneShiftsFrom)}}
	for t := zoneShiftsFrom; ; {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(zoneShiftsTo) {
			break
		}
		// Past the zone's listed transitions Go computes bounds from its
		// rule, and at a year's turn it answers the instant asked about;
		// step over it. Only changes of offset make a row.
		if !end.After(t) {
			end = t.Add(time.Hour)
		}
		if m := modifier(end); m != rows[len(rows)-1].Shift {
			rows = append(rows, shift{end.UTC().Format(time.DateTime), m})
		}
		t = end
	}
	if err := tx.g.Exec("DELETE FROM report_zone_shifts").Error; err != nil {
		return fmt.Errorf("clear zone shifts: %w", err)
	}
	for _, r := range rows {
		if err := tx.g.Exec("INSERT INTO report_zone_shifts (starts_at, shift) VALUES (?, ?)", r.StartsAt, r.Shift).Error; err != nil {
			return fmt.Errorf("write zone shifts: %w", err)
		}
	}
	return nil
}
