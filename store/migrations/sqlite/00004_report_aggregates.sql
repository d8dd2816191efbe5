-- +goose Up
-- Pre-summed inputs of the coverage report, kept by triggers in the writing
-- transaction; see the Postgres migration of the same number for the why.
-- SQLite has one writer at a time, so the triggers need no locking and update
-- the counters directly; it has only row triggers: each visit, order or
-- account write adjusts its counters.
-- Days are UTC dates as text (YYYY-MM-DD); date() reads the stored times
-- whatever their offset.

CREATE TABLE report_accounts (
    account_id        text PRIMARY KEY,
    territory_id      text NOT NULL,
    class             text NOT NULL,
    status            text NOT NULL,
    last_completed_at datetime
);
CREATE INDEX report_accounts_territory ON report_accounts(territory_id);
CREATE INDEX report_accounts_last ON report_accounts(last_completed_at);
CREATE INDEX report_accounts_overdue ON report_accounts(class, last_completed_at, account_id)
    WHERE status = 'active';

CREATE TABLE report_visit_days (
    day          text NOT NULL,
    territory_id text NOT NULL,
    rep_id       text NOT NULL,
    planned      integer NOT NULL,
    completed    integer NOT NULL,
    PRIMARY KEY (day, territory_id, rep_id)
);
CREATE INDEX report_visit_days_territory ON report_visit_days(territory_id, day);

CREATE TABLE report_order_days (
    day           text NOT NULL,
    territory_id  text NOT NULL,
    rep_id        text NOT NULL,
    orders        integer NOT NULL,
    revenue_cents integer NOT NULL,
    PRIMARY KEY (day, territory_id, rep_id)
);
CREATE INDEX report_order_days_territory ON report_order_days(territory_id, day);

-- On Postgres triggers append to these and a fold moves them into the day
-- tables, so concurrent writers never queue on a counter row. SQLite has one
-- writer at a time: its triggers update the day tables directly and these stay
-- empty, there so that the reports' queries read the same tables on both.
CREATE TABLE report_visit_deltas (
    id           integer PRIMARY KEY AUTOINCREMENT,
    day          text NOT NULL,
    territory_id text NOT NULL,
    rep_id       text NOT NULL,
    planned      integer NOT NULL,
    completed    integer NOT NULL
);
CREATE INDEX report_visit_deltas_day ON report_visit_deltas(day);

CREATE TABLE report_order_deltas (
    id            integer PRIMARY KEY AUTOINCREMENT,
    day           text NOT NULL,
    territory_id  text NOT NULL,
    rep_id        text NOT NULL,
    orders        integer NOT NULL,
    revenue_cents integer NOT NULL
);
CREATE INDEX report_order_deltas_day ON report_order_deltas(day);

CREATE TABLE report_order_status_days (
    day          text NOT NULL,
    territory_id text NOT NULL,
    status       text NOT NULL,
    orders       integer NOT NULL,
    value_cents  integer NOT NULL,
    PRIMARY KEY (day, territory_id, status)
);
CREATE INDEX report_order_status_days_territory ON report_order_status_days(territory_id, day);

CREATE TABLE report_order_status_deltas (
    id           integer PRIMARY KEY AUTOINCREMENT,
    day          text NOT NULL,
    territory_id text NOT NULL,
    status       text NOT NULL,
    orders       integer NOT NULL,
    value_cents  integer NOT NULL
);
CREATE INDEX report_order_status_deltas_day ON report_order_status_deltas(day);

CREATE VIEW report_accounts_expected AS
SELECT a.id AS account_id, a.territory_id, a.class, a.status,
       (SELECT max(v.checked_in_at) FROM visits v
         WHERE v.account_id = a.id AND v.status = 'completed') AS last_completed_at
  FROM accounts a;

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

INSERT INTO report_accounts SELECT * FROM report_accounts_expected;
INSERT INTO report_visit_days SELECT * FROM report_visit_days_expected;
INSERT INTO report_order_days SELECT * FROM report_order_days_expected;
INSERT INTO report_order_status_days SELECT * FROM report_order_status_days_expected;

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

-- An update takes the old row's counts out and puts the new row's in.
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

-- The orders report's counts: every order, on the day of its submission (of its
-- last change for a draft), by status.
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
CREATE TRIGGER report_account_inserted AFTER INSERT ON accounts BEGIN
    INSERT INTO report_accounts (account_id, territory_id, class, status, last_completed_at)
    VALUES (NEW.id, NEW.territory_id, NEW.class, NEW.status,
            (SELECT max(v.checked_in_at) FROM visits v WHERE v.account_id = NEW.id AND v.status = 'completed'));
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

-- +goose StatementBegin
CREATE TRIGGER report_account_deleted AFTER DELETE ON accounts BEGIN
    DELETE FROM report_accounts WHERE account_id = OLD.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER report_account_deleted;
DROP TRIGGER report_account_updated;
DROP TRIGGER report_account_inserted;
DROP TRIGGER report_order_status_deleted;
DROP TRIGGER report_order_status_updated;
DROP TRIGGER report_order_status_inserted;
DROP TRIGGER report_order_deleted;
DROP TRIGGER report_order_updated;
DROP TRIGGER report_order_inserted;
DROP TRIGGER report_visit_deleted;
DROP TRIGGER report_visit_updated;
DROP TRIGGER report_visit_inserted;
DROP VIEW report_order_status_days_expected;
DROP VIEW report_order_days_expected;
DROP VIEW report_visit_days_expected;
DROP VIEW report_accounts_expected;
DROP TABLE report_order_status_deltas;
DROP TABLE report_order_status_days;
DROP TABLE report_order_deltas;
DROP TABLE report_visit_deltas;
DROP TABLE report_order_days;
DROP TABLE report_visit_days;
DROP TABLE report_accounts;
