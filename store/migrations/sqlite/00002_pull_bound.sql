-- +goose Up
-- Postgres needs a pull bound function here (see the postgres migration); SQLite
-- has one writer at a time, so its sequence is already commit order. This keeps
-- both dialects at the same schema version.
SELECT 1;

-- +goose Down
SELECT 1;
