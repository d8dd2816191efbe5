-- +goose Up
CREATE TABLE territories (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    parent_id  text REFERENCES territories(id),
    version    integer NOT NULL,
    updated_at datetime NOT NULL
);
CREATE INDEX territories_parent ON territories(parent_id);

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    name          text NOT NULL,
    role          text NOT NULL,
    password_hash text NOT NULL,
    version       integer NOT NULL,
    created_at    datetime NOT NULL,
    updated_at    datetime NOT NULL
);

CREATE TABLE user_territories (
    user_id      text NOT NULL REFERENCES users(id),
    territory_id text NOT NULL REFERENCES territories(id),
    PRIMARY KEY (user_id, territory_id)
);
CREATE INDEX user_territories_territory ON user_territories(territory_id);

-- Assignment history answers "was this account in that rep's scope within the
-- last 30 days" for writes that lost their scope.
CREATE TABLE user_territory_history (
    user_id      text NOT NULL,
    territory_id text NOT NULL,
    valid_from   datetime NOT NULL,
    valid_to     datetime
);
CREATE INDEX user_territory_history_user ON user_territory_history(user_id, territory_id);

CREATE TABLE products (
    id               text PRIMARY KEY,
    sku              text NOT NULL UNIQUE,
    name             text NOT NULL,
    unit_price_cents integer NOT NULL,
    currency         text NOT NULL,
    active           integer NOT NULL,
    version          integer NOT NULL,
    updated_at       datetime NOT NULL
);

CREATE TABLE accounts (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    territory_id   text NOT NULL REFERENCES territories(id),
    owner_id       text REFERENCES users(id),
    class          text NOT NULL,
    status         text NOT NULL,
    address        text,
    phone          text,
    email          text,
    lat            real,
    lng            real,
    field_versions text NOT NULL DEFAULT '{}',
    version        integer NOT NULL,
    updated_at     datetime NOT NULL
);
CREATE INDEX accounts_territory ON accounts(territory_id, status);
CREATE INDEX accounts_owner ON accounts(owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE account_history (
    account_id   text NOT NULL,
    territory_id text NOT NULL,
    owner_id     text,
    valid_from   datetime NOT NULL,
    valid_to     datetime
);
CREATE INDEX account_history_account ON account_history(account_id, valid_to);

CREATE TABLE visits (
    id                  text PRIMARY KEY,
    account_id          text NOT NULL REFERENCES accounts(id),
    rep_id              text NOT NULL REFERENCES users(id),
    status              text NOT NULL,
    planned_at          datetime NOT NULL,
    checked_in_at       datetime,
    checked_out_at      datetime,
    check_in_lat        real,
    check_in_lng        real,
    check_in_distance_m real,
    outcome             text,
    report              text,
    field_versions      text NOT NULL DEFAULT '{}',
    version             integer NOT NULL,
    updated_at          datetime NOT NULL
);
CREATE INDEX visits_account ON visits(account_id);
CREATE INDEX visits_rep_planned ON visits(rep_id, planned_at);
CREATE INDEX visits_completed ON visits(account_id, checked_in_at) WHERE status = 'completed';

CREATE TABLE orders (
    id             text PRIMARY KEY,
    number         text UNIQUE,
    account_id     text NOT NULL REFERENCES accounts(id),
    rep_id         text NOT NULL REFERENCES users(id),
    visit_id       text,
    status         text NOT NULL,
    lines          text NOT NULL DEFAULT '[]',
    total_cents    integer NOT NULL DEFAULT 0,
    currency       text NOT NULL,
    note           text,
    reason         text,
    submitted_at   datetime,
    field_versions text NOT NULL DEFAULT '{}',
    version        integer NOT NULL,
    updated_at     datetime NOT NULL
);
CREATE INDEX orders_account ON orders(account_id);
CREATE INDEX orders_status ON orders(status, submitted_at);
CREATE INDEX orders_rep ON orders(rep_id, submitted_at);

CREATE TABLE account_notes (
    id             text PRIMARY KEY,
    account_id     text NOT NULL REFERENCES accounts(id),
    author_id      text NOT NULL REFERENCES users(id),
    body           text NOT NULL,
    conflict_of    text,
    field_versions text NOT NULL DEFAULT '{}',
    version        integer NOT NULL,
    updated_at     datetime NOT NULL
);
CREATE INDEX account_notes_account ON account_notes(account_id);

-- Human-readable order numbers: one counter row, locked to commit by the submit
-- that takes the next value, so numbers are unique across the organisation.
CREATE TABLE counters (
    name  text PRIMARY KEY,
    value integer NOT NULL
);
INSERT INTO counters(name, value) VALUES ('order_number', 0);

-- The change log: one live entry per (row, scope key). A write replaces the
-- row's entries, so the log holds the latest state of each row plus tombstones.
-- SQLite has one writer at a time, so seq order is commit order and xid stays 0.
-- AUTOINCREMENT: a deleted entry's seq is never handed out again, which a cursor
-- positioned on it would otherwise skip.
CREATE TABLE change_log (
    seq        integer PRIMARY KEY AUTOINCREMENT,
    xid        integer NOT NULL DEFAULT 0,
    tbl        text NOT NULL,
    row_id     text NOT NULL,
    scope_key  text NOT NULL,
    op         text NOT NULL,
    reason     text,
    version    integer NOT NULL,
    created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX change_log_row_key ON change_log(tbl, row_id, scope_key);
CREATE INDEX change_log_scope_pos ON change_log(scope_key, xid, seq);
CREATE INDEX change_log_pos ON change_log(xid, seq);

-- Scope snapshots: a cursor names the scope it was issued for, so a pull can see
-- that the user's scope changed and send deletes and snapshots for the difference.
CREATE TABLE sync_scopes (
    id          integer PRIMARY KEY AUTOINCREMENT,
    user_id     text NOT NULL,
    fingerprint text NOT NULL,
    scope       text NOT NULL,
    created_at  datetime NOT NULL,
    UNIQUE (user_id, fingerprint)
);

-- Positions at or before the horizon may have lost tombstones to compaction;
-- cursors behind it get a reset.
CREATE TABLE sync_horizon (
    id  integer PRIMARY KEY,
    xid integer NOT NULL,
    seq integer NOT NULL
);
INSERT INTO sync_horizon(id, xid, seq) VALUES (1, 0, 0);

CREATE TABLE devices (
    user_id      text NOT NULL REFERENCES users(id),
    device_id    text NOT NULL,
    device_name  text,
    created_at   datetime NOT NULL,
    last_pull_at datetime,
    last_push_at datetime,
    pending      integer,
    revoked_at   datetime,
    PRIMARY KEY (user_id, device_id)
);
CREATE INDEX devices_device ON devices(device_id);

CREATE TABLE tokens (
    token_hash text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users(id),
    device_id  text NOT NULL,
    kind       text NOT NULL,
    csrf       text,
    created_at datetime NOT NULL,
    expires_at datetime NOT NULL,
    revoked_at datetime
);
CREATE INDEX tokens_device ON tokens(device_id);
CREATE INDEX tokens_user ON tokens(user_id);

-- Idempotency: the stored result of every mutation a device pushed.
CREATE TABLE push_results (
    user_id     text NOT NULL,
    device_id   text NOT NULL,
    mutation_id text NOT NULL,
    result      text NOT NULL,
    created_at  datetime NOT NULL,
    PRIMARY KEY (user_id, device_id, mutation_id)
);

CREATE TABLE conflicts (
    id           text PRIMARY KEY,
    tbl          text NOT NULL,
    row_id       text NOT NULL,
    account_id   text,
    territory_id text,
    status       text NOT NULL,
    reason       text NOT NULL,
    user_id      text NOT NULL,
    device_id    text NOT NULL,
    device_row   text NOT NULL,
    server_row   text,
    resolution   text,
    resolved_by  text,
    resolved_at  datetime,
    created_at   datetime NOT NULL
);
CREATE INDEX conflicts_status ON conflicts(status, created_at);
CREATE INDEX conflicts_territory ON conflicts(territory_id, status);
CREATE INDEX conflicts_user ON conflicts(user_id, status);

-- +goose Down
DROP TABLE conflicts;
DROP TABLE push_results;
DROP TABLE tokens;
DROP TABLE devices;
DROP TABLE sync_horizon;
DROP TABLE sync_scopes;
DROP TABLE change_log;
DROP TABLE counters;
DROP TABLE account_notes;
DROP TABLE orders;
DROP TABLE visits;
DROP TABLE account_history;
DROP TABLE accounts;
DROP TABLE products;
DROP TABLE user_territory_history;
DROP TABLE user_territories;
DROP TABLE users;
DROP TABLE territories;
