-- +goose Up
-- Postgres moved order numbers to a sequence in this version. SQLite keeps the
-- counter row: its single writer serialises submits, so the row is never a
-- point where two transactions wait for each other. Nothing changes here; the
-- version keeps both dialects at the same schema number.
SELECT 1;

-- +goose Down
SELECT 1;
