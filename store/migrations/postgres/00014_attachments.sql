-- +goose Up
-- Attachment metadata rows: synced like visits, orders and notes, under the
-- scope keys of account_id (the parent's account). The parent is a visit, an
-- order or a note (parent_table), so it has no foreign key; deleting a parent
-- deletes its attachments in the same transaction (store/attachments.go).
CREATE TABLE attachments (
    id           uuid PRIMARY KEY,
    parent_table text NOT NULL,
    parent_id    uuid NOT NULL,
    account_id   uuid NOT NULL REFERENCES accounts(id),
    kind         text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    sha256       text NOT NULL,
    captured_at  timestamptz,
    captured_lat double precision,
    captured_lng double precision,
    caption      text,
    uploader_id  uuid NOT NULL REFERENCES users(id),
    device_id    text NOT NULL,
    status       text NOT NULL,
    version      bigint NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX attachments_parent ON attachments(parent_table, parent_id, kind);
CREATE INDEX attachments_account ON attachments(account_id);
CREATE INDEX attachments_sha256 ON attachments(sha256);
CREATE INDEX attachments_pending ON attachments(uploader_id, device_id) WHERE status = 'pending';

-- Stored blobs, content-addressed by the sha256 of the bytes the device sent
-- (the rows' sha256). stored_sha256 and stored_size describe what is kept
-- after metadata stripping (the ETag). orphaned_at is set when the last
-- attachment naming the blob is deleted; compact removes the blob after the
-- retention.
CREATE TABLE attachment_blobs (
    sha256        text PRIMARY KEY,
    content_type  text NOT NULL,
    stored_size   bigint NOT NULL,
    stored_sha256 text NOT NULL,
    has_thumb     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    orphaned_at   timestamptz
);
CREATE INDEX attachment_blobs_orphaned ON attachment_blobs(orphaned_at) WHERE orphaned_at IS NOT NULL;

-- +goose Down
DROP TABLE attachment_blobs;
DROP TABLE attachments;
