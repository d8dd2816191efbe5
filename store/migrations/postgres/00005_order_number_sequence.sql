-- +goose Up
-- Order numbers come from a sequence instead of the counter row: the row was
-- locked from a submit to its commit, so concurrent pushes that submitted orders
-- queued on it mid-transaction and deadlocked against the account and row locks
-- they took around it. nextval takes no lock that lasts; numbers stay unique and
-- increasing, and a rolled-back submit leaves a gap (docs/api.md).
CREATE SEQUENCE order_number_seq AS bigint MINVALUE 1;
SELECT setval('order_number_seq', greatest(value, 1), value > 0) FROM counters WHERE name = 'order_number';
DELETE FROM counters WHERE name = 'order_number';

-- +goose Down
INSERT INTO counters(name, value)
SELECT 'order_number', CASE WHEN is_called THEN last_value ELSE 0 END FROM order_number_seq;
DROP SEQUENCE order_number_seq;
