-- +goose Up
-- Postgres keeps the failed-login counts in a table shared by every server
-- instance (00011 there). SQLite is served by one process only (fieldsync
-- serve takes a lock file beside the database), which keeps them in memory:
-- nothing to create. The version exists so both dialects number alike.
SELECT 1;

-- +goose Down
SELECT 1;
