-- +goose Up
-- The dashboard lists the visits whose attachments were stored most
-- recently: an index in that order keeps it from sorting every attachment.
CREATE INDEX attachments_recent ON attachments(parent_table, status, updated_at);

-- +goose Down
DROP INDEX attachments_recent;
