-- +goose Up
-- The coverage report for a whole organisation cannot group every visit of a
-- period by account at request time: at 1M accounts and 10M visits that took
-- 17 s. These tables hold the report's inputs already summed, and triggers keep
-- them in the writing transaction, so every path that writes accounts, visits or
-- orders (push, desk, planning, admin, conflict resolution, fixtures) maintains
-- them without knowing they exist:
--
--   report_accounts    one row per account: its current territory, class and
--                      status, and the check-in of its latest completed visit;
--   report_visit_days  visits planned (by planned_at) and completed (by
--                      checked_in_at) per UTC day, territory and rep;
--   report_order_days  orders coverage counts (submitted, neither cancelled nor
--                      rejected) and their totals per UTC day, territory and rep;
--   report_order_status_days
--                      every order and its total per UTC day (of submitted_at,
--                      or of the last change for a draft), territory and status:
--                      the orders report.
--
-- The territory is the account's current one (docs/reports.md): moving an
-- account moves the counts of its visits and orders with it.
--
-- Contention: triggers never update a shared counter row. Many writers would
-- otherwise queue on the row of their (day, territory, rep) until they commit:
-- a rep's devices pushing the same day's visits would run one at a time. They
-- append signed rows to report_visit_deltas / report_order_deltas instead,
-- which conflict with nothing; fieldsync_report_fold() moves the deltas into
-- the day tables (the server runs it every few seconds), and reports read the
-- day tables plus whatever deltas are not folded yet, so they stay exact.
--
-- Scope races: a visit or order write takes FOR SHARE on its account before
-- reading the territory, and an account move holds the row lock of its UPDATE
-- while it re-counts the account's visits. So either the move waits for the
-- writer and then sees its rows, or the writer waits for the move and then
-- reads the new territory; counts never land on a territory the account left.

CREATE FUNCTION fieldsync_utc_day(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (ts AT TIME ZONE 'UTC')::date $$;

CREATE TABLE report_accounts (
    account_id        uuid PRIMARY KEY,
    territory_id      uuid NOT NULL,
    class             text NOT NULL,
    status            text NOT NULL,
    last_completed_at timestamptz
);
CREATE INDEX report_accounts_territory ON report_accounts(territory_id);
-- Reports ending in the past re-read the accounts visited after their end.
CREATE INDEX report_accounts_last ON report_accounts(last_completed_at);
-- The overdue report pages through active accounts of one class, least
-- recently visited first.
CREATE INDEX report_accounts_overdue ON report_accounts(class, last_completed_at NULLS FIRST, account_id)
    WHERE status = 'active';

CREATE TABLE report_visit_days (
    day          date NOT NULL,
    territory_id uuid NOT NULL,
    rep_id       uuid NOT NULL,
    planned      integer NOT NULL,
    completed    integer NOT NULL,
    PRIMARY KEY (day, territory_id, rep_id)
);
CREATE INDEX report_visit_days_territory ON report_visit_days(territory_id, day);

CREATE TABLE report_order_days (
    day           date NOT NULL,
    territory_id  uuid NOT NULL,
    rep_id        uuid NOT NULL,
    orders        integer NOT NULL,
    revenue_cents bigint NOT NULL,
    PRIMARY KEY (day, territory_id, rep_id)
);
CREATE INDEX report_order_days_territory ON report_order_days(territory_id, day);

CREATE TABLE report_visit_deltas (
    id           bigserial PRIMARY KEY,
    day          date NOT NULL,
    territory_id uuid NOT NULL,
    rep_id       uuid NOT NULL,
    planned      integer NOT NULL,
    completed    integer NOT NULL
);
CREATE INDEX report_visit_deltas_day ON report_visit_deltas(day);

CREATE TABLE report_order_deltas (
    id            bigserial PRIMARY KEY,
    day           date NOT NULL,
    territory_id  uuid NOT NULL,
    rep_id        uuid NOT NULL,
    orders        integer NOT NULL,
    revenue_cents bigint NOT NULL
);
CREATE INDEX report_order_deltas_day ON report_order_deltas(day);

CREATE TABLE report_order_status_days (
    day          date NOT NULL,
    territory_id uuid NOT NULL,
    status       text NOT NULL,
    orders       integer NOT NULL,
    value_cents  bigint NOT NULL,
    PRIMARY KEY (day, territory_id, status)
);
CREATE INDEX report_order_status_days_territory ON report_order_status_days(territory_id, day);

CREATE TABLE report_order_status_deltas (
    id           bigserial PRIMARY KEY,
    day          date NOT NULL,
    territory_id uuid NOT NULL,
    status       text NOT NULL,
    orders       integer NOT NULL,
    value_cents  bigint NOT NULL
);
CREATE INDEX report_order_status_deltas_day ON report_order_status_deltas(day);

-- The *_expected views compute each table from scratch: the backfill below
-- reads them, and so do the tests (and an operator in doubt) to check that the
-- triggers kept the tables exact.
CREATE VIEW report_accounts_expected AS
SELECT a.id AS account_id, a.territory_id, a.class, a.status,
       (SELECT max(v.checked_in_at) FROM visits v
         WHERE v.account_id = a.id AND v.status = 'completed') AS last_completed_at
  FROM accounts a;

CREATE VIEW report_visit_days_expected AS
SELECT d.day, a.territory_id, d.rep_id, sum(d.p)::bigint AS planned, sum(d.c)::bigint AS completed
  FROM (SELECT account_id, rep_id, fieldsync_utc_day(planned_at) AS day, 1 AS p, 0 AS c FROM visits
        UNION ALL
        SELECT account_id, rep_id, fieldsync_utc_day(checked_in_at), 0, 1 FROM visits
         WHERE status = 'completed' AND checked_in_at IS NOT NULL) d
  JOIN accounts a ON a.id = d.account_id
 GROUP BY d.day, a.territory_id, d.rep_id;

CREATE VIEW report_order_days_expected AS
SELECT fieldsync_utc_day(o.submitted_at) AS day, a.territory_id, o.rep_id,
       count(*)::bigint AS orders, sum(o.total_cents)::bigint AS revenue_cents
  FROM orders o JOIN accounts a ON a.id = o.account_id
 WHERE o.submitted_at IS NOT NULL AND o.status NOT IN ('cancelled', 'rejected')
 GROUP BY 1, a.territory_id, o.rep_id;

CREATE VIEW report_order_status_days_expected AS
SELECT fieldsync_utc_day(coalesce(o.submitted_at, o.updated_at)) AS day, a.territory_id, o.status,
       count(*)::bigint AS orders, sum(o.total_cents)::bigint AS value_cents
  FROM orders o JOIN accounts a ON a.id = o.account_id
 GROUP BY 1, a.territory_id, o.status;

-- The backfill runs before the triggers exist. Goose runs a migration in one
-- transaction, and the SHARE locks keep writers out until the triggers are in.
LOCK TABLE accounts, visits, orders IN SHARE MODE;
INSERT INTO report_accounts SELECT * FROM report_accounts_expected;
INSERT INTO report_visit_days SELECT * FROM report_visit_days_expected;
INSERT INTO report_order_days SELECT * FROM report_order_days_expected;
INSERT INTO report_order_status_days SELECT * FROM report_order_status_days_expected;

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_visit_add(acc uuid, rep uuid, d date, p bigint, c bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    terr uuid;
BEGIN
    SELECT territory_id INTO terr FROM accounts WHERE id = acc FOR SHARE;
    INSERT INTO report_visit_deltas (day, territory_id, rep_id, planned, completed)
    VALUES (d, terr, rep, p, c);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_order_add(acc uuid, rep uuid, d date, n bigint, cents bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    terr uuid;
BEGIN
    SELECT territory_id INTO terr FROM accounts WHERE id = acc FOR SHARE;
    INSERT INTO report_order_deltas (day, territory_id, rep_id, orders, revenue_cents)
    VALUES (d, terr, rep, n, cents);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_order_status_add(acc uuid, d date, st text, n integer, cents bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    terr uuid;
BEGIN
    SELECT territory_id INTO terr FROM accounts WHERE id = acc FOR SHARE;
    INSERT INTO report_order_status_deltas (day, territory_id, status, orders, value_cents)
    VALUES (d, terr, st, n, cents);
END $$;
-- +goose StatementEnd

-- fieldsync_report_last_recompute re-reads an account's latest completed visit
-- after one that may have been it stopped counting. The row lock comes first,
-- in its own statement, so the MAX below is read on a snapshot taken after any
-- concurrent writer of the same row has committed. Writers that raise the value
-- update the row unconditionally for the same reason: a conditional UPDATE
-- that found the committed value already higher would skip the row without
-- waiting for a recompute in flight, which then lowers it below their visit.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_last_recompute(acc uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM report_accounts WHERE account_id = acc FOR UPDATE;
    UPDATE report_accounts
       SET last_completed_at = (SELECT max(checked_in_at) FROM visits
                                 WHERE account_id = acc AND status = 'completed')
     WHERE account_id = acc;
END $$;
-- +goose StatementEnd

-- Inserts are counted per statement: push and the fixtures insert visits in
-- batches, and one grouped upsert per batch beats one per row.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_visits_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts
     WHERE id IN (SELECT account_id FROM new_visits) ORDER BY id FOR SHARE;
    INSERT INTO report_visit_deltas (day, territory_id, rep_id, planned, completed)
    SELECT d.day, a.territory_id, d.rep_id, sum(d.p), sum(d.c)
      FROM (SELECT account_id, rep_id, fieldsync_utc_day(planned_at) AS day, 1 AS p, 0 AS c FROM new_visits
            UNION ALL
            SELECT account_id, rep_id, fieldsync_utc_day(checked_in_at), 0, 1 FROM new_visits
             WHERE status = 'completed' AND checked_in_at IS NOT NULL) d
      JOIN accounts a ON a.id = d.account_id
     GROUP BY d.day, a.territory_id, d.rep_id;
    -- Unconditional, so it always takes the row lock (see fieldsync_report_last_recompute).
    UPDATE report_accounts s SET last_completed_at = greatest(s.last_completed_at, m.last)
      FROM (SELECT account_id, max(checked_in_at) AS last FROM new_visits
             WHERE status = 'completed' AND checked_in_at IS NOT NULL GROUP BY account_id) m
     WHERE s.account_id = m.account_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_visit_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_done date := CASE WHEN OLD.status = 'completed' THEN fieldsync_utc_day(OLD.checked_in_at) END;
    new_done date := CASE WHEN NEW.status = 'completed' THEN fieldsync_utc_day(NEW.checked_in_at) END;
    same boolean := OLD.account_id = NEW.account_id AND OLD.rep_id = NEW.rep_id;
BEGIN
    IF NOT same OR fieldsync_utc_day(OLD.planned_at) <> fieldsync_utc_day(NEW.planned_at) THEN
        PERFORM fieldsync_report_visit_add(OLD.account_id, OLD.rep_id, fieldsync_utc_day(OLD.planned_at), -1, 0);
        PERFORM fieldsync_report_visit_add(NEW.account_id, NEW.rep_id, fieldsync_utc_day(NEW.planned_at), 1, 0);
    END IF;
    IF NOT same OR old_done IS DISTINCT FROM new_done THEN
        IF old_done IS NOT NULL THEN
            PERFORM fieldsync_report_visit_add(OLD.account_id, OLD.rep_id, old_done, 0, -1);
        END IF;
        IF new_done IS NOT NULL THEN
            PERFORM fieldsync_report_visit_add(NEW.account_id, NEW.rep_id, new_done, 0, 1);
        END IF;
    END IF;
    IF OLD.status = 'completed' AND OLD.checked_in_at IS NOT NULL
       AND (NOT same OR NEW.status <> 'completed' OR NEW.checked_in_at IS NULL
            OR NEW.checked_in_at < OLD.checked_in_at) THEN
        PERFORM fieldsync_report_last_recompute(OLD.account_id);
    END IF;
    IF NEW.status = 'completed' AND NEW.checked_in_at IS NOT NULL THEN
        UPDATE report_accounts SET last_completed_at = greatest(last_completed_at, NEW.checked_in_at)
         WHERE account_id = NEW.account_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_visit_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fieldsync_report_visit_add(OLD.account_id, OLD.rep_id, fieldsync_utc_day(OLD.planned_at), -1, 0);
    IF OLD.status = 'completed' AND OLD.checked_in_at IS NOT NULL THEN
        PERFORM fieldsync_report_visit_add(OLD.account_id, OLD.rep_id, fieldsync_utc_day(OLD.checked_in_at), 0, -1);
        PERFORM fieldsync_report_last_recompute(OLD.account_id);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_orders_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts
     WHERE id IN (SELECT account_id FROM new_orders) ORDER BY id FOR SHARE;
    INSERT INTO report_order_deltas (day, territory_id, rep_id, orders, revenue_cents)
    SELECT fieldsync_utc_day(o.submitted_at), a.territory_id, o.rep_id, count(*), sum(o.total_cents)
      FROM new_orders o JOIN accounts a ON a.id = o.account_id
     WHERE o.submitted_at IS NOT NULL AND o.status NOT IN ('cancelled', 'rejected')
     GROUP BY 1, 2, 3;
    INSERT INTO report_order_status_deltas (day, territory_id, status, orders, value_cents)
    SELECT fieldsync_utc_day(coalesce(o.submitted_at, o.updated_at)), a.territory_id, o.status, count(*),
           sum(o.total_cents)
      FROM new_orders o JOIN accounts a ON a.id = o.account_id
     GROUP BY 1, 2, 3;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_order_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.submitted_at IS NOT NULL
       AND OLD.status NOT IN ('cancelled', 'rejected') THEN
        PERFORM fieldsync_report_order_add(OLD.account_id, OLD.rep_id, fieldsync_utc_day(OLD.submitted_at),
                                           -1, -OLD.total_cents);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.submitted_at IS NOT NULL AND NEW.status NOT IN ('cancelled', 'rejected') THEN
        PERFORM fieldsync_report_order_add(NEW.account_id, NEW.rep_id, fieldsync_utc_day(NEW.submitted_at),
                                           1, NEW.total_cents);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- A draft's day is that of its last change, so most updates of a draft move
-- it; an update of a submitted order that keeps its status and total does not.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_order_status_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_day date := fieldsync_utc_day(coalesce(OLD.submitted_at, OLD.updated_at));
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM fieldsync_report_order_status_add(OLD.account_id, old_day, OLD.status, -1, -OLD.total_cents);
        RETURN NULL;
    END IF;
    IF OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.status IS DISTINCT FROM NEW.status
       OR OLD.total_cents IS DISTINCT FROM NEW.total_cents
       OR old_day IS DISTINCT FROM fieldsync_utc_day(coalesce(NEW.submitted_at, NEW.updated_at)) THEN
        PERFORM fieldsync_report_order_status_add(OLD.account_id, old_day, OLD.status, -1, -OLD.total_cents);
        PERFORM fieldsync_report_order_status_add(NEW.account_id,
            fieldsync_utc_day(coalesce(NEW.submitted_at, NEW.updated_at)), NEW.status, 1, NEW.total_cents);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_accounts_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_accounts (account_id, territory_id, class, status, last_completed_at)
    SELECT n.id, n.territory_id, n.class, n.status,
           (SELECT max(v.checked_in_at) FROM visits v WHERE v.account_id = n.id AND v.status = 'completed')
      FROM new_accounts n;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- An account's move re-counts its visits and orders: out of the old territory,
-- into the new one, in one grouped upsert each.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_account_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE report_accounts SET territory_id = NEW.territory_id, class = NEW.class, status = NEW.status
     WHERE account_id = NEW.id;
    IF OLD.territory_id = NEW.territory_id THEN
        RETURN NULL;
    END IF;
    INSERT INTO report_visit_deltas (day, territory_id, rep_id, planned, completed)
    SELECT d.day, m.terr, d.rep_id, sum(d.p) * m.sign, sum(d.c) * m.sign
      FROM (SELECT rep_id, fieldsync_utc_day(planned_at) AS day, 1 AS p, 0 AS c FROM visits WHERE account_id = NEW.id
            UNION ALL
            SELECT rep_id, fieldsync_utc_day(checked_in_at), 0, 1 FROM visits
             WHERE account_id = NEW.id AND status = 'completed' AND checked_in_at IS NOT NULL) d
     CROSS JOIN (VALUES (OLD.territory_id, -1), (NEW.territory_id, 1)) AS m(terr, sign)
     GROUP BY d.day, m.terr, d.rep_id, m.sign;
    INSERT INTO report_order_deltas (day, territory_id, rep_id, orders, revenue_cents)
    SELECT fieldsync_utc_day(o.submitted_at), m.terr, o.rep_id, count(*) * m.sign, sum(o.total_cents) * m.sign
      FROM orders o
     CROSS JOIN (VALUES (OLD.territory_id, -1), (NEW.territory_id, 1)) AS m(terr, sign)
     WHERE o.account_id = NEW.id AND o.submitted_at IS NOT NULL AND o.status NOT IN ('cancelled', 'rejected')
     GROUP BY 1, 2, 3, m.sign;
    INSERT INTO report_order_status_deltas (day, territory_id, status, orders, value_cents)
    SELECT fieldsync_utc_day(coalesce(o.submitted_at, o.updated_at)), m.terr, o.status,
           count(*) * m.sign, sum(o.total_cents) * m.sign
      FROM orders o
     CROSS JOIN (VALUES (OLD.territory_id, -1), (NEW.territory_id, 1)) AS m(terr, sign)
     WHERE o.account_id = NEW.id
     GROUP BY 1, 2, 3, m.sign;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_account_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_accounts WHERE account_id = OLD.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- fieldsync_report_fold moves the deltas committed so far into the day tables.
-- Deltas committed meanwhile wait for the next fold; two folds at once each
-- move what they deleted (a row deleted by the other is skipped), so nothing
-- is counted twice. The upserts run in key order, so folds cannot deadlock.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_report_fold() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    nv bigint;
    no bigint;
    ns bigint;
BEGIN
    WITH moved AS (DELETE FROM report_visit_deltas RETURNING day, territory_id, rep_id, planned, completed),
    summed AS (SELECT day, territory_id, rep_id, sum(planned) AS planned, sum(completed) AS completed,
                      count(*) AS n
                 FROM moved GROUP BY day, territory_id, rep_id),
    up AS (INSERT INTO report_visit_days AS r (day, territory_id, rep_id, planned, completed)
           SELECT day, territory_id, rep_id, planned, completed FROM summed ORDER BY 1, 2, 3
           ON CONFLICT (day, territory_id, rep_id)
           DO UPDATE SET planned = r.planned + EXCLUDED.planned, completed = r.completed + EXCLUDED.completed)
    SELECT coalesce(sum(n), 0) INTO nv FROM summed;
    WITH moved AS (DELETE FROM report_order_deltas RETURNING day, territory_id, rep_id, orders, revenue_cents),
    summed AS (SELECT day, territory_id, rep_id, sum(orders) AS orders, sum(revenue_cents) AS revenue_cents,
                      count(*) AS n
                 FROM moved GROUP BY day, territory_id, rep_id),
    up AS (INSERT INTO report_order_days AS r (day, territory_id, rep_id, orders, revenue_cents)
           SELECT day, territory_id, rep_id, orders, revenue_cents FROM summed ORDER BY 1, 2, 3
           ON CONFLICT (day, territory_id, rep_id)
           DO UPDATE SET orders = r.orders + EXCLUDED.orders, revenue_cents = r.revenue_cents + EXCLUDED.revenue_cents)
    SELECT coalesce(sum(n), 0) INTO no FROM summed;
    WITH moved AS (DELETE FROM report_order_status_deltas RETURNING day, territory_id, status, orders, value_cents),
    summed AS (SELECT day, territory_id, status, sum(orders) AS orders, sum(value_cents) AS value_cents,
                      count(*) AS n
                 FROM moved GROUP BY day, territory_id, status),
    up AS (INSERT INTO report_order_status_days AS r (day, territory_id, status, orders, value_cents)
           SELECT day, territory_id, status, orders, value_cents FROM summed ORDER BY 1, 2, 3
           ON CONFLICT (day, territory_id, status)
           DO UPDATE SET orders = r.orders + EXCLUDED.orders, value_cents = r.value_cents + EXCLUDED.value_cents)
    SELECT coalesce(sum(n), 0) INTO ns FROM summed;
    RETURN nv + no + ns;
END $$;
-- +goose StatementEnd

CREATE TRIGGER report_visits_inserted AFTER INSERT ON visits
    REFERENCING NEW TABLE AS new_visits FOR EACH STATEMENT EXECUTE FUNCTION fieldsync_report_visits_inserted();
CREATE TRIGGER report_visit_updated AFTER UPDATE OF account_id, rep_id, status, planned_at, checked_in_at ON visits
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.rep_id IS DISTINCT FROM NEW.rep_id
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.planned_at IS DISTINCT FROM NEW.planned_at
        OR OLD.checked_in_at IS DISTINCT FROM NEW.checked_in_at)
    EXECUTE FUNCTION fieldsync_report_visit_updated();
CREATE TRIGGER report_visit_deleted AFTER DELETE ON visits
    FOR EACH ROW EXECUTE FUNCTION fieldsync_report_visit_deleted();

CREATE TRIGGER report_orders_inserted AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_orders FOR EACH STATEMENT EXECUTE FUNCTION fieldsync_report_orders_inserted();
CREATE TRIGGER report_order_updated AFTER UPDATE OF account_id, rep_id, status, submitted_at, total_cents ON orders
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.rep_id IS DISTINCT FROM NEW.rep_id
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at
        OR OLD.total_cents IS DISTINCT FROM NEW.total_cents)
    EXECUTE FUNCTION fieldsync_report_order_changed();
CREATE TRIGGER report_order_deleted AFTER DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION fieldsync_report_order_changed();
CREATE TRIGGER report_order_status_updated AFTER UPDATE OF account_id, status, submitted_at, updated_at, total_cents
    ON orders
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at OR OLD.updated_at IS DISTINCT FROM NEW.updated_at
        OR OLD.total_cents IS DISTINCT FROM NEW.total_cents)
    EXECUTE FUNCTION fieldsync_report_order_status_changed();
CREATE TRIGGER report_order_status_deleted AFTER DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION fieldsync_report_order_status_changed();

CREATE TRIGGER report_accounts_inserted AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS new_accounts FOR EACH STATEMENT EXECUTE FUNCTION fieldsync_report_accounts_inserted();
CREATE TRIGGER report_account_updated AFTER UPDATE OF territory_id, class, status ON accounts
    FOR EACH ROW WHEN (OLD.territory_id IS DISTINCT FROM NEW.territory_id OR OLD.class IS DISTINCT FROM NEW.class
        OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION fieldsync_report_account_updated();
CREATE TRIGGER report_account_deleted AFTER DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION fieldsync_report_account_deleted();

-- +goose Down
DROP TRIGGER report_account_deleted ON accounts;
DROP TRIGGER report_account_updated ON accounts;
DROP TRIGGER report_accounts_inserted ON accounts;
DROP TRIGGER report_order_status_deleted ON orders;
DROP TRIGGER report_order_status_updated ON orders;
DROP TRIGGER report_order_deleted ON orders;
DROP TRIGGER report_order_updated ON orders;
DROP TRIGGER report_orders_inserted ON orders;
DROP TRIGGER report_visit_deleted ON visits;
DROP TRIGGER report_visit_updated ON visits;
DROP TRIGGER report_visits_inserted ON visits;
DROP FUNCTION fieldsync_report_fold();
DROP FUNCTION fieldsync_report_account_deleted();
DROP FUNCTION fieldsync_report_account_updated();
DROP FUNCTION fieldsync_report_accounts_inserted();
DROP FUNCTION fieldsync_report_order_status_changed();
DROP FUNCTION fieldsync_report_order_changed();
DROP FUNCTION fieldsync_report_orders_inserted();
DROP FUNCTION fieldsync_report_visit_deleted();
DROP FUNCTION fieldsync_report_visit_updated();
DROP FUNCTION fieldsync_report_visits_inserted();
DROP FUNCTION fieldsync_report_last_recompute(uuid);
DROP FUNCTION fieldsync_report_order_status_add(uuid, date, text, integer, bigint);
DROP FUNCTION fieldsync_report_order_add(uuid, uuid, date, bigint, bigint);
DROP FUNCTION fieldsync_report_visit_add(uuid, uuid, date, bigint, bigint);
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
DROP FUNCTION fieldsync_utc_day(timestamptz);
