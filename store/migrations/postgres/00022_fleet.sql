-- +goose Up
-- Several server instances share one Postgres (docs/operations.md). The
-- failed-login limits must count across all of them, so the counts live here
-- instead of in each process's memory: one row per limited key (an email or a
-- client address, prefixed by its kind), counting failures since first_at.
-- A row whose window has passed starts again at 1 on the next failure
-- (RecordLoginFailure's upsert) and is swept once its window has passed.
CREATE TABLE login_failures (
    key      text PRIMARY KEY,
    first_at timestamptz NOT NULL,
    failures integer NOT NULL
);
CREATE INDEX login_failures_first_at ON login_failures(first_at);

-- +goose Down
DROP TABLE login_failures;
