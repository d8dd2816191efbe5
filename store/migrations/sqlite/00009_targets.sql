-- +goose Up
-- Sales targets (docs/api.md "Targets"): one row per subject and period. The
-- subject is a territory or a rep, never both; `subject` ("t:<id>" or
-- "r:<id>") makes one target per subject and period unique. Periods are whole
-- months ("2026-11") or quarters ("2026-Q4"); period_start and period_end
-- (inclusive) are their first and last days, as text YYYY-MM-DD so both
-- dialects compare them alike.
CREATE TABLE targets (
    id            text PRIMARY KEY,
    subject       text NOT NULL,
    territory_id  text REFERENCES territories(id),
    rep_id        text REFERENCES users(id),
    period        text NOT NULL,
    period_start  text NOT NULL,
    period_end    text NOT NULL,
    revenue_cents integer NOT NULL,
    visits        integer,
    new_accounts  integer,
    updated_by    text NOT NULL,
    version       integer NOT NULL,
    updated_at    datetime NOT NULL,
    CHECK ((territory_id IS NULL) <> (rep_id IS NULL))
);
CREATE UNIQUE INDEX targets_subject_period ON targets(subject, period);
CREATE INDEX targets_period ON targets(period_start, period_end);

-- Every change of a target: who, when, the values before (NULL for the
-- create) and after.
CREATE TABLE target_history (
    target_id         text NOT NULL REFERENCES targets(id),
    version           integer NOT NULL,
    changed_by        text NOT NULL,
    changed_at        datetime NOT NULL,
    old_revenue_cents integer,
    old_visits        integer,
    old_new_accounts  integer,
    new_revenue_cents integer NOT NULL,
    new_visits        integer,
    new_new_accounts  integer,
    PRIMARY KEY (target_id, version)
);

-- +goose Down
DROP TABLE target_history;
DROP TABLE targets;
