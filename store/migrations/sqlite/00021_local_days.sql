-- +goose Up
-- Local days (docs/reports.md "Days and the time zone"). The report day
-- tables of 00004 bucket visits and orders by day; until now that was the UTC
-- day. A day is now the organisation's: report_time_zone records the IANA zone
-- the tables are bucketed in, and report_zone_shifts its UTC offsets as SQLite
-- date() modifiers, from the instant each starts (the server writes both from
-- Go's zone database when the configured zone differs from the recorded one,
-- and rebuilds the tables in the same transaction: store.SetReportTimeZone).
-- SQLite knows no time zones, so the triggers and views below, copies of
-- 00004's with every date(x) turned into the local day of x, look the offset
-- of x up in report_zone_shifts. With the default UTC the one shift is +0
-- seconds and every day stays what it was.

CREATE TABLE report_time_zone (
    one  integer PRIMARY KEY CHECK (one = 1),
    name text NOT NULL
);
INSERT INTO report_time_zone (one, name) VALUES (1, 'UTC');

CREATE TABLE report_zone_shifts (
    starts_at text PRIMARY KEY, -- UTC, as datetime() writes it: YYYY-MM-DD HH:MM:SS
    shift     text NOT NULL     -- a date() modifier: '+3600 seconds'
);
INSERT INTO report_zone_shifts (starts_at, shift) VALUES ('0000-01-01 00:00:00', '+0 seconds');

DROP TRIGGER report_visit_inserted;
DROP TRIGGER report_visit_updated;
DROP TRIGGER report_visit_deleted;
DROP TRIGGER report_order_inserted;
DROP TRIGGER report_order_updated;
DROP TRIGGER report_order_deleted;
DROP TRIGGER report_order_status_inserted;
DROP TRIGGER report_order_status_updated;
DROP TRIGGER report_order_status_deleted;
DROP TRIGGER report_account_updated;
DROP VIEW report_visit_days_expected;
DROP VIEW report_order_days_expected;
DROP VIEW report_order_status_days_expected;

-- +goose StatementBegin
CREATE TRIGGER report_visit_inserted AFTER INSERT ON visits BEGIN
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.planned_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.planned_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.rep_id, 1, 0 FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.checked_in_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.checked_in_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.rep_id, 0, 1 FROM accounts a
     WHERE a.id = NEW.account_id AND NEW.status = 'completed' AND NEW.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    UPDATE report_accounts SET last_completed_at = NEW.checked_in_at
     WHERE account_id = NEW.account_id AND NEW.status = 'completed' AND NEW.checked_in_at IS NOT NULL
       AND (last_completed_at IS NULL OR last_completed_at < NEW.checked_in_at);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_visit_updated AFTER UPDATE OF account_id, rep_id, status, planned_at, checked_in_at ON visits
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.rep_id IS NOT NEW.rep_id OR OLD.status IS NOT NEW.status
  OR OLD.planned_at IS NOT NEW.planned_at OR OLD.checked_in_at IS NOT NEW.checked_in_at
BEGIN
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.planned_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.planned_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.rep_id, -1, 0 FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.checked_in_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.checked_in_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.rep_id, 0, -1 FROM accounts a
     WHERE a.id = OLD.account_id AND OLD.status = 'completed' AND OLD.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.planned_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.planned_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.rep_id, 1, 0 FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.checked_in_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.checked_in_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.rep_id, 0, 1 FROM accounts a
     WHERE a.id = NEW.account_id AND NEW.status = 'completed' AND NEW.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    UPDATE report_accounts
       SET last_completed_at = (SELECT max(v.checked_in_at) FROM visits v
                                 WHERE v.account_id = report_accounts.account_id AND v.status = 'completed')
     WHERE account_id IN (OLD.account_id, NEW.account_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_visit_deleted AFTER DELETE ON visits BEGIN
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.planned_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.planned_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.rep_id, -1, 0 FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.checked_in_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.checked_in_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.rep_id, 0, -1 FROM accounts a
     WHERE a.id = OLD.account_id AND OLD.status = 'completed' AND OLD.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    UPDATE report_accounts
       SET last_completed_at = (SELECT max(v.checked_in_at) FROM visits v
                                 WHERE v.account_id = OLD.account_id AND v.status = 'completed')
     WHERE account_id = OLD.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_inserted AFTER INSERT ON orders
WHEN NEW.submitted_at IS NOT NULL AND NEW.status NOT IN ('cancelled', 'rejected')
BEGIN
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(NEW.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.rep_id, 1, NEW.total_cents FROM accounts a
     WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_updated AFTER UPDATE OF account_id, rep_id, status, submitted_at, total_cents ON orders
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.rep_id IS NOT NEW.rep_id OR OLD.status IS NOT NEW.status
  OR OLD.submitted_at IS NOT NEW.submitted_at OR OLD.total_cents IS NOT NEW.total_cents
BEGIN
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(OLD.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.rep_id, -1, -OLD.total_cents FROM accounts a
     WHERE a.id = OLD.account_id AND OLD.submitted_at IS NOT NULL AND OLD.status NOT IN ('cancelled', 'rejected')
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(NEW.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.rep_id, 1, NEW.total_cents FROM accounts a
     WHERE a.id = NEW.account_id AND NEW.submitted_at IS NOT NULL AND NEW.status NOT IN ('cancelled', 'rejected')
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_deleted AFTER DELETE ON orders
WHEN OLD.submitted_at IS NOT NULL AND OLD.status NOT IN ('cancelled', 'rejected')
BEGIN
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(OLD.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.rep_id, -1, -OLD.total_cents FROM accounts a
     WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_status_inserted AFTER INSERT ON orders BEGIN
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(NEW.submitted_at, NEW.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(NEW.submitted_at, NEW.updated_at)) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.status, 1, NEW.total_cents
      FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_status_updated AFTER UPDATE OF account_id, status, submitted_at, updated_at, total_cents
ON orders
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.status IS NOT NEW.status OR OLD.total_cents IS NOT NEW.total_cents
  OR date(coalesce(OLD.submitted_at, OLD.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(OLD.submitted_at, OLD.updated_at)) ORDER BY z.starts_at DESC LIMIT 1)) IS NOT date(coalesce(NEW.submitted_at, NEW.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(NEW.submitted_at, NEW.updated_at)) ORDER BY z.starts_at DESC LIMIT 1))
BEGIN
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(OLD.submitted_at, OLD.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(OLD.submitted_at, OLD.updated_at)) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.status, -1, -OLD.total_cents
      FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(NEW.submitted_at, NEW.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(NEW.submitted_at, NEW.updated_at)) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, NEW.status, 1, NEW.total_cents
      FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_status_deleted AFTER DELETE ON orders BEGIN
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(OLD.submitted_at, OLD.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(OLD.submitted_at, OLD.updated_at)) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id, OLD.status, -1, -OLD.total_cents
      FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_account_updated AFTER UPDATE OF territory_id, class, status ON accounts
WHEN OLD.territory_id IS NOT NEW.territory_id OR OLD.class IS NOT NEW.class OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE report_accounts SET territory_id = NEW.territory_id, class = NEW.class, status = NEW.status
     WHERE account_id = NEW.id;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT d.day, m.terr, d.rep_id, sum(d.p) * m.sign, sum(d.c) * m.sign
      FROM (SELECT rep_id, date(planned_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(planned_at) ORDER BY z.starts_at DESC LIMIT 1)) AS day, 1 AS p, 0 AS c FROM visits WHERE account_id = NEW.id
            UNION ALL
            SELECT rep_id, date(checked_in_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(checked_in_at) ORDER BY z.starts_at DESC LIMIT 1)), 0, 1 FROM visits
             WHERE account_id = NEW.id AND status = 'completed' AND checked_in_at IS NOT NULL) d,
           (SELECT OLD.territory_id AS terr, -1 AS sign UNION ALL SELECT NEW.territory_id, 1) m
     WHERE OLD.territory_id IS NOT NEW.territory_id
     GROUP BY d.day, m.terr, d.rep_id, m.sign
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET planned = planned + excluded.planned, completed = completed + excluded.completed;
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(o.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(o.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), m.terr, o.rep_id, count(*) * m.sign, sum(o.total_cents) * m.sign
      FROM orders o, (SELECT OLD.territory_id AS terr, -1 AS sign UNION ALL SELECT NEW.territory_id, 1) m
     WHERE OLD.territory_id IS NOT NEW.territory_id AND o.account_id = NEW.id
       AND o.submitted_at IS NOT NULL AND o.status NOT IN ('cancelled', 'rejected')
     GROUP BY 1, m.terr, o.rep_id, m.sign
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(o.submitted_at, o.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(o.submitted_at, o.updated_at)) ORDER BY z.starts_at DESC LIMIT 1)), m.terr, o.status, count(*) * m.sign,
           sum(o.total_cents) * m.sign
      FROM orders o, (SELECT OLD.territory_id AS terr, -1 AS sign UNION ALL SELECT NEW.territory_id, 1) m
     WHERE OLD.territory_id IS NOT NEW.territory_id AND o.account_id = NEW.id
     GROUP BY 1, m.terr, o.status, m.sign
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

CREATE VIEW report_visit_days_expected AS
SELECT d.day, a.territory_id, d.rep_id, sum(d.p) AS planned, sum(d.c) AS completed
  FROM (SELECT account_id, rep_id, date(planned_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(planned_at) ORDER BY z.starts_at DESC LIMIT 1)) AS day, 1 AS p, 0 AS c FROM visits
        UNION ALL
        SELECT account_id, rep_id, date(checked_in_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(checked_in_at) ORDER BY z.starts_at DESC LIMIT 1)), 0, 1 FROM visits
         WHERE status = 'completed' AND checked_in_at IS NOT NULL) d
  JOIN accounts a ON a.id = d.account_id
 GROUP BY d.day, a.territory_id, d.rep_id;

CREATE VIEW report_order_days_expected AS
SELECT date(o.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(o.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)) AS day, a.territory_id, o.rep_id,
       count(*) AS orders, sum(o.total_cents) AS revenue_cents
  FROM orders o JOIN accounts a ON a.id = o.account_id
 WHERE o.submitted_at IS NOT NULL AND o.status NOT IN ('cancelled', 'rejected')
 GROUP BY 1, a.territory_id, o.rep_id;

CREATE VIEW report_order_status_days_expected AS
SELECT date(coalesce(o.submitted_at, o.updated_at), (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(coalesce(o.submitted_at, o.updated_at)) ORDER BY z.starts_at DESC LIMIT 1)) AS day, a.territory_id, o.status,
       count(*) AS orders, sum(o.total_cents) AS value_cents
  FROM orders o JOIN accounts a ON a.id = o.account_id
 GROUP BY 1, a.territory_id, o.status;

-- +goose Down
-- Back to 00004's UTC triggers and views; the tables keep the days they hold
-- until `fieldsync aggregates rebuild`.
DROP TRIGGER report_visit_inserted;
DROP TRIGGER report_visit_updated;
DROP TRIGGER report_visit_deleted;
DROP TRIGGER report_order_inserted;
DROP TRIGGER report_order_updated;
DROP TRIGGER report_order_deleted;
DROP TRIGGER report_order_status_inserted;
DROP TRIGGER report_order_status_updated;
DROP TRIGGER report_order_status_deleted;
DROP TRIGGER report_account_updated;
DROP VIEW report_visit_days_expected;
DROP VIEW report_order_days_expected;
DROP VIEW report_order_status_days_expected;

-- +goose StatementBegin
CREATE TRIGGER report_visit_inserted AFTER INSERT ON visits BEGIN
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.planned_at), a.territory_id, NEW.rep_id, 1, 0 FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.checked_in_at), a.territory_id, NEW.rep_id, 0, 1 FROM accounts a
     WHERE a.id = NEW.account_id AND NEW.status = 'completed' AND NEW.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    UPDATE report_accounts SET last_completed_at = NEW.checked_in_at
     WHERE account_id = NEW.account_id AND NEW.status = 'completed' AND NEW.checked_in_at IS NOT NULL
       AND (last_completed_at IS NULL OR last_completed_at < NEW.checked_in_at);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_visit_updated AFTER UPDATE OF account_id, rep_id, status, planned_at, checked_in_at ON visits
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.rep_id IS NOT NEW.rep_id OR OLD.status IS NOT NEW.status
  OR OLD.planned_at IS NOT NEW.planned_at OR OLD.checked_in_at IS NOT NEW.checked_in_at
BEGIN
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.planned_at), a.territory_id, OLD.rep_id, -1, 0 FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.checked_in_at), a.territory_id, OLD.rep_id, 0, -1 FROM accounts a
     WHERE a.id = OLD.account_id AND OLD.status = 'completed' AND OLD.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.planned_at), a.territory_id, NEW.rep_id, 1, 0 FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(NEW.checked_in_at), a.territory_id, NEW.rep_id, 0, 1 FROM accounts a
     WHERE a.id = NEW.account_id AND NEW.status = 'completed' AND NEW.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    UPDATE report_accounts
       SET last_completed_at = (SELECT max(v.checked_in_at) FROM visits v
                                 WHERE v.account_id = report_accounts.account_id AND v.status = 'completed')
     WHERE account_id IN (OLD.account_id, NEW.account_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_visit_deleted AFTER DELETE ON visits BEGIN
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.planned_at), a.territory_id, OLD.rep_id, -1, 0 FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET planned = planned + excluded.planned;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT date(OLD.checked_in_at), a.territory_id, OLD.rep_id, 0, -1 FROM accounts a
     WHERE a.id = OLD.account_id AND OLD.status = 'completed' AND OLD.checked_in_at IS NOT NULL
    ON CONFLICT (day, territory_id, rep_id) DO UPDATE SET completed = completed + excluded.completed;
    UPDATE report_accounts
       SET last_completed_at = (SELECT max(v.checked_in_at) FROM visits v
                                 WHERE v.account_id = OLD.account_id AND v.status = 'completed')
     WHERE account_id = OLD.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_inserted AFTER INSERT ON orders
WHEN NEW.submitted_at IS NOT NULL AND NEW.status NOT IN ('cancelled', 'rejected')
BEGIN
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(NEW.submitted_at), a.territory_id, NEW.rep_id, 1, NEW.total_cents FROM accounts a
     WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_updated AFTER UPDATE OF account_id, rep_id, status, submitted_at, total_cents ON orders
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.rep_id IS NOT NEW.rep_id OR OLD.status IS NOT NEW.status
  OR OLD.submitted_at IS NOT NEW.submitted_at OR OLD.total_cents IS NOT NEW.total_cents
BEGIN
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(OLD.submitted_at), a.territory_id, OLD.rep_id, -1, -OLD.total_cents FROM accounts a
     WHERE a.id = OLD.account_id AND OLD.submitted_at IS NOT NULL AND OLD.status NOT IN ('cancelled', 'rejected')
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(NEW.submitted_at), a.territory_id, NEW.rep_id, 1, NEW.total_cents FROM accounts a
     WHERE a.id = NEW.account_id AND NEW.submitted_at IS NOT NULL AND NEW.status NOT IN ('cancelled', 'rejected')
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_deleted AFTER DELETE ON orders
WHEN OLD.submitted_at IS NOT NULL AND OLD.status NOT IN ('cancelled', 'rejected')
BEGIN
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(OLD.submitted_at), a.territory_id, OLD.rep_id, -1, -OLD.total_cents FROM accounts a
     WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_status_inserted AFTER INSERT ON orders BEGIN
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(NEW.submitted_at, NEW.updated_at)), a.territory_id, NEW.status, 1, NEW.total_cents
      FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_status_updated AFTER UPDATE OF account_id, status, submitted_at, updated_at, total_cents
ON orders
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.status IS NOT NEW.status OR OLD.total_cents IS NOT NEW.total_cents
  OR date(coalesce(OLD.submitted_at, OLD.updated_at)) IS NOT date(coalesce(NEW.submitted_at, NEW.updated_at))
BEGIN
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(OLD.submitted_at, OLD.updated_at)), a.territory_id, OLD.status, -1, -OLD.total_cents
      FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(NEW.submitted_at, NEW.updated_at)), a.territory_id, NEW.status, 1, NEW.total_cents
      FROM accounts a WHERE a.id = NEW.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_order_status_deleted AFTER DELETE ON orders BEGIN
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(OLD.submitted_at, OLD.updated_at)), a.territory_id, OLD.status, -1, -OLD.total_cents
      FROM accounts a WHERE a.id = OLD.account_id
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_account_updated AFTER UPDATE OF territory_id, class, status ON accounts
WHEN OLD.territory_id IS NOT NEW.territory_id OR OLD.class IS NOT NEW.class OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE report_accounts SET territory_id = NEW.territory_id, class = NEW.class, status = NEW.status
     WHERE account_id = NEW.id;
    INSERT INTO report_visit_days (day, territory_id, rep_id, planned, completed)
    SELECT d.day, m.terr, d.rep_id, sum(d.p) * m.sign, sum(d.c) * m.sign
      FROM (SELECT rep_id, date(planned_at) AS day, 1 AS p, 0 AS c FROM visits WHERE account_id = NEW.id
            UNION ALL
            SELECT rep_id, date(checked_in_at), 0, 1 FROM visits
             WHERE account_id = NEW.id AND status = 'completed' AND checked_in_at IS NOT NULL) d,
           (SELECT OLD.territory_id AS terr, -1 AS sign UNION ALL SELECT NEW.territory_id, 1) m
     WHERE OLD.territory_id IS NOT NEW.territory_id
     GROUP BY d.day, m.terr, d.rep_id, m.sign
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET planned = planned + excluded.planned, completed = completed + excluded.completed;
    INSERT INTO report_order_days (day, territory_id, rep_id, orders, revenue_cents)
    SELECT date(o.submitted_at), m.terr, o.rep_id, count(*) * m.sign, sum(o.total_cents) * m.sign
      FROM orders o, (SELECT OLD.territory_id AS terr, -1 AS sign UNION ALL SELECT NEW.territory_id, 1) m
     WHERE OLD.territory_id IS NOT NEW.territory_id AND o.account_id = NEW.id
       AND o.submitted_at IS NOT NULL AND o.status NOT IN ('cancelled', 'rejected')
     GROUP BY 1, m.terr, o.rep_id, m.sign
    ON CONFLICT (day, territory_id, rep_id)
    DO UPDATE SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents;
    INSERT INTO report_order_status_days (day, territory_id, status, orders, value_cents)
    SELECT date(coalesce(o.submitted_at, o.updated_at)), m.terr, o.status, count(*) * m.sign,
           sum(o.total_cents) * m.sign
      FROM orders o, (SELECT OLD.territory_id AS terr, -1 AS sign UNION ALL SELECT NEW.territory_id, 1) m
     WHERE OLD.territory_id IS NOT NEW.territory_id AND o.account_id = NEW.id
     GROUP BY 1, m.terr, o.status, m.sign
    ON CONFLICT (day, territory_id, status)
    DO UPDATE SET orders = orders + excluded.orders, value_cents = value_cents + excluded.value_cents;
END;
-- +goose StatementEnd

CREATE VIEW report_visit_days_expected AS
SELECT d.day, a.territory_id, d.rep_id, sum(d.p) AS planned, sum(d.c) AS completed
  FROM (SELECT account_id, rep_id, date(planned_at) AS day, 1 AS p, 0 AS c FROM visits
        UNION ALL
        SELECT account_id, rep_id, date(checked_in_at), 0, 1 FROM visits
         WHERE status = 'completed' AND checked_in_at IS NOT NULL) d
  JOIN accounts a ON a.id = d.account_id
 GROUP BY d.day, a.territory_id, d.rep_id;

CREATE VIEW report_order_days_expected AS
SELECT date(o.submitted_at) AS day, a.territory_id, o.rep_id,
       count(*) AS orders, sum(o.total_cents) AS revenue_cents
  FROM orders o JOIN accounts a ON a.id = o.account_id
 WHERE o.submitted_at IS NOT NULL AND o.status NOT IN ('cancelled', 'rejected')
 GROUP BY 1, a.territory_id, o.rep_id;

CREATE VIEW report_order_status_days_expected AS
SELECT date(coalesce(o.submitted_at, o.updated_at)) AS day, a.territory_id, o.status,
       count(*) AS orders, sum(o.total_cents) AS value_cents
  FROM orders o JOIN accounts a ON a.id = o.account_id
 GROUP BY 1, a.territory_id, o.status;

DROP TABLE report_zone_shifts;
DROP TABLE report_time_zone;
