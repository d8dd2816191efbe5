-- +goose Up
-- The WatermelonDB adapter (docs/protocol.md, "The WatermelonDB adapter").
-- WatermelonDB keeps a number (lastPulledAt) where the engine has an opaque
-- cursor: each cursor a WatermelonDB pull answers with is stored here once and
-- its id is the number the app keeps. The same cursor gets the same number, so
-- idle pulls add no rows.
CREATE TABLE watermelon_cursors (
    id          bigserial PRIMARY KEY,
    user_id     uuid NOT NULL,
    cursor_hash text NOT NULL,
    cursor      text NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (user_id, cursor_hash)
);

-- Rows a device must be sent again on its next WatermelonDB pull because a push
-- did not leave them as the device holds them: a rejected create (deleted on
-- the device), a rejected delete (restored), a conflict or merge that wrote
-- nothing the log would carry (the server row). sent_number is the pull
-- answer that last carried the row: it is forgotten once the device pulls
-- from that number (WatermelonDB stores a number only with its answer
-- applied), and sent again until then.
CREATE TABLE watermelon_pending (
    user_id    uuid NOT NULL,
    device_id  text NOT NULL,
    tbl        text NOT NULL,
    row_id     text NOT NULL,
    kind       text NOT NULL,
    sent_number bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, device_id, tbl, row_id)
);

-- Per device, the last pull's number and the number that pull started from:
-- a push at that number is based on what the device held at the start of the
-- pull, since WatermelonDB merges pulled rows into its unpushed edits.
CREATE TABLE watermelon_devices (
    user_id     uuid NOT NULL,
    device_id   text NOT NULL,
    last_number bigint NOT NULL,
    from_number bigint NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Per device and row, the version its own latest push left the row at: a
-- change after the device's last pull that is the device's own is no
-- concurrent edit.
CREATE TABLE watermelon_known (
    user_id   uuid NOT NULL,
    device_id text NOT NULL,
    tbl       text NOT NULL,
    row_id    text NOT NULL,
    version   bigint NOT NULL,
    PRIMARY KEY (user_id, device_id, tbl, row_id)
);
