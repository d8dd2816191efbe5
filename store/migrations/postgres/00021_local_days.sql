-- +goose Up
-- Local days (docs/reports.md "Days and the time zone"). The report day
-- tables of 00004 bucket visits and orders by day; until now that was the UTC
-- day. A day is now the organisation's: report_time_zone records the IANA zone
-- the tables are bucketed in. The server writes it when the configured zone
-- differs from the recorded one, and in the same transaction rebuilds the
-- tables and redefines fieldsync_utc_day (which 00004's triggers and views
-- call by name, hence the name) to return the day in that zone
-- (store.SetReportTimeZone), so the tables never mix two zones.
--
-- The zone is written into the function as a literal rather than read from
-- report_time_zone: a function that reads a table is not inlined, and costs
-- some 40 µs a call instead of well under one, which a bulk insert of visits
-- pays twice a row. IMMUTABLE stays true between two redefinitions; no index
-- is built on the function, and redefining it invalidates the plans that
-- inlined it. With the default UTC every day stays what it was.

CREATE TABLE report_time_zone (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    name text NOT NULL
);
INSERT INTO report_time_zone (name) VALUES ('UTC');

-- +goose Down
CREATE OR REPLACE FUNCTION fieldsync_utc_day(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (ts AT TIME ZONE 'UTC')::date $$;
DROP TABLE report_time_zone;
