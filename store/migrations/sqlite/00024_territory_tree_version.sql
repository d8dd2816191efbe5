-- +goose Up
-- See the Postgres migration: a counter bumped by every write to territories,
-- so a server may keep the territory tree between requests (store.TreeCache).
-- SQLite has row triggers only: a statement writing many territories bumps it
-- once per row, which is as good.
CREATE TABLE territory_tree_version (version INTEGER NOT NULL);
INSERT INTO territory_tree_version (version) VALUES (1);

-- +goose StatementBegin
CREATE TRIGGER territory_tree_inserted AFTER INSERT ON territories BEGIN
    UPDATE territory_tree_version SET version = version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER territory_tree_updated AFTER UPDATE ON territories BEGIN
    UPDATE territory_tree_version SET version = version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER territory_tree_deleted AFTER DELETE ON territories BEGIN
    UPDATE territory_tree_version SET version = version + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER territory_tree_deleted;
DROP TRIGGER territory_tree_updated;
DROP TRIGGER territory_tree_inserted;
DROP TABLE territory_tree_version;
