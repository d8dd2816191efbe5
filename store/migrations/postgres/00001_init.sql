-- +goose Up
CREATE TABLE territories (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    parent_id  uuid REFERENCES territories(id),
    version    bigint NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX territories_parent ON territories(parent_id);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    name          text NOT NULL,
    role          text NOT NULL,
    password_hash text NOT NULL,
    version       bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE user_territories (
    user_id      uuid NOT NULL REFERENCES users(id),
    territory_id uuid NOT NULL REFERENCES territories(id),
    PRIMARY KEY (user_id, territory_id)
);
CREATE INDEX user_territories_territory ON user_territories(territory_id);

-- Assignment history answers "was this account in that rep's scope within the
-- last 30 days" for writes that lost their scope.
CREATE TABLE user_territory_history (
    user_id      uuid NOT NULL,
    territory_id uuid NOT NULL,
    valid_from   timestamptz NOT NULL,
    valid_to     timestamptz
);
CREATE INDEX user_territory_history_user ON user_territory_history(user_id, territory_id);

CREATE TABLE products (
    id               uuid PRIMARY KEY,
    sku              text NOT NULL UNIQUE,
    name             text NOT NULL,
    unit_price_cents bigint NOT NULL,
    currency         text NOT NULL,
    active           boolean NOT NULL,
    version          bigint NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE accounts (
    id             uuid PRIMARY KEY,
    name           text NOT NULL,
    territory_id   uuid NOT NULL REFERENCES territories(id),
    owner_id       uuid REFERENCES users(id),
    class          text NOT NULL,
    status         text NOT NULL,
    address        text,
    phone          text,
    email          text,
    lat            double precision,
    lng            double precision,
    field_versions text NOT NULL DEFAULT '{}',
    version        bigint NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX accounts_territory ON accounts(territory_id, status);
CREATE INDEX accounts_owner ON accounts(owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE account_history (
    account_id   uuid NOT NULL,
    territory_id uuid NOT NULL,
    owner_id     uuid,
    valid_from   timestamptz NOT NULL,
    valid_to     timestamptz
);
CREATE INDEX account_history_account ON account_history(account_id, valid_to);

CREATE TABLE visits (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL REFERENCES accounts(id),
    rep_id              uuid NOT NULL REFERENCES users(id),
    status              text NOT NULL,
    planned_at          timestamptz NOT NULL,
    checked_in_at       timestamptz,
    checked_out_at      timestamptz,
    check_in_lat        double precision,
    check_in_lng        double precision,
    check_in_distance_m double precision,
    outcome             text,
    report              text,
    field_versions      text NOT NULL DEFAULT '{}',
    version             bigint NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX visits_account ON visits(account_id);
CREATE INDEX visits_rep_planned ON visits(rep_id, planned_at);
CREATE INDEX visits_completed ON visits(account_id, checked_in_at) WHERE status = 'completed';

CREATE TABLE orders (
    id             uuid PRIMARY KEY,
    number         text UNIQUE,
    account_id     uuid NOT NULL REFERENCES accounts(id),
    rep_id         uuid NOT NULL REFERENCES users(id),
    visit_id       uuid,
    status         text NOT NULL,
    lines          text NOT NULL DEFAULT '[]',
    total_cents    bigint NOT NULL DEFAULT 0,
    currency       text NOT NULL,
    note           text,
    reason         text,
    submitted_at   timestamptz,
    field_versions text NOT NULL DEFAULT '{}',
    version        bigint NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX orders_account ON orders(account_id);
CREATE INDEX orders_status ON orders(status, submitted_at);
CREATE INDEX orders_rep ON orders(rep_id, submitted_at);

CREATE TABLE account_notes (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts(id),
    author_id      uuid NOT NULL REFERENCES users(id),
    body           text NOT NULL,
    conflict_of    uuid,
    field_versions text NOT NULL DEFAULT '{}',
    version        bigint NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX account_notes_account ON account_notes(account_id);

-- Human-readable order numbers: one counter row, locked to commit by the submit
-- that takes the next value, so numbers are unique across the organisation.
CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO counters(name, value) VALUES ('order_number', 0);

-- The change log: one live entry per (row, scope key). A write replaces the
-- row's entries, so the log holds the latest state of each row plus tombstones.
-- xid is the writing transaction: pulls deliver only entries below the snapshot's
-- xmin, ordered by (xid, seq), so an entry can never appear behind a cursor.
CREATE TABLE change_log (
    seq        bigserial PRIMARY KEY,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    tbl        text NOT NULL,
    row_id     uuid NOT NULL,
    scope_key  text NOT NULL,
    op         text NOT NULL,
    reason     text,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX change_log_row_key ON change_log(tbl, row_id, scope_key);
CREATE INDEX change_log_scope_pos ON change_log(scope_key, xid, seq);
CREATE INDEX change_log_pos ON change_log(xid, seq);

-- Scope snapshots: a cursor names the scope it was issued for, so a pull can see
-- that the user's scope changed and send deletes and snapshots for the difference.
CREATE TABLE sync_scopes (
    id          bigserial PRIMARY KEY,
    user_id     uuid NOT NULL,
    fingerprint text NOT NULL,
    scope       text NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (user_id, fingerprint)
);

-- Positions at or before the horizon may have lost tombstones to compaction;
-- cursors behind it get a reset.
CREATE TABLE sync_horizon (
    id  integer PRIMARY KEY,
    xid bigint NOT NULL,
    seq bigint NOT NULL
);
INSERT INTO sync_horizon(id, xid, seq) VALUES (1, 0, 0);

CREATE TABLE devices (
    user_id      uuid NOT NULL REFERENCES users(id),
    device_id    text NOT NULL,
    device_name  text,
    created_at   timestamptz NOT NULL,
    last_pull_at timestamptz,
    last_push_at timestamptz,
    pending      bigint,
    revoked_at   timestamptz,
    PRIMARY KEY (user_id, device_id)
);
CREATE INDEX devices_device ON devices(device_id);

CREATE TABLE tokens (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users(id),
    device_id  text NOT NULL,
    kind       text NOT NULL,
    csrf       text,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX tokens_device ON tokens(device_id);
CREATE INDEX tokens_user ON tokens(user_id);

-- Idempotency: the stored result of every mutation a device pushed.
CREATE TABLE push_results (
    user_id     uuid NOT NULL,
    device_id   text NOT NULL,
    mutation_id uuid NOT NULL,
    result      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, device_id, mutation_id)
);

CREATE TABLE conflicts (
    id           uuid PRIMARY KEY,
    tbl          text NOT NULL,
    row_id       uuid NOT NULL,
    account_id   uuid,
    territory_id uuid,
    status       text NOT NULL,
    reason       text NOT NULL,
    user_id      uuid NOT NULL,
    device_id    text NOT NULL,
    device_row   text NOT NULL,
    server_row   text,
    resolution   text,
    resolved_by  uuid,
    resolved_at  timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE INDEX conflicts_status ON conflicts(status, created_at);
CREATE INDEX conflicts_territory ON conflicts(territory_id, status);
CREATE INDEX conflicts_user ON conflicts(user_id, status);

-- +goose Down
DROP TABLE conflicts, push_results, tokens, devices, sync_horizon, sync_scopes,
    change_log, counters, account_notes, orders, visits, account_history, accounts,
    products, user_territory_history, user_territories, users, territories;
