-- +goose Up
-- The order desk (docs/api.md, "Order desk"): every change to an order, written
-- in the transaction of the change, and the outbox of the ERP webhooks.

-- order_events: one row per write to an order (create, edit, status change,
-- resolution), with who made it and from where. No foreign key to orders: a
-- deleted draft keeps its history.
CREATE TABLE order_events (
    id          text PRIMARY KEY,
    order_id    text NOT NULL,
    version     bigint NOT NULL,
    kind        text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    fields      text NOT NULL DEFAULT '[]',
    reason      text,
    actor_id    text,
    actor_role  text,
    device_id   text,
    via         text NOT NULL,
    conflict_id text,
    at          datetime NOT NULL
);
CREATE INDEX order_events_order ON order_events(order_id, at);

-- webhook_endpoints: where ops send order and conflict events (the ERP).
CREATE TABLE webhook_endpoints (
    id          text PRIMARY KEY,
    url         text NOT NULL,
    secret      text NOT NULL,
    event_types text NOT NULL DEFAULT '[]',
    description text NOT NULL DEFAULT '',
    active      integer NOT NULL DEFAULT 1,
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL
);

-- webhook_events: the outbox. seq orders the events of one subject (an order,
-- a conflict) for delivery.
CREATE TABLE webhook_events (
    seq        integer PRIMARY KEY AUTOINCREMENT,
    id         text NOT NULL UNIQUE,
    type       text NOT NULL,
    subject    text NOT NULL,
    payload    text NOT NULL,
    created_at datetime NOT NULL
);

-- webhook_deliveries: one per event and endpoint, fanned out in the
-- transaction of the event; claimed with FOR UPDATE SKIP LOCKED and a lease.
CREATE TABLE webhook_deliveries (
    id              integer PRIMARY KEY AUTOINCREMENT,
    event_seq       bigint NOT NULL REFERENCES webhook_events(seq),
    endpoint_id     text NOT NULL REFERENCES webhook_endpoints(id),
    subject         text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at datetime NOT NULL,
    lease_until     datetime,
    last_error      text,
    last_status     integer,
    delivered_at    datetime,
    created_at      datetime NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries(endpoint_id, subject, event_seq);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
DROP TABLE order_events;
