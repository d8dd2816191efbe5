-- +goose Up
-- Deleting a visit clears visit_id on the orders taken at it
-- (store/visitlinks.go): find them without scanning every order.
CREATE INDEX orders_visit ON orders(visit_id) WHERE visit_id IS NOT NULL;

-- +goose Down
DROP INDEX orders_visit;
