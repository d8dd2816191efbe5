-- +goose Up
-- The ERP's status import (docs/api.md, "ERP status import"): integration API
-- keys, the reports the ERP sent (idempotent by its reference), and who and
-- what an order's history entry records when the change came from the ERP.

-- api_keys: keys ops issue to integrations. Only the SHA-256 of the secret is
-- kept; the secret is shown once, when the key is created.
CREATE TABLE api_keys (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    prefix     text NOT NULL,
    key_hash   text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- erp_status_reports: one row per report the ERP made, by its reference. A
-- second report with the same reference is answered from here.
CREATE TABLE erp_status_reports (
    erp_ref       text PRIMARY KEY,
    order_id      uuid NOT NULL,
    status        text NOT NULL,
    shipped_at    timestamptz,
    delivered_at  timestamptz,
    api_key_id    uuid NOT NULL REFERENCES api_keys(id),
    order_version bigint NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX erp_status_reports_order ON erp_status_reports(order_id);

-- An ERP change has no user behind it: the history names the key, and keeps
-- the ERP's reference and the time the ERP says it happened.
ALTER TABLE order_events ADD COLUMN actor_name text;
ALTER TABLE order_events ADD COLUMN erp_ref text;
ALTER TABLE order_events ADD COLUMN reported_at timestamptz;

-- +goose Down
ALTER TABLE order_events DROP COLUMN reported_at;
ALTER TABLE order_events DROP COLUMN erp_ref;
ALTER TABLE order_events DROP COLUMN actor_name;
DROP TABLE erp_status_reports;
DROP TABLE api_keys;
