-- +goose Up
-- Account-level facts for the KPI report; see the Postgres migration of the
-- same number for the why. SQLite has one writer at a time and only row
-- triggers: each order write adjusts its rows directly, and a write that may
-- have removed an account's first counted order re-reads that account's first
-- day from its facts (a few rows under the primary key). Days are local dates
-- as text (YYYY-MM-DD), read through report_zone_shifts like 00021's.

CREATE TABLE report_kpi_facts (
    account_id    text NOT NULL,
    rep_id        text NOT NULL,
    day           text NOT NULL,
    territory_id  text NOT NULL,
    orders        integer NOT NULL,
    revenue_cents integer NOT NULL,
    submitted     integer NOT NULL,
    confirmed     integer NOT NULL,
    PRIMARY KEY (account_id, rep_id, day)
);
CREATE INDEX report_kpi_facts_day ON report_kpi_facts(day, territory_id);
CREATE INDEX report_kpi_facts_territory ON report_kpi_facts(territory_id, day);

CREATE TABLE report_kpi_accounts (
    account_id text PRIMARY KEY,
    first_day  text NOT NULL
);

CREATE VIEW report_kpi_facts_expected AS
SELECT o.account_id, o.rep_id, date(o.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(o.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)) AS day, a.territory_id,
       sum(o.status NOT IN ('cancelled', 'rejected', 'draft')) AS orders,
       sum(CASE WHEN o.status NOT IN ('cancelled', 'rejected', 'draft') THEN o.total_cents ELSE 0 END) AS revenue_cents,
       count(*) AS submitted,
       sum(o.status IN ('confirmed', 'shipped', 'delivered')) AS confirmed
  FROM orders o JOIN accounts a ON a.id = o.account_id
 WHERE o.submitted_at IS NOT NULL
 GROUP BY o.account_id, o.rep_id, 3, a.territory_id;

CREATE VIEW report_kpi_accounts_expected AS
SELECT account_id, min(day) AS first_day FROM report_kpi_facts_expected WHERE orders > 0 GROUP BY account_id;

INSERT INTO report_kpi_facts SELECT * FROM report_kpi_facts_expected;
INSERT INTO report_kpi_accounts SELECT account_id, min(day) FROM report_kpi_facts WHERE orders > 0 GROUP BY account_id;

-- +goose StatementBegin
CREATE TRIGGER report_kpi_order_inserted AFTER INSERT ON orders
WHEN NEW.submitted_at IS NOT NULL
BEGIN
    INSERT INTO report_kpi_facts (account_id, rep_id, day, territory_id, orders, revenue_cents, submitted, confirmed)
    SELECT NEW.account_id, NEW.rep_id, date(NEW.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id,
           (NEW.status NOT IN ('cancelled', 'rejected', 'draft')), (CASE WHEN NEW.status NOT IN ('cancelled', 'rejected', 'draft') THEN NEW.total_cents ELSE 0 END), 1, (NEW.status IN ('confirmed', 'shipped', 'delivered'))
      FROM accounts a WHERE a.id = NEW.account_id AND NEW.submitted_at IS NOT NULL
    ON CONFLICT (account_id, rep_id, day) DO UPDATE
       SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents,
           submitted = submitted + excluded.submitted, confirmed = confirmed + excluded.confirmed;
    INSERT INTO report_kpi_accounts (account_id, first_day)
    SELECT NEW.account_id, date(NEW.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)) WHERE NEW.status NOT IN ('cancelled', 'rejected', 'draft')
    ON CONFLICT (account_id) DO UPDATE SET first_day = min(first_day, excluded.first_day);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_kpi_order_updated AFTER UPDATE OF account_id, rep_id, status, submitted_at, total_cents ON orders
WHEN OLD.account_id IS NOT NEW.account_id OR OLD.rep_id IS NOT NEW.rep_id OR OLD.status IS NOT NEW.status
  OR OLD.submitted_at IS NOT NEW.submitted_at OR OLD.total_cents IS NOT NEW.total_cents
BEGIN
    INSERT INTO report_kpi_facts (account_id, rep_id, day, territory_id, orders, revenue_cents, submitted, confirmed)
    SELECT OLD.account_id, OLD.rep_id, date(OLD.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id,
           -(OLD.status NOT IN ('cancelled', 'rejected', 'draft')), -(CASE WHEN OLD.status NOT IN ('cancelled', 'rejected', 'draft') THEN OLD.total_cents ELSE 0 END), -1, -(OLD.status IN ('confirmed', 'shipped', 'delivered'))
      FROM accounts a WHERE a.id = OLD.account_id AND OLD.submitted_at IS NOT NULL
    ON CONFLICT (account_id, rep_id, day) DO UPDATE
       SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents,
           submitted = submitted + excluded.submitted, confirmed = confirmed + excluded.confirmed;
    INSERT INTO report_kpi_facts (account_id, rep_id, day, territory_id, orders, revenue_cents, submitted, confirmed)
    SELECT NEW.account_id, NEW.rep_id, date(NEW.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(NEW.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id,
           (NEW.status NOT IN ('cancelled', 'rejected', 'draft')), (CASE WHEN NEW.status NOT IN ('cancelled', 'rejected', 'draft') THEN NEW.total_cents ELSE 0 END), 1, (NEW.status IN ('confirmed', 'shipped', 'delivered'))
      FROM accounts a WHERE a.id = NEW.account_id AND NEW.submitted_at IS NOT NULL
    ON CONFLICT (account_id, rep_id, day) DO UPDATE
       SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents,
           submitted = submitted + excluded.submitted, confirmed = confirmed + excluded.confirmed;
    DELETE FROM report_kpi_facts WHERE submitted = 0 AND account_id IN (OLD.account_id, NEW.account_id);
    DELETE FROM report_kpi_accounts WHERE account_id IN (OLD.account_id, NEW.account_id);
    INSERT INTO report_kpi_accounts (account_id, first_day)
    SELECT account_id, min(day) FROM report_kpi_facts
     WHERE account_id IN (OLD.account_id, NEW.account_id) AND orders > 0 GROUP BY account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_kpi_order_deleted AFTER DELETE ON orders
WHEN OLD.submitted_at IS NOT NULL
BEGIN
    INSERT INTO report_kpi_facts (account_id, rep_id, day, territory_id, orders, revenue_cents, submitted, confirmed)
    SELECT OLD.account_id, OLD.rep_id, date(OLD.submitted_at, (SELECT z.shift FROM report_zone_shifts z WHERE z.starts_at <= datetime(OLD.submitted_at) ORDER BY z.starts_at DESC LIMIT 1)), a.territory_id,
           -(OLD.status NOT IN ('cancelled', 'rejected', 'draft')), -(CASE WHEN OLD.status NOT IN ('cancelled', 'rejected', 'draft') THEN OLD.total_cents ELSE 0 END), -1, -(OLD.status IN ('confirmed', 'shipped', 'delivered'))
      FROM accounts a WHERE a.id = OLD.account_id AND OLD.submitted_at IS NOT NULL
    ON CONFLICT (account_id, rep_id, day) DO UPDATE
       SET orders = orders + excluded.orders, revenue_cents = revenue_cents + excluded.revenue_cents,
           submitted = submitted + excluded.submitted, confirmed = confirmed + excluded.confirmed;
    DELETE FROM report_kpi_facts WHERE submitted = 0 AND account_id IN (OLD.account_id, OLD.account_id);
    DELETE FROM report_kpi_accounts WHERE account_id IN (OLD.account_id, OLD.account_id);
    INSERT INTO report_kpi_accounts (account_id, first_day)
    SELECT account_id, min(day) FROM report_kpi_facts
     WHERE account_id IN (OLD.account_id, OLD.account_id) AND orders > 0 GROUP BY account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER report_kpi_account_moved AFTER UPDATE OF territory_id ON accounts
WHEN OLD.territory_id IS NOT NEW.territory_id
BEGIN
    UPDATE report_kpi_facts SET territory_id = NEW.territory_id WHERE account_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER report_kpi_account_moved;
DROP TRIGGER report_kpi_order_deleted;
DROP TRIGGER report_kpi_order_updated;
DROP TRIGGER report_kpi_order_inserted;
DROP VIEW report_kpi_accounts_expected;
DROP VIEW report_kpi_facts_expected;
DROP TABLE report_kpi_accounts;
DROP TABLE report_kpi_facts;
