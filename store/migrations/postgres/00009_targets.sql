-- +goose Up
-- Sales targets (docs/api.md "Targets"): one row per subject and period. The
-- subject is a territory or a rep, never both; `subject` ("t:<id>" or
-- "r:<id>") makes one target per subject and period unique. Periods are whole
-- months ("2026-11") or quarters ("2026-Q4"); period_start and period_end
-- (inclusive) are their first and last days, as text YYYY-MM-DD so both
-- dialects compare them alike.
CREATE TABLE targets (
    id            uuid PRIMARY KEY,
    subject       text NOT NULL,
    territory_id  uuid REFERENCES territories(id),
    rep_id        uuid REFERENCES users(id),
    period        text NOT NULL,
    period_start  text NOT NULL,
    period_end    text NOT NULL,
    revenue_cents bigint NOT NULL,
    visits        bigint,
    new_accounts  bigint,
    updated_by    uuid NOT NULL,
    version       bigint NOT NULL,
    updated_at    timestamptz NOT NULL,
    CHECK ((territory_id IS NULL) <> (rep_id IS NULL))
);
CREATE UNIQUE INDEX targets_subject_period ON targets(subject, period);
CREATE INDEX targets_period ON targets(period_start, period_end);

-- Every change of a target: who, when, the values before (NULL for the
-- create) and after.
CREATE TABLE target_history (
    target_id         uuid NOT NULL REFERENCES targets(id),
    version           bigint NOT NULL,
    changed_by        uuid NOT NULL,
    changed_at        timestamptz NOT NULL,
    old_revenue_cents bigint,
    old_visits        bigint,
    old_new_accounts  bigint,
    new_revenue_cents bigint NOT NULL,
    new_visits        bigint,
    new_new_accounts  bigint,
    PRIMARY KEY (target_id, version)
);

-- +goose Down
DROP TABLE target_history;
DROP TABLE targets;
