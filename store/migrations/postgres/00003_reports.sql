-- +goose Up
-- Reports over the whole organisation read a period of visits and orders by
-- time, not by account: these ranges hold the period's rows (and the columns the
-- reports group by), so a coverage report reads an index range instead of the
-- whole visits table. Scoped reports keep using the per-account indexes of 00001.
CREATE INDEX visits_checked_in_time ON visits(checked_in_at, account_id, rep_id) WHERE status = 'completed';
CREATE INDEX visits_planned_time ON visits(planned_at, account_id, rep_id);
CREATE INDEX orders_submitted_time ON orders(submitted_at, account_id, rep_id, status, total_cents)
    WHERE submitted_at IS NOT NULL;

-- +goose Down
DROP INDEX orders_submitted_time;
DROP INDEX visits_planned_time;
DROP INDEX visits_checked_in_time;
