-- +goose Up
-- Local days (docs/reports.md "Days and the time zone"). The report day
-- tables of 00004 bucket visits and orders by day; until now that was the UTC
-- day. A day is now the organisation's: report_time_zone records the IANA zone
-- the tables are bucketed in. The server writes it when the configured zone
-- differs from the recorded one, and rebuilds the tables in the same
-- transaction (store.SetReportTimeZone), so the tables never mix two zones.
--
-- fieldsync_utc_day keeps its name, because 00004's trigger functions call it
-- by name, but it now returns the day of ts in the recorded zone; Postgres
-- knows the zone's daylight-saving rules. Reading a table makes it STABLE
-- rather than IMMUTABLE; no index is built on it. With the default UTC every
-- day stays what it was.

CREATE TABLE report_time_zone (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    name text NOT NULL
);
INSERT INTO report_time_zone (name) VALUES ('UTC');

CREATE OR REPLACE FUNCTION fieldsync_utc_day(ts timestamptz) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (ts AT TIME ZONE (SELECT name FROM report_time_zone))::date
$$;

-- +goose Down
CREATE OR REPLACE FUNCTION fieldsync_utc_day(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (ts AT TIME ZONE 'UTC')::date $$;
DROP TABLE report_time_zone;
