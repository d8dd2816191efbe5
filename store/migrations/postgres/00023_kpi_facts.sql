-- +goose Up
-- Account-level facts for the KPI report (docs/reports.md "KPIs", "How the
-- reports stay fast"). The report's account figures (ordering, new, lost
-- accounts) are sets of accounts, which the day tables of 00004 cannot give:
-- until now the report read every order of four windows grouped by account
-- and shipped the groups to Go, minutes at 1M accounts. These tables hold the
-- same inputs one row per account, rep and organisation's day with a
-- submitted order, kept by triggers in the writing transaction like 00004's
-- (every path that writes orders or moves accounts maintains them), so the
-- report is one grouped read of narrow rows, summed in SQL:
--
--   report_kpi_facts     per account, rep and day (of submitted_at, in the
--                        zone of report_time_zone): the account's current
--                        territory; the orders the KPIs count (submitted,
--                        neither cancelled, rejected nor draft) and their
--                        total; every submitted order, and those confirmed,
--                        shipped or delivered (conversion);
--   report_kpi_accounts  per account with a counted order: the day of its
--                        first one ever ("new accounts").
--
-- The day is fieldsync_utc_day's, so a change of zone rebuilds these tables
-- with the day tables (store.SetReportTimeZone, which rebuilds every table
-- with a *_expected view).
--
-- Contention: a row belongs to one account, so writers queue on it only when
-- they write orders of the same account, rep and day; rows are updated in
-- place, without the deltas of 00004. A row whose orders all went away is
-- deleted, so the table equals its view.

CREATE TABLE report_kpi_facts (
    account_id    uuid NOT NULL,
    rep_id        uuid NOT NULL,
    day           date NOT NULL,
    territory_id  uuid NOT NULL,
    orders        integer NOT NULL,
    revenue_cents bigint NOT NULL,
    submitted     integer NOT NULL,
    confirmed     integer NOT NULL,
    PRIMARY KEY (account_id, rep_id, day)
);
-- The organisation's report reads a range of days with every column: an
-- index-only scan over contiguous entries, where the heap holds a day's rows
-- scattered over every page.
CREATE INDEX report_kpi_facts_day ON report_kpi_facts(day)
    INCLUDE (territory_id, account_id, rep_id, orders, revenue_cents, submitted, confirmed);
-- A manager's report reads the days of a few territories.
CREATE INDEX report_kpi_facts_territory ON report_kpi_facts(territory_id, day);

CREATE TABLE report_kpi_accounts (
    account_id uuid PRIMARY KEY,
    first_day  date NOT NULL
);

CREATE VIEW report_kpi_facts_expected AS
SELECT o.account_id, o.rep_id, fieldsync_utc_day(o.submitted_at) AS day, a.territory_id,
       count(*) FILTER (WHERE o.status NOT IN ('cancelled', 'rejected', 'draft'))::bigint AS orders,
       coalesce(sum(o.total_cents) FILTER (WHERE o.status NOT IN ('cancelled', 'rejected', 'draft')), 0)::bigint
           AS revenue_cents,
       count(*)::bigint AS submitted,
       count(*) FILTER (WHERE o.status IN ('confirmed', 'shipped', 'delivered'))::bigint AS confirmed
  FROM orders o JOIN accounts a ON a.id = o.account_id
 WHERE o.submitted_at IS NOT NULL
 GROUP BY o.account_id, o.rep_id, 3, a.territory_id;

CREATE VIEW report_kpi_accounts_expected AS
SELECT account_id, min(day) AS first_day FROM report_kpi_facts_expected WHERE orders > 0 GROUP BY account_id;

-- The backfill runs before the triggers exist; the SHARE locks keep writers
-- out until the migration's transaction commits.
LOCK TABLE accounts, orders IN SHARE MODE;
INSERT INTO report_kpi_facts SELECT * FROM report_kpi_facts_expected;
INSERT INTO report_kpi_accounts SELECT account_id, min(day) FROM report_kpi_facts WHERE orders > 0 GROUP BY account_id;

-- fieldsync_kpi_fact_add adds signed counts to one row and drops it when no
-- submitted order is left in it.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_kpi_fact_add(acc uuid, rep uuid, d date, n integer, cents bigint, sub integer,
                                       conf integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    terr uuid;
BEGIN
    SELECT territory_id INTO terr FROM accounts WHERE id = acc FOR SHARE;
    INSERT INTO report_kpi_facts AS f (account_id, rep_id, day, territory_id, orders, revenue_cents, submitted,
                                       confirmed)
    VALUES (acc, rep, d, terr, n, cents, sub, conf)
    ON CONFLICT (account_id, rep_id, day) DO UPDATE
       SET orders = f.orders + EXCLUDED.orders, revenue_cents = f.revenue_cents + EXCLUDED.revenue_cents,
           submitted = f.submitted + EXCLUDED.submitted, confirmed = f.confirmed + EXCLUDED.confirmed;
    DELETE FROM report_kpi_facts WHERE account_id = acc AND rep_id = rep AND day = d AND submitted = 0;
END $$;
-- +goose StatementEnd

-- fieldsync_kpi_first_recompute re-reads an account's first counted day after
-- an order that may have been it stopped counting. The row lock comes first,
-- in its own statement, so the MIN below reads a snapshot taken after any
-- writer of the same row committed; writers that add a counted order lower the
-- row with least() after their facts are written, so whichever order they run
-- in, the last one to write sees every committed fact.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_kpi_first_recompute(acc uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    first date;
BEGIN
    PERFORM 1 FROM report_kpi_accounts WHERE account_id = acc FOR UPDATE;
    SELECT min(day) INTO first FROM report_kpi_facts WHERE account_id = acc AND orders > 0;
    IF first IS NULL THEN
        DELETE FROM report_kpi_accounts WHERE account_id = acc;
    ELSE
        INSERT INTO report_kpi_accounts (account_id, first_day) VALUES (acc, first)
        ON CONFLICT (account_id) DO UPDATE SET first_day = EXCLUDED.first_day;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION fieldsync_kpi_first_lower(acc uuid, d date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_kpi_accounts AS k (account_id, first_day) VALUES (acc, d)
    ON CONFLICT (account_id) DO UPDATE SET first_day = least(k.first_day, EXCLUDED.first_day);
END $$;
-- +goose StatementEnd

-- Inserts are counted per statement (push and the fixtures insert orders in
-- batches), in key order so that two batches cannot deadlock on the rows.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_kpi_orders_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts
     WHERE id IN (SELECT account_id FROM new_kpi_orders WHERE submitted_at IS NOT NULL) ORDER BY id FOR SHARE;
    INSERT INTO report_kpi_facts AS f (account_id, rep_id, day, territory_id, orders, revenue_cents, submitted,
                                       confirmed)
    SELECT o.account_id, o.rep_id, fieldsync_utc_day(o.submitted_at), a.territory_id,
           count(*) FILTER (WHERE o.status NOT IN ('cancelled', 'rejected', 'draft')),
           coalesce(sum(o.total_cents) FILTER (WHERE o.status NOT IN ('cancelled', 'rejected', 'draft')), 0),
           count(*), count(*) FILTER (WHERE o.status IN ('confirmed', 'shipped', 'delivered'))
      FROM new_kpi_orders o JOIN accounts a ON a.id = o.account_id
     WHERE o.submitted_at IS NOT NULL
     GROUP BY 1, 2, 3, 4
     ORDER BY 1, 2, 3
    ON CONFLICT (account_id, rep_id, day) DO UPDATE
       SET orders = f.orders + EXCLUDED.orders, revenue_cents = f.revenue_cents + EXCLUDED.revenue_cents,
           submitted = f.submitted + EXCLUDED.submitted, confirmed = f.confirmed + EXCLUDED.confirmed;
    INSERT INTO report_kpi_accounts AS k (account_id, first_day)
    SELECT account_id, min(fieldsync_utc_day(submitted_at)) FROM new_kpi_orders
     WHERE submitted_at IS NOT NULL AND status NOT IN ('cancelled', 'rejected', 'draft')
     GROUP BY 1 ORDER BY 1
    ON CONFLICT (account_id) DO UPDATE SET first_day = least(k.first_day, EXCLUDED.first_day);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- A status change (the common update: confirm, ship, cancel) keeps the row and
-- adds the differences to it; a change of account, rep or day moves the order
-- out of one row and into another.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_kpi_order_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_day date;
    new_day date;
    old_n integer := 0;
    new_n integer := 0;
    old_conf integer := 0;
    new_conf integer := 0;
BEGIN
    IF OLD.submitted_at IS NOT NULL THEN
        old_day := fieldsync_utc_day(OLD.submitted_at);
        IF OLD.status NOT IN ('cancelled', 'rejected', 'draft') THEN old_n := 1; END IF;
        IF OLD.status IN ('confirmed', 'shipped', 'delivered') THEN old_conf := 1; END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.submitted_at IS NOT NULL THEN
        new_day := fieldsync_utc_day(NEW.submitted_at);
        IF NEW.status NOT IN ('cancelled', 'rejected', 'draft') THEN new_n := 1; END IF;
        IF NEW.status IN ('confirmed', 'shipped', 'delivered') THEN new_conf := 1; END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND old_day IS NOT NULL AND new_day IS NOT NULL AND OLD.account_id = NEW.account_id
       AND OLD.rep_id = NEW.rep_id AND old_day = new_day THEN
        PERFORM fieldsync_kpi_fact_add(NEW.account_id, NEW.rep_id, new_day, new_n - old_n,
                                       new_n * NEW.total_cents - old_n * OLD.total_cents, 0, new_conf - old_conf);
        IF old_n = 1 AND new_n = 0 THEN
            PERFORM fieldsync_kpi_first_recompute(OLD.account_id);
        ELSIF new_n = 1 AND old_n = 0 THEN
            PERFORM fieldsync_kpi_first_lower(NEW.account_id, new_day);
        END IF;
        RETURN NULL;
    END IF;
    IF old_day IS NOT NULL THEN
        PERFORM fieldsync_kpi_fact_add(OLD.account_id, OLD.rep_id, old_day, -old_n, -old_n * OLD.total_cents, -1,
                                       -old_conf);
    END IF;
    IF new_day IS NOT NULL THEN
        PERFORM fieldsync_kpi_fact_add(NEW.account_id, NEW.rep_id, new_day, new_n, new_n * NEW.total_cents, 1,
                                       new_conf);
    END IF;
    IF old_n = 1 THEN
        PERFORM fieldsync_kpi_first_recompute(OLD.account_id);
    END IF;
    IF new_n = 1 THEN
        PERFORM fieldsync_kpi_first_lower(NEW.account_id, new_day);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- An account's move takes its facts to the new territory. The account's row
-- lock (the UPDATE's) keeps order writers of the account out meanwhile, as
-- for the day tables.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_kpi_account_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE report_kpi_facts SET territory_id = NEW.territory_id WHERE account_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER report_kpi_orders_inserted AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_kpi_orders FOR EACH STATEMENT EXECUTE FUNCTION fieldsync_kpi_orders_inserted();
CREATE TRIGGER report_kpi_order_updated AFTER UPDATE OF account_id, rep_id, status, submitted_at, total_cents ON orders
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.rep_id IS DISTINCT FROM NEW.rep_id
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at
        OR OLD.total_cents IS DISTINCT FROM NEW.total_cents)
    EXECUTE FUNCTION fieldsync_kpi_order_changed();
CREATE TRIGGER report_kpi_order_deleted AFTER DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION fieldsync_kpi_order_changed();
CREATE TRIGGER report_kpi_account_moved AFTER UPDATE OF territory_id ON accounts
    FOR EACH ROW WHEN (OLD.territory_id IS DISTINCT FROM NEW.territory_id)
    EXECUTE FUNCTION fieldsync_kpi_account_moved();

-- +goose Down
DROP TRIGGER report_kpi_account_moved ON accounts;
DROP TRIGGER report_kpi_order_deleted ON orders;
DROP TRIGGER report_kpi_order_updated ON orders;
DROP TRIGGER report_kpi_orders_inserted ON orders;
DROP FUNCTION fieldsync_kpi_account_moved();
DROP FUNCTION fieldsync_kpi_order_changed();
DROP FUNCTION fieldsync_kpi_orders_inserted();
DROP FUNCTION fieldsync_kpi_first_lower(uuid, date);
DROP FUNCTION fieldsync_kpi_first_recompute(uuid);
DROP FUNCTION fieldsync_kpi_fact_add(uuid, uuid, date, integer, bigint, integer, integer);
DROP VIEW report_kpi_accounts_expected;
DROP VIEW report_kpi_facts_expected;
DROP TABLE report_kpi_accounts;
DROP TABLE report_kpi_facts;
